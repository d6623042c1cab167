import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';

function captured(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: 'debug', write: (line) => lines.push(line) }) };
}

describe('logger field sanitising', () => {
  it('shows bidi, zero-width and control characters in logged values as escapes', () => {
    const { lines, logger } = captured();
    logger.child({ host: 'web\u202e1' }).warn('rule matched', {
      command: 'rm\u200b -rf /\u0085\u061c',
      nested: { cwd: '/tmp/\u2066x\u2069' },
      error: new Error('bad \u00ad input\nsecond line'),
    });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(entry).toMatchObject({
      message: 'rule matched',
      host: 'web\\u202e1',
      command: 'rm\\u200b -rf /\\x85\\u061c',
      nested: { cwd: '/tmp/\\u2066x\\u2069' },
      error: { name: 'Error', message: 'bad \\xad input\nsecond line' },
    });
    for (const char of ['\u202e', '\u200b', '\u0085', '\u061c', '\u2066', '\u00ad']) expect(lines[0]).not.toContain(char);
  });

  it('keeps numbers, booleans and plain text as they are', () => {
    const { lines, logger } = captured();
    logger.info('ok', { count: 3, done: true, path: '/var/log/audit/audit.log' });
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ count: 3, done: true, path: '/var/log/audit/audit.log' });
  });
});
