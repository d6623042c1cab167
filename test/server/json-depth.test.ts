import { describe, expect, it } from 'vitest';
import { RequestError } from '../../src/errors.js';
import { decodePathId } from '../../src/server/http-server.js';
import { jsonNestsDeeperThan } from '../../src/http/json-depth.js';

describe('jsonNestsDeeperThan', () => {
  it('counts nesting of arrays and objects, not brackets inside strings', () => {
    expect(jsonNestsDeeperThan('{"a":[{"b":1}]}', 3)).toBe(false);
    expect(jsonNestsDeeperThan('{"a":[{"b":[1]}]}', 3)).toBe(true);
    expect(jsonNestsDeeperThan(`{"a":"${'['.repeat(500)}"}`, 2)).toBe(false);
    expect(jsonNestsDeeperThan(`{"a":"\\"${'{'.repeat(10)}"}`, 2)).toBe(false);
    expect(jsonNestsDeeperThan('['.repeat(65))).toBe(true);
    expect(jsonNestsDeeperThan('['.repeat(64) + ']'.repeat(64))).toBe(false);
  });
});

describe('decodePathId', () => {
  it('decodes a percent-encoded id', () => {
    expect(decodePathId('alert%3A1', 'alert')).toBe('alert:1');
  });

  it.each(['%E0%A4%A', '%ZZ', 'a%00b', '%0A', '', 'x'.repeat(201)])('answers 400 for %j', (segment) => {
    expect(() => decodePathId(segment, 'alert')).toThrow(RequestError);
    try {
      decodePathId(segment, 'alert');
    } catch (error) {
      expect((error as RequestError).status).toBe(400);
    }
  });
});
