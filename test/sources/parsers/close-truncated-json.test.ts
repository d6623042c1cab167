import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closeTruncatedJson } from '../../../src/sources/parsers/close-truncated-json.js';

describe('closeTruncatedJson', () => {
  it('ends an unfinished string value and closes what is open', () => {
    expect(closeTruncatedJson('{"sudo":{"accept":{"runargv":["/bin/echo","zzz')).toBe(
      '{"sudo":{"accept":{"runargv":["/bin/echo","zzz"]}}}',
    );
    expect(closeTruncatedJson('{"a":"x\\u00')).toBe('{"a":"x"}');
    expect(closeTruncatedJson('{"a":"x\\')).toBe('{"a":"x"}');
    expect(closeTruncatedJson('{"a":"x\\n')).toBe('{"a":"x\\n"}');
  });

  it('drops a dangling key, colon, comma or a number that may have been cut', () => {
    expect(closeTruncatedJson('{"x":1,"a":')).toBe('{"x":1}');
    expect(closeTruncatedJson('{"x":1,"ke')).toBe('{"x":1}');
    expect(closeTruncatedJson('{"x":[1,2,')).toBe('{"x":[1,2]}');
    expect(closeTruncatedJson('{"x":true,"n":12')).toBe('{"x":true}');
    expect(closeTruncatedJson('{"x":{"y":[]},')).toBe('{"x":{"y":[]}}');
  });

  it('gives null for text that is not a cut-off JSON object', () => {
    expect(closeTruncatedJson('[1,2')).toBeNull();
    expect(closeTruncatedJson('{"a":1}}')).toBeNull();
    expect(closeTruncatedJson('{"a" 1')).toBeNull();
    expect(closeTruncatedJson('')).toBeNull();
  });

  it('gives back a parsable prefix of any JSON object cut anywhere', () => {
    fc.assert(
      fc.property(fc.object({ maxDepth: 4 }), fc.nat(), (value, at) => {
        const text = JSON.stringify(value);
        const cut = text.slice(0, 1 + (at % text.length));
        const closed = closeTruncatedJson(cut);
        if (cut === text) return;
        expect(closed).not.toBeNull();
        expect(() => JSON.parse(closed!) as unknown).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });

  it('is linear on deep nesting', () => {
    const deep = `{"a":${'['.repeat(200_000)}`;
    const started = performance.now();
    expect(closeTruncatedJson(deep)).toBe(`{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}`);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
