/** Block Kit messages and the justification modal, drawn as Slack would, with working buttons. */
import { clear, el, isObject } from '/assets/shared/dom.js';
import { act, api, showError } from './sandbox-api.js';
import type { InteractionAnswer, SandboxMessage, SandboxUser, SandboxView } from './sandbox-types.js';
import { emojiText, textObject, textOf } from './slack-text.js';

/** Where a person can click: their DM. Null for read-only messages (the security channel). */
interface ClickContext {
  userId: string;
  channel: string;
  ts: string;
}

export interface PageContext {
  refresh: () => Promise<void>;
  /** Unsent modal text, keyed by view id and input action id. */
  drafts: Map<string, string>;
  /** Modals the person closed here; the service is not told, as Slack would not need to be. */
  dismissed: Set<string>;
}

export function timeText(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function renderBlock(block: unknown, click: ClickContext | null, page: PageContext): HTMLElement | null {
  if (!isObject(block)) return null;
  switch (block.type) {
    case 'header':
      return el('div', { className: 'block block-header', role: 'heading', 'aria-level': '4', text: emojiText(textOf(block.text)) });
    case 'section': {
      const section = el('div', { className: 'block block-section' });
      if (isObject(block.text)) section.appendChild(textObject(block.text, 'block-text'));
      if (Array.isArray(block.fields)) {
        const fields = el('div', { className: 'block-fields' });
        for (const field of block.fields) fields.appendChild(textObject(field, 'block-field'));
        section.appendChild(fields);
      }
      return section;
    }
    case 'context': {
      const context = el('div', { className: 'block block-context' });
      for (const element of Array.isArray(block.elements) ? block.elements : []) {
        if (isObject(element) && (element.type === 'mrkdwn' || element.type === 'plain_text')) context.appendChild(textObject(element, 'context-item'));
      }
      return context;
    }
    case 'divider':
      return el('hr', { className: 'block-divider' });
    case 'actions':
      return renderActions(block, click, page);
    default:
      return null;
  }
}

function renderActions(block: Record<string, unknown>, click: ClickContext | null, page: PageContext): HTMLElement {
  const row = el('div', { className: 'block block-actions' });
  const buttons: HTMLButtonElement[] = [];
  for (const element of Array.isArray(block.elements) ? block.elements : []) {
    if (!isObject(element) || element.type !== 'button' || typeof element.action_id !== 'string') continue;
    const actionId = element.action_id;
    const style = element.style === 'primary' ? ' primary' : element.style === 'danger' ? ' danger' : '';
    const button = el('button', { type: 'button', className: `button${style}`, text: textOf(element.text) || actionId, 'data-action-id': actionId, disabled: click === null });
    if (click !== null) {
      button.addEventListener('click', () => {
        void act(buttons, async () => {
          const answer = await api<InteractionAnswer>('click', { ...click, actionId });
          if (answer.status !== 200) showError(`The service answered the click with HTTP ${answer.status}.`);
        }, page.refresh);
      });
    }
    buttons.push(button);
    row.appendChild(button);
  }
  return row;
}

function renderMessage(message: SandboxMessage, userId: string | null, page: PageContext): HTMLElement {
  const click = userId === null ? null : { userId, channel: message.channel, ts: message.ts };
  const main = el('div', { className: 'message-main' }, [
    el('div', { className: 'message-meta' }, [
      el('span', { className: 'message-author', text: 'Vouch' }),
      el('span', { className: 'app-badge', text: 'APP' }),
      el('time', { className: 'message-time', datetime: message.postedAt, text: timeText(message.postedAt) }),
      message.edited ? el('span', { className: 'edited', text: '(edited)' }) : null,
    ]),
  ]);
  const blocks = Array.isArray(message.blocks) ? message.blocks : [];
  if (blocks.length === 0) main.appendChild(textObject({ type: 'mrkdwn', text: message.text }, 'block block-text'));
  for (const block of blocks) {
    const node = renderBlock(block, click, page);
    if (node) main.appendChild(node);
  }
  return el('article', { className: `message${message.threadTs ? ' in-thread' : ''}`, 'data-ts': message.ts, 'aria-label': `Message from Vouch at ${timeText(message.postedAt)}` }, [
    el('div', { className: 'avatar bot', 'aria-hidden': 'true', text: 'V' }),
    main,
  ]);
}

export function renderMessages(container: HTMLElement, messages: readonly SandboxMessage[], userId: string | null, emptyText: string, page: PageContext): void {
  clear(container);
  if (messages.length === 0) {
    container.appendChild(el('p', { className: 'empty', text: emptyText }));
    return;
  }
  for (const message of messages) container.appendChild(renderMessage(message, userId, page));
  container.scrollTop = container.scrollHeight;
}

interface ViewInput {
  actionId: string;
  node: HTMLInputElement | HTMLTextAreaElement;
}

/** The open modal, if any; a half-typed reason, the focus and the selection survive re-rendering. */
export function renderView(container: HTMLElement, user: SandboxUser, page: PageContext): void {
  const view = user.view;
  const previous = container.querySelector<HTMLInputElement | HTMLTextAreaElement>('textarea, input');
  const hadFocus = previous !== null && document.activeElement === previous;
  const selection = hadFocus && previous ? [previous.selectionStart, previous.selectionEnd] : null;
  clear(container);
  if (!view || page.dismissed.has(view.id)) return;
  const titleId = `view-title-${view.id}`;
  const body = el('div', { className: 'modal-body' });
  const inputs: ViewInput[] = [];
  for (const block of view.blocks) {
    if (isObject(block) && block.type === 'input') body.appendChild(renderInput(view, block, inputs, page));
    else {
      const node = renderBlock(block, null, page);
      if (node) body.appendChild(node);
    }
  }
  const submit = el('button', { type: 'button', className: 'button primary', text: view.submit });
  const cancel = el('button', { type: 'button', className: 'button', text: view.close });
  cancel.addEventListener('click', () => {
    page.dismissed.add(view.id);
    renderView(container, user, page);
  });
  submit.addEventListener('click', () => {
    const reason = inputs.find((input) => input.actionId === 'reason');
    void act([submit, cancel], async () => {
      const answer = await api<InteractionAnswer>('submit', { userId: user.id, viewId: view.id, reason: reason ? reason.node.value : '' });
      if (answer.status !== 200) showError(`The service answered the form with HTTP ${answer.status}.`);
    }, page.refresh);
  });
  container.appendChild(
    el('div', { className: 'modal', role: 'dialog', 'aria-labelledby': titleId, 'data-view-id': view.id }, [
      el('div', { className: 'modal-head' }, [el('h3', { id: titleId, text: view.title })]),
      body,
      el('div', { className: 'modal-foot' }, [cancel, submit]),
    ]),
  );
  const focusTarget = inputs[0]?.node ?? null;
  if (hadFocus && focusTarget) {
    focusTarget.focus();
    if (selection) focusTarget.setSelectionRange(selection[0] ?? null, selection[1] ?? null);
  }
}

function renderInput(view: SandboxView, block: Record<string, unknown>, inputs: ViewInput[], page: PageContext): HTMLElement {
  const element = isObject(block.element) ? block.element : {};
  const actionId = typeof element.action_id === 'string' ? element.action_id : 'value';
  const blockId = typeof block.block_id === 'string' ? block.block_id : actionId;
  const inputId = `input-${view.id}-${actionId}`;
  const draftKey = `${view.id}:${actionId}`;
  const error = view.errors && typeof view.errors[blockId] === 'string' ? view.errors[blockId] : null;
  const errorId = `${inputId}-error`;
  const hintId = `${inputId}-hint`;
  const hint = textOf(block.hint);
  const props = {
    id: inputId,
    name: actionId,
    placeholder: textOf(element.placeholder) || null,
    'aria-invalid': error ? 'true' : null,
    'aria-describedby': [error ? errorId : '', hint ? hintId : ''].join(' ').trim() || null,
  };
  const node = element.multiline ? el('textarea', props) : el('input', { ...props, type: 'text' });
  node.value = page.drafts.get(draftKey) ?? '';
  node.addEventListener('input', () => page.drafts.set(draftKey, node.value));
  inputs.push({ actionId, node });
  return el('div', { className: 'input-block' }, [
    el('label', { for: inputId, text: emojiText(textOf(block.label)) }),
    node,
    hint ? el('div', { id: hintId, className: 'input-hint', text: emojiText(hint) }) : null,
    error ? el('div', { id: errorId, className: 'field-error', role: 'alert', text: error }) : null,
  ]);
}
