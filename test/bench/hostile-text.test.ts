import { describe, expect, it } from 'vitest';
import { bestCpuMs, HOSTILE_FAMILIES, HOSTILE_TARGETS, type HostileTarget } from '../../bench/hostile-text.js';

/**
 * Every per-character path on every adversarial family must cost the same per KiB at 128 KiB as
 * at 4 KiB, within a factor that noise on a busy 2-core machine stays under (a quadratic path is
 * 32 times slower per KiB at the larger size). Best CPU time of a few runs, measured again before failing.
 */
const KIB = 1024;
const SMALL = 4 * KIB;
const LARGE = 128 * KIB;
const RUNS = 3;
/** Allowed growth of the cost per KiB from SMALL to LARGE. */
const GROWTH_LIMIT = 6;
/** Below this a large-size time says nothing about growth (timer and scheduler noise). */
const NOISE_FLOOR_MS = 8;
/** Absolute ceiling on the cost of one MiB of any family, whatever the growth. */
const CEILING_MS_PER_MIB = 2000;

interface Cost {
  smallMs: number;
  largeMs: number;
}

/** CPU time, not wall time: a loaded machine preempts long runs more often than short ones. */
function measure(target: HostileTarget, small: string, large: string, runs = RUNS): Cost {
  return { smallMs: bestCpuMs(target, small, runs), largeMs: bestCpuMs(target, large, runs) };
}

/** The quicker of two measurements of each size: noise only ever adds time. */
function best(a: Cost, b: Cost): Cost {
  return { smallMs: Math.min(a.smallMs, b.smallMs), largeMs: Math.min(a.largeMs, b.largeMs) };
}

function isLinear(cost: Cost): boolean {
  const growth = cost.largeMs / LARGE / (Math.max(cost.smallMs, 1e-3) / SMALL);
  const msPerMiB = (cost.largeMs * 1024 * KIB) / LARGE;
  return msPerMiB <= CEILING_MS_PER_MIB && (cost.largeMs <= NOISE_FLOOR_MS || growth <= GROWTH_LIMIT);
}

describe('hostile text costs linear time on every path', () => {
  it.each(HOSTILE_TARGETS.map((target) => [target.name, target] as const))('%s', (_name, target) => {
    const failures: string[] = [];
    for (const family of HOSTILE_FAMILIES) {
      const small = family.make(SMALL);
      const large = family.make(LARGE);
      target.run(small); // warm up the JIT on this shape
      let cost = measure(target, small, large);
      // Measured again, with more runs each time, before failing: a loaded machine stalls some runs.
      for (let retry = 1; retry <= 3 && !isLinear(cost); retry++) cost = best(cost, measure(target, small, large, RUNS + 2 * retry));
      if (!isLinear(cost)) failures.push(`${family.name}: ${cost.smallMs.toFixed(2)} ms at 4 KiB, ${cost.largeMs.toFixed(2)} ms at 128 KiB`);
    }
    expect(failures).toEqual([]);
  });

  it('redacts 1 MiB of the mixtures and of marker runs within the ceiling', () => {
    const redact = HOSTILE_TARGETS[0] as HostileTarget;
    for (const family of HOSTILE_FAMILIES.filter((f) => f.name.startsWith('mixture') || f.name === 'pwd=[REDACTED]')) {
      const text = family.make(1024 * KIB);
      expect({ family: family.name, ms: bestCpuMs(redact, text, 1) < CEILING_MS_PER_MIB }).toEqual({ family: family.name, ms: true });
    }
  });
});
