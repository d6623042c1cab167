import { describe, expect, it } from 'vitest';
import { IsoTimeFormatter } from '../../src/cli/iso-time-formatter.js';
import { OutputBuffer } from '../../src/cli/output-buffer.js';

const TIMES = [
  '2026-11-24T08:00:00.054Z',
  '2026-11-24T08:00:00.999Z',
  '2026-11-24T08:00:01.000Z',
  '2026-11-24T07:59:59.001Z',
  '1970-01-01T00:00:00.000Z',
  '+012345-01-01T00:00:00.007Z',
  '-000001-12-31T23:59:59.500Z',
].map((iso) => new Date(iso));

describe('IsoTimeFormatter', () => {
  it('formats as toISOString does, in and out of order, and null for an invalid date', () => {
    const times = new IsoTimeFormatter();
    for (const time of [...TIMES, ...TIMES.slice().reverse()]) expect(times.format(time)).toBe(time.toISOString());
    expect(times.format(new Date(Number.NaN))).toBeNull();
  });

  it('writes the JSON string JSON.stringify gives for the formatted text, or null, framed by its text before and after', () => {
    for (const [before, after] of [
      ['', ''],
      ['{"time":', ',"host":'],
    ] as const) {
      const times = new IsoTimeFormatter(before, after);
      for (const time of [...TIMES, new Date(Number.NaN), ...TIMES.slice().reverse(), new Date(Number.NaN)]) {
        const out = new OutputBuffer(8);
        times.writeJson(out, time);
        expect(out.takeText()).toBe(before + JSON.stringify(Number.isNaN(time.getTime()) ? null : time.toISOString()) + after);
        // format() and writeJson() share the kept second.
        expect(times.format(time)).toBe(Number.isNaN(time.getTime()) ? null : time.toISOString());
      }
    }
  });
});
