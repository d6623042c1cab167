/**
 * HTML built by a tagged template that escapes every interpolated value unless it is already
 * Html (built the same way). Values pass through the shared sanitiser first, so a command's
 * control, bidi and zero-width characters show as visible escapes instead of reordering the page.
 * Forgetting to escape takes effort: the only way to put raw markup in is `trustedHtml()`, for
 * constants written in this codebase.
 */
import { visibleText } from '../../terminal-text.js';

export class Html {
  /** Use html`...` or trustedHtml(); never construct from outside data. */
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for element content and quoted attribute values, in one pass. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ENTITIES[char] ?? char);
}

/** Text a person or a log wrote, made visible and escaped; line breaks kept (CSS decides). */
export function textHtml(text: string): string {
  return escapeHtml(visibleText(text, { keepLineBreaks: true }));
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.markup;
  if (Array.isArray(value)) return value.map(render).join('');
  return textHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let markup = strings[0] ?? '';
  values.forEach((value, index) => {
    markup += render(value) + (strings[index + 1] ?? '');
  });
  return new Html(markup);
}

/** Markup written in this codebase (an SVG path computed from numbers); never outside text. */
export function trustedHtml(markup: string): Html {
  return new Html(markup);
}

/** A query string from parameters, dropping empty ones; `&` is escaped when interpolated. */
export function queryString(params: Record<string, string | number | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== null && value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
