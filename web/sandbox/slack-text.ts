/**
 * Slack mrkdwn shown as text with light formatting: inline code, bold, italics, code blocks and
 * quotes become elements, everything else text nodes. Nothing is ever parsed as HTML.
 */
import { el, isObject } from '/assets/shared/dom.js';

const EMOJI: Record<string, string> = {
  bell: '\u{1F514}', hourglass_flowing_sand: '\u23F3', iphone: '\u{1F4F1}', white_check_mark: '\u2705',
  rotating_light: '\u{1F6A8}', alarm_clock: '\u23F0', white_circle: '\u26AA', large_yellow_circle: '\u{1F7E1}',
  large_orange_circle: '\u{1F7E0}', red_circle: '\u{1F534}', warning: '\u26A0\uFE0F', lock: '\u{1F512}',
};

export function textOf(value: unknown): string {
  return isObject(value) && typeof value.text === 'string' ? value.text : '';
}

/** Slack's escapes and special tokens turned into the text Slack would show. */
export function slackText(raw: string): string {
  const withTokens = raw.replace(/<([^<>]*)>/g, (_match, inner: string) => {
    const date = /^!date\^(\d+)\^[^|]*\|(.*)$/.exec(inner);
    if (date) return new Date(Number(date[1]) * 1000).toLocaleString();
    const bar = inner.indexOf('|');
    const target = bar === -1 ? inner : inner.slice(0, bar);
    const label = bar === -1 ? '' : inner.slice(bar + 1);
    if (target.startsWith('!')) return `@${label || (target.slice(1).split('^')[0] ?? '')}`;
    if (target.startsWith('@')) return `@${label || target.slice(1)}`;
    if (target.startsWith('#')) return `#${label || target.slice(1)}`;
    return label || target;
  });
  const decoded = withTokens.replace(/&(lt|gt|amp);/g, (_match, name: string) => (name === 'lt' ? '<' : name === 'gt' ? '>' : '&'));
  return emojiText(decoded);
}

/** plain_text is shown as written, apart from emoji shortcodes. */
export function emojiText(raw: string): string {
  return raw.replace(/:([a-z0-9_+-]+):/g, (match, name: string) => EMOJI[name] ?? match);
}

/** Inline code, bold and italic become elements; everything else is a text node. */
function appendInline(parent: HTMLElement, raw: string): void {
  const pattern = /`([^`\n]+)`|\*([^*\n]+)\*|(^|[\s(])_([^_\n]+)_(?=$|[\s.,;:!?)])/g;
  let last = 0;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(raw)) !== null) {
    const textEnd = match.index + (match[3] ? match[3].length : 0);
    parent.appendChild(document.createTextNode(slackText(raw.slice(last, textEnd))));
    if (match[1] !== undefined) parent.appendChild(el('code', { className: 'inline', text: slackText(match[1]) }));
    else if (match[2] !== undefined) parent.appendChild(el('strong', { text: slackText(match[2]) }));
    else parent.appendChild(el('em', { text: slackText(match[4] ?? '') }));
    last = pattern.lastIndex;
  }
  parent.appendChild(document.createTextNode(slackText(raw.slice(last))));
}

/** Renders mrkdwn into parent: code blocks, quotes and lines. */
function appendMrkdwn(parent: HTMLElement, raw: string): void {
  raw.split('```').forEach((part, index) => {
    if (index % 2 === 1) {
      parent.appendChild(el('pre', { className: 'code', text: slackText(part) }));
      return;
    }
    const lines = part.split('\n');
    let quote: HTMLElement | null = null;
    lines.forEach((line, lineIndex) => {
      if (line === '' && (lineIndex === 0 || lineIndex === lines.length - 1)) return;
      if (line.startsWith('>')) {
        if (!quote) {
          quote = el('div', { className: 'mrkdwn-quote' });
          parent.appendChild(quote);
        } else quote.appendChild(document.createTextNode('\n'));
        appendInline(quote, line.slice(1));
        return;
      }
      quote = null;
      const div = el('div', { className: 'mrkdwn-line' });
      appendInline(div, line);
      parent.appendChild(div);
    });
  });
}

/** A Block Kit text object (mrkdwn or plain_text) as an element of `className`. */
export function textObject(object: unknown, className: string): HTMLElement {
  const node = el('div', { className });
  if (!isObject(object)) return node;
  if (object.type === 'mrkdwn') appendMrkdwn(node, textOf(object));
  else node.textContent = emojiText(textOf(object));
  return node;
}
