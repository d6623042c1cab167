/** Messages and views in the JSON shapes Slack uses on the wire, for Web API answers and payloads. */
import { BOT, TEAM, type SimulatedMessage, type SimulatedView } from './slack-workspace.js';

export function messageJson(message: SimulatedMessage): Record<string, unknown> {
  return {
    type: 'message',
    ...(message.botId === null ? {} : { subtype: 'bot_message', bot_id: message.botId, app_id: BOT.appId }),
    user: message.user,
    text: message.text,
    ts: message.ts,
    team: TEAM.id,
    blocks: message.blocks,
    ...(message.threadTs === null ? {} : { thread_ts: message.threadTs }),
    ...(message.edits.length === 0 ? {} : { edited: { user: message.user, ts: message.ts } }),
  };
}

export type StateMap = Record<string, Record<string, { type: string; value: string | null }>>;

export function viewJson(view: SimulatedView, values: StateMap): Record<string, unknown> {
  return {
    ...view.view,
    id: view.id,
    team_id: TEAM.id,
    app_id: BOT.appId,
    bot_id: BOT.botId,
    callback_id: view.callbackId,
    private_metadata: view.privateMetadata,
    hash: view.hash,
    state: { values },
    root_view_id: view.id,
    previous_view_id: null,
    clear_on_close: false,
    notify_on_close: false,
  };
}

/** Every input block's element, keyed like Slack's `state.values[blockId][actionId]`. */
export function initialState(view: Record<string, unknown>): StateMap {
  const state: StateMap = {};
  for (const block of Array.isArray(view.blocks) ? view.blocks : []) {
    const fields = record(block);
    const element = record(fields?.element);
    if (fields?.type !== 'input' || element === null || typeof element.action_id !== 'string') continue;
    const blockId = typeof fields.block_id === 'string' ? fields.block_id : `block_${Object.keys(state).length}`;
    const initial = typeof element.initial_value === 'string' ? element.initial_value : null;
    state[blockId] = { [element.action_id]: { type: String(element.type), value: initial } };
  }
  return state;
}

/** The value as a JSON object, or null for anything else (arrays included). */
export function record(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** The parsed JSON, or undefined when `text` is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
