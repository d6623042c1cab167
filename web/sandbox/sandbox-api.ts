/** Talking to the sandbox's JSON API, and telling the person when that fails. */
import { byId } from '/assets/shared/dom.js';

const TOAST_MS = 8000;
let toastTimer: number | undefined;

/** GET (no body) or POST JSON to /sandbox/api/<path>; rejects with the service's error message. */
export async function api<T>(path: string, body?: unknown): Promise<T> {
  const init: RequestInit =
    body === undefined
      ? { headers: { accept: 'application/json' }, cache: 'no-store' }
      : { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) };
  const response = await fetch(`/sandbox/api/${path}`, init);
  const json: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const message = typeof json === 'object' && json !== null && typeof (json as { error?: unknown }).error === 'string' ? (json as { error: string }).error : `HTTP ${response.status}`;
    throw new Error(message);
  }
  return json as T;
}

export function showError(message: string): void {
  const toast = byId('toast');
  toast.textContent = message;
  toast.hidden = false;
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => (toast.hidden = true), TOAST_MS);
}

export function hideToast(): void {
  byId('toast').hidden = true;
}

/** Runs an action from a button: disables the buttons it names while it is in flight, then refreshes. */
export async function act(buttons: readonly HTMLButtonElement[], request: () => Promise<unknown>, refresh: () => Promise<void>): Promise<void> {
  for (const button of buttons) button.disabled = true;
  try {
    await request();
  } catch (error) {
    showError((error as Error).message);
  }
  for (const button of buttons) button.disabled = false;
  await refresh();
}
