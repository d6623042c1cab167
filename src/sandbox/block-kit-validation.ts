/**
 * Block Kit's limits as Slack documents them, checked the way Slack's Web API checks them: a
 * message or modal the simulator accepts is one Slack would accept. Problems are reported in
 * Slack's own `[ERROR] <message> [json-pointer:<path>]` form.
 */
import { record } from './slack-payloads.js';

/** Checks a modal view against Slack's limits; returns Slack-style error messages. */
export function validateModal(view: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const add = (message: string, pointer: string): number => problems.push(`[ERROR] ${message} [json-pointer:/view${pointer}]`);
  if (view.type !== 'modal') add('must be "modal"', '/type');
  checkText(view.title, '/title', 24, true, add);
  if (view.submit !== undefined) checkText(view.submit, '/submit', 24, true, add);
  if (view.close !== undefined) checkText(view.close, '/close', 24, true, add);
  checkLength(view.callback_id, '/callback_id', 255, add);
  checkLength(view.private_metadata, '/private_metadata', 3000, add);
  const blocks = Array.isArray(view.blocks) ? view.blocks : [];
  if (!Array.isArray(view.blocks)) add('must be an array', '/blocks');
  if (blocks.some((block) => record(block)?.type === 'input') && view.submit === undefined) {
    add('a view with input blocks needs a submit button', '/submit');
  }
  for (const problem of validateBlocks(blocks, 100, '/blocks')) problems.push(problem.replace('[json-pointer:', '[json-pointer:/view'));
  return problems;
}

/** Returns Slack-style `[ERROR] … [json-pointer:…]` messages; empty when the blocks are valid. */
export function validateBlocks(blocks: unknown[], maxBlocks: number, base: string): string[] {
  const problems: string[] = [];
  const add = (message: string, pointer: string): number => problems.push(`[ERROR] ${message} [json-pointer:${pointer}]`);
  if (blocks.length > maxBlocks) add(`no more than ${maxBlocks} items allowed`, base);
  const ids = new Set<string>();
  blocks.forEach((block, index) => {
    const at = `${base}/${index}`;
    const fields = record(block);
    if (fields === null) {
      add('must be an object', at);
      return;
    }
    if (fields.block_id !== undefined) {
      checkLength(fields.block_id, `${at}/block_id`, 255, add);
      if (typeof fields.block_id === 'string' && ids.has(fields.block_id)) add('duplicate block_id', `${at}/block_id`);
      if (typeof fields.block_id === 'string') ids.add(fields.block_id);
    }
    checkBlock(fields, at, add);
  });
  return problems;
}

type Add = (message: string, pointer: string) => unknown;

function checkBlock(block: Record<string, unknown>, at: string, add: Add): void {
  switch (block.type) {
    case 'section':
      if (block.text === undefined && block.fields === undefined) add('must provide text or fields', at);
      if (block.text !== undefined) checkText(block.text, `${at}/text`, 3000, false, add);
      if (block.fields !== undefined) checkList(block.fields, `${at}/fields`, 10, add, (f, p) => checkText(f, p, 2000, false, add));
      if (block.accessory !== undefined) checkElement(block.accessory, `${at}/accessory`, add);
      return;
    case 'header':
      return checkText(block.text, `${at}/text`, 150, true, add);
    case 'divider':
      return;
    case 'context':
      return checkList(block.elements, `${at}/elements`, 10, add, (e, p) => checkText(e, p, 3000, false, add));
    case 'actions':
      return checkList(block.elements, `${at}/elements`, 25, add, (e, p) => checkElement(e, p, add));
    case 'input':
      checkText(block.label, `${at}/label`, 2000, true, add);
      if (block.hint !== undefined) checkText(block.hint, `${at}/hint`, 2000, true, add);
      return checkElement(block.element, `${at}/element`, add);
    default:
      add(`unsupported block type ${JSON.stringify(block.type)}`, `${at}/type`);
  }
}

function checkElement(value: unknown, at: string, add: Add): void {
  const element = record(value);
  if (element === null) {
    add('must be an element object', at);
    return;
  }
  if (element.action_id !== undefined) checkLength(element.action_id, `${at}/action_id`, 255, add);
  if (element.type === 'button') {
    checkText(element.text, `${at}/text`, 75, true, add);
    if (element.value !== undefined) checkLength(element.value, `${at}/value`, 2000, add);
    if (element.url !== undefined) checkLength(element.url, `${at}/url`, 3000, add);
    if (element.style !== undefined && element.style !== 'primary' && element.style !== 'danger') {
      add('must be "primary" or "danger"', `${at}/style`);
    }
  } else if (element.type === 'plain_text_input') {
    if (element.placeholder !== undefined) checkText(element.placeholder, `${at}/placeholder`, 150, true, add);
    const min = element.min_length;
    const max = element.max_length;
    if (min !== undefined && !(Number.isInteger(min) && (min as number) >= 0 && (min as number) <= 3000)) add('must be 0..3000', `${at}/min_length`);
    if (max !== undefined && !(Number.isInteger(max) && (max as number) >= 1 && (max as number) <= 3000)) add('must be 1..3000', `${at}/max_length`);
    if (typeof min === 'number' && typeof max === 'number' && min > max) add('min_length exceeds max_length', `${at}/min_length`);
  } else {
    add(`unsupported element type ${JSON.stringify(element.type)}`, `${at}/type`);
  }
}

function checkText(value: unknown, at: string, max: number, plainOnly: boolean, add: Add): void {
  const text = record(value);
  if (text === null) {
    add('must be a text object', at);
    return;
  }
  if (text.type !== 'plain_text' && (plainOnly || text.type !== 'mrkdwn')) {
    add(plainOnly ? 'must be plain_text' : 'must be plain_text or mrkdwn', `${at}/type`);
  }
  if (typeof text.text !== 'string' || text.text.length < 1) add('must be more than 0 characters', `${at}/text`);
  else if (text.text.length > max) add(`must be less than ${max + 1} characters`, `${at}/text`);
}

function checkList(value: unknown, at: string, max: number, add: Add, each: (item: unknown, pointer: string) => void): void {
  if (!Array.isArray(value) || value.length === 0) {
    add('must be a non-empty array', at);
    return;
  }
  if (value.length > max) add(`no more than ${max} items allowed`, at);
  value.forEach((item, index) => each(item, `${at}/${index}`));
}

function checkLength(value: unknown, at: string, max: number, add: Add): void {
  if (typeof value !== 'string') add('must be a string', at);
  else if (value.length > max) add(`must be less than ${max + 1} characters`, at);
}
