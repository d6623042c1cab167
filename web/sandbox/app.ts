/**
 * The sandbox page's script (served as /sandbox/app.js; the page's policy allows no inline code).
 *
 * It polls /sandbox/api/state once a second and re-renders only the parts whose data changed, so
 * a half-typed reason and the keyboard focus survive polling. Every string from the service, and
 * so every command line and reason, reaches the DOM through textContent or a text node; Slack
 * mrkdwn is shown as text with light formatting, never parsed as HTML.
 */
import { byId, clear, dateTimeText, el } from '/assets/shared/dom.js';
import { renderPhone } from './phone.js';
import { api, hideToast, showError } from './sandbox-api.js';
import type { ProgressNote, RunAnswer, SandboxAlert, SandboxDemo, SandboxState, SandboxUser } from './sandbox-types.js';
import { renderMessages, renderView, type PageContext } from './slack-messages.js';

const POLL_MS = 1000;

interface Card {
  dm: HTMLElement;
  view: HTMLElement;
  phone: HTMLElement;
}

/** Section key -> JSON of the data it was last rendered from. */
const rendered = new Map<string, string>();
/** userId -> the card's containers. */
const cards = new Map<string, Card>();
let polling = false;
let pollAgain = false;
let offline = false;

const page: PageContext = { refresh, drafts: new Map(), dismissed: new Set() };

function cardFor(user: SandboxUser): Card {
  const existing = cards.get(user.id);
  if (existing) return existing;
  const host = byId('engineer-cards');
  if (cards.size === 0) clear(host);
  const titleId = `engineer-${user.id}`;
  const card: Card = { dm: el('div', { className: 'message-list' }), view: el('div', { className: 'view-slot' }), phone: el('div', { className: 'phone-slot' }) };
  const initials = user.realName.split(/\s+/).map((part) => part.charAt(0)).join('').slice(0, 2).toUpperCase();
  host.appendChild(
    el('section', { className: 'engineer', 'aria-labelledby': titleId, 'data-user': user.name }, [
      el('div', { className: 'engineer-head' }, [
        el('div', { className: 'avatar', 'aria-hidden': 'true', text: initials }),
        el('div', { className: 'who' }, [el('h3', { id: titleId, text: user.realName }), el('span', { className: 'login', text: `@${user.name} \u00b7 Slack ${user.id}` })]),
      ]),
      el('div', { className: 'engineer-body' }, [el('div', { className: 'dm' }, [el('p', { className: 'dm-title', text: 'Direct message with Vouch' }), card.view, card.dm]), card.phone]),
    ]),
  );
  cards.set(user.id, card);
  return card;
}

/** Re-renders a section only when its data changed since the last render. */
function patch(key: string, data: unknown, draw: () => void): void {
  const json = JSON.stringify(data);
  if (rendered.get(key) === json) return;
  rendered.set(key, json);
  draw();
}

function renderUsers(users: readonly SandboxUser[]): void {
  if (users.length === 0) {
    patch('no-users', true, () => {
      clear(byId('engineer-cards'));
      byId('engineer-cards').appendChild(el('p', { className: 'empty', text: 'Nobody in the simulated Slack yet.' }));
    });
  }
  for (const user of users) {
    const card = cardFor(user);
    patch(`dm:${user.id}`, user.dm, () => renderMessages(card.dm, user.dm, user.id, 'No messages yet.', page));
    patch(`view:${user.id}`, { view: user.view, hidden: user.view ? page.dismissed.has(user.view.id) : false }, () => renderView(card.view, user, page));
    patch(`phone:${user.id}`, { device: user.device, pushes: user.pushes }, () => renderPhone(card.phone, user, page));
  }
}

