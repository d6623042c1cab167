import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load-config.js';
import { loadDefaultRules } from '../../src/detect/load-rules.js';
import type { CommandEvent } from '../../src/sources/command-event.js';
import { Ingestor } from '../../src/sources/ingest.js';
import { MAX_EVENT_KEY_CHARS, storableEvent, storableInt4, storableText } from '../../src/store/storable.js';
import { createTestStore, storeKinds, type TestStore } from '../helpers/test-store.js';

/** Single UTF-16 units, with what Postgres refuses (NUL, lone surrogates, a JSON `\u0000`) over-represented. */
const hostileUnit = fc.oneof(
  fc.constantFrom('\u0000', '\ud800', '\udbff', '\udc00', '\udfff', '\\u0000', '"', '\\', '\n'),
  fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
);
const hostile = fc.string({ unit: hostileUnit, maxLength: 40 });
const number = fc.oneof(fc.integer(), fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 2 ** 32 + 1, 2 ** 53 + 2, Number.NaN, Infinity, -0, 1.5));

const hostileEvent = fc.record({
  time: fc.oneof(fc.date({ noInvalidDate: false }), fc.constant(new Date(Number.NaN)), fc.constant(new Date(-8.64e15))),
  host: hostile,
  user: fc.option(hostile),
  loginUid: fc.option(number),
  runAs: fc.option(hostile),
  args: fc.array(hostile, { maxLength: 4 }),
  exe: fc.option(hostile),
  cwd: fc.option(hostile),
  pid: fc.option(number),
  ppid: fc.option(number),
  eventKey: fc.oneof(hostile, fc.string({ unit: hostileUnit, minLength: 300, maxLength: 3000 })),
  denialReason: fc.option(hostile, { nil: undefined }),
  extra: fc.option(fc.dictionary(hostile, hostile, { maxKeys: 4 }), { nil: undefined }),
});

type HostileValue = typeof hostileEvent extends fc.Arbitrary<infer T> ? T : never;

function toEvent(value: HostileValue, n: number): CommandEvent {
  // cat /etc/shadow matches a default rule, so every event is stored.
  const argv = ['cat', '/etc/shadow', ...value.args];
  const event: CommandEvent = {
    time: value.time,
    host: value.host,
    user: value.user,
    loginUid: value.loginUid,
    runAs: value.runAs,
    argv,
    command: argv.join(' '),
    exe: value.exe,
    cwd: value.cwd,
    pid: value.pid,
    ppid: value.ppid,
    sourceFormat: 'json',
    eventKey: `${n}:${value.eventKey}`,
  };
  if (value.denialReason !== undefined) event.denialReason = value.denialReason;
  if (value.extra !== undefined) event.extra = value.extra;
  return event;
}

describe('storableText and storableInt4', () => {
  it('leave nothing Postgres refuses, and keep clean text as it is', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const out = storableText(text);
        expect(out.includes('\u0000')).toBe(false);
        expect(out.length).toBe(text.length);
        expect(() => encodeURIComponent(out)).not.toThrow();
      }),
    );
    expect(storableText('plain text ü 😀')).toBe('plain text ü 😀');
    expect([storableInt4(2 ** 31 - 1), storableInt4(2 ** 31), storableInt4(1.5), storableInt4(null)]).toEqual([2 ** 31 - 1, null, null, null]);
  });

  it('bounds event keys by digest, so the same long key always maps to the same stored key', () => {
    const long = 'k'.repeat(5000);
    const a = storableEvent(toEvent({ ...sampleValue(), eventKey: long }, 1), new Date()).eventKey;
    const b = storableEvent(toEvent({ ...sampleValue(), eventKey: long }, 1), new Date()).eventKey;
    expect(a).toBe(b);
    expect(a.length).toBeLessThanOrEqual(MAX_EVENT_KEY_CHARS);
  });
});

function sampleValue() {
  return fc.sample(hostileEvent, { numRuns: 1, seed: 7 })[0] as HostileValue;
}

describe.each(storeKinds())('every CommandEvent field holding hostile text is storable on %s', (kind) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(kind);
  });
  afterAll(async () => {
    await store.destroy();
  });

  it('stores every generated event, and refuses none', async () => {
    const clock = new ManualClock(new Date('2026-11-24T15:00:00Z'));
    const ingestor = new Ingestor({ db: store.db, rules: loadDefaultRules(), policy: loadConfig({ env: {} }).workflow, clock });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(hostileEvent, { minLength: 1, maxLength: 5 }), async (values) => {
        const events = values.map((value) => toEvent(value, (n += 1)));
        const stats = await ingestor.ingest('fuzz', { events, malformed: [] });
        expect(stats.unstorable).toBe(0);
        expect(stats.matched).toBe(events.length);
      }),
      { numRuns: 40 },
    );
    const stored = await store.db.selectFrom('command_events').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
    expect(Number(stored.count)).toBe(n);
  });
});
