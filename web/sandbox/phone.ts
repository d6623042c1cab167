/** A person's simulated phone running Duo Mobile, with the pushes waiting for an answer. */
import { clear, el } from '/assets/shared/dom.js';
import { act, api } from './sandbox-api.js';
import type { SandboxPush, SandboxUser } from './sandbox-types.js';
import { timeText, type PageContext } from './slack-messages.js';

export function renderPhone(container: HTMLElement, user: SandboxUser, page: PageContext): void {
  clear(container);
  const screen = el('div', { className: 'phone-screen' }, [
    el('div', { className: 'phone-app' }, [el('span', { className: 'duo-mark', 'aria-hidden': 'true', text: '\u2713' }), 'Duo Mobile']),
    el('div', { className: 'phone-owner', text: `${user.realName} (${user.name})` }),
  ]);
  if (user.device === 'none') screen.appendChild(el('p', { className: 'empty', text: 'No phone enrolled in Duo: pushes cannot reach this person.' }));
  else if (user.pushes.length === 0) screen.appendChild(el('p', { className: 'empty', text: 'No login requests.' }));
  for (const push of user.pushes) screen.appendChild(renderPush(push, page));
  container.appendChild(
    el('div', { className: 'phone', role: 'region', 'aria-label': `${user.realName}'s phone` }, [el('div', { className: 'phone-notch', 'aria-hidden': 'true' }), screen]),
  );
}

function renderPush(push: SandboxPush, page: PageContext): HTMLElement {
  const details = el('dl');
  for (const [key, value] of Object.entries(push.pushinfo)) {
    details.appendChild(el('dt', { text: key }));
    details.appendChild(el('dd', { text: value }));
  }
  const approve = el('button', { type: 'button', className: 'button primary', text: 'Approve' });
  const deny = el('button', { type: 'button', className: 'button danger', text: 'Deny' });
  const fraud = el('button', { type: 'button', className: 'button fraud', text: 'Report fraud' });
  const buttons = [approve, deny, fraud];
  for (const [button, answer] of [[approve, 'allow'], [deny, 'deny'], [fraud, 'fraud']] as const) {
    button.addEventListener('click', () => void act(buttons, () => api('push', { txid: push.txid, answer }), page.refresh));
  }
  return el('div', { className: 'push', role: 'group', 'aria-label': 'Duo push', 'data-txid': push.txid }, [
    el('h4', { text: push.type || 'Login request' }),
    el('div', { className: 'phone-owner', text: `Requested at ${timeText(push.createdAt)}` }),
    // The code the DM shows too, so the person can match this push to its question.
    ...(push.pushinfo.code ? [el('p', { className: 'push-code', text: `Code ${push.pushinfo.code}` })] : []),
    details,
    el('div', { className: 'push-buttons' }, buttons),
  ]);
}
