import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * A process as another one can recognise it later, in a file it left behind (the embedded
 * database's lock, the service file). A pid alone is not enough: after a crash the pid can be
 * reused by an unrelated process (in a container the service is often pid 1 at every start).
 */
export interface ProcessIdentity {
  pid: number;
  /** The machine: a pid says nothing of a process on another one (a data directory on a shared volume). */
  host: string;
  /**
   * When the process started, as Linux tells it (`<boot id>:<start time in ticks since boot>`):
   * the same pid with another start is another process. Null where /proc cannot tell.
   */
  start: string | null;
}

/**
 * What can be said of a recorded process now: `running` (the same process is alive), `gone`
 * (its pid is free, or now another process's), or `unknown` (it is on another machine, or its pid
 * is alive and nothing tells whether it is still the same process).
 */
export type Liveness = 'running' | 'gone' | 'unknown';

/** This process. */
export function thisProcess(): ProcessIdentity {
  return identityOf(process.pid);
}

/** The process `pid` of this machine, as it is now. */
export function identityOf(pid: number): ProcessIdentity {
  return { pid, host: hostname(), start: procStat(pid)?.start ?? null };
}

/**
 * Whether `recorded` is still running; a record without host or start is judged by its pid
 * alone. A zombie (killed, not yet reaped by its parent) answers kill(pid, 0) but is gone.
 */
export function liveness(recorded: { pid: number; host?: string; start?: string | null }): Liveness {
  if (recorded.host !== undefined && recorded.host !== hostname()) return 'unknown';
  if (!pidAlive(recorded.pid)) return 'gone';
  const current = procStat(recorded.pid);
  if (current !== null && (current.state === 'Z' || current.state === 'X')) return 'gone';
  const start = recorded.start ?? null;
  if (start === null || current === null) return 'unknown';
  return current.start === start ? 'running' : 'gone';
}

/** kill(pid, 0): ESRCH means no such process; EPERM, a live process of another user. */
function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The state and `<boot id>:<start time>` of `pid` from /proc (null elsewhere or when it cannot
 * be read). State and start time are fields 3 and 22 of /proc/<pid>/stat, counted after the
 * command name, which is in parentheses and may itself hold spaces and parentheses.
 */
function procStat(pid: number): { state: string; start: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [state, ticks] = [fields[0], fields[19]];
    if (state === undefined || ticks === undefined || !/^\d+$/.test(ticks)) return null;
    return { state, start: `${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}:${ticks}` };
  } catch {
    return null;
  }
}