function renderAlerts(alerts: readonly SandboxAlert[]): void {
  const body = byId('alerts-body');
  clear(body);
  if (alerts.length === 0) {
    body.appendChild(el('tr', {}, [el('td', { colspan: '8', className: 'empty', text: 'No alerts yet: the service reads the demo log within a few seconds.' })]));
    return;
  }
  for (const alert of alerts) {
    body.appendChild(
      el('tr', { 'data-alert-id': alert.id, 'data-status': alert.status }, [
        el('td', { text: dateTimeText(alert.occurredAt) }),
        el('td', { text: alert.owner === null ? 'system' : alert.owner }),
        el('td', { text: alert.host }),
        el('td', { className: 'command', text: alert.command }),
        el('td', { text: alert.rule }),
        el('td', {}, [el('span', { className: `status status-${alert.status}`, text: alert.status }), ' ', el('span', { className: 'short-code', title: 'The code its DM and Duo push show', text: alert.code })]),
        el('td', { text: alert.secondFactor || '\u2014' }),
        el('td', { className: 'progress' }, [renderNotes(alert.notes)]),
      ]),
    );
  }
}

/** The service's sentences about the alert, one per line, each marked with the fact it tells. */
function renderNotes(notes: readonly ProgressNote[]): HTMLElement {
  if (notes.length === 0) return el('span', { className: 'empty', text: '\u2014' });
  return el('ul', { className: 'notes' }, notes.map((note) => el('li', { className: `note note-${note.kind}`, 'data-note': note.kind, text: note.text })));
}

function render(state: SandboxState): void {
  renderUsers(state.users);
  patch('security', state.security, () => renderMessages(byId('security-messages'), state.security, null, 'Nothing escalated yet.', page));
  patch('alerts', state.alerts, () => renderAlerts(state.alerts));
}

async function refresh(): Promise<void> {
  if (polling) {
    pollAgain = true;
    return;
  }
  polling = true;
  try {
    const state = await api<SandboxState>('state');
    if (offline) {
      offline = false;
      hideToast();
    }
    render(state);
  } catch (error) {
    if (!offline) showError(`Lost contact with the service (${(error as Error).message}); still trying.`);
    offline = true;
  }
  polling = false;
  if (pollAgain) {
    pollAgain = false;
    void refresh();
  }
}

async function loop(): Promise<void> {
  await refresh();
  window.setTimeout(() => void loop(), POLL_MS);
}

function setUpRunForm(demo: SandboxDemo): void {
  const login = byId<HTMLSelectElement>('run-login');
  const preset = byId<HTMLSelectElement>('run-preset');
  const command = byId<HTMLInputElement>('run-command');
  const host = byId<HTMLInputElement>('run-host');
  const asRoot = byId<HTMLInputElement>('run-root');
  for (const person of demo.people) {
    const note = person.hasChat ? '' : ', no Slack account';
    login.appendChild(el('option', { value: person.login, text: `${person.name} (${person.login}${note})` }));
  }
  demo.presets.forEach((item, index) => preset.appendChild(el('option', { value: String(index), text: `${item.login} on ${item.host}: ${item.command}` })));
  preset.addEventListener('change', () => {
    const item = demo.presets[Number(preset.value)];
    if (preset.value === '' || !item) return;
    login.value = item.login;
    command.value = item.command;
    host.value = item.host;
    asRoot.checked = item.asRoot;
  });
  command.addEventListener('input', () => (preset.value = ''));
  byId<HTMLFormElement>('run-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void run({ login: login.value, command: command.value, host: host.value.trim() || undefined, asRoot: asRoot.checked });
  });
}

async function run(request: { login: string; command: string; host: string | undefined; asRoot: boolean }): Promise<void> {
  const status = byId('run-status');
  const button = byId<HTMLButtonElement>('run-submit');
  if (request.command.trim() === '') {
    status.className = 'status-line error';
    status.textContent = 'Type a command line or pick a ready-made one first.';
    byId('run-command').focus();
    return;
  }
  button.disabled = true;
  try {
    const answer = await api<RunAnswer>('run', request);
    status.className = 'status-line';
    status.textContent = `Recorded: ${answer.login} ran ${answer.argv.length} word(s) on ${answer.host}. Vouch reads the audit log within a second or two.`;
  } catch (error) {
    status.className = 'status-line error';
    status.textContent = `Not recorded: ${(error as Error).message}`;
  }
  button.disabled = false;
  await refresh();
}

function start(): void {
  api<SandboxDemo>('demo').then(setUpRunForm, (error: Error) => showError(`Could not load the demo cast: ${error.message}`));
  void loop();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
