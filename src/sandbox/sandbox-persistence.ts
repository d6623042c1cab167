import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { PRIVATE_FILE_MODE } from '../private-files.js';
import type { DuoSimulator, DuoSimulatorState } from './duo-simulator.js';
import type { SlackSimulator, SlackSimulatorState } from './slack-simulator.js';

/** Where the simulators keep their state: `<data_dir>/sandbox/slack.json` and `duo.json`. */
export function sandboxStateFiles(sandboxDir: string): { slack: string; duo: string } {
  return { slack: path.join(sandboxDir, 'slack.json'), duo: path.join(sandboxDir, 'duo.json') };
}

/**
 * Keeps the simulated Slack and Duo on disk, so a restarted sandbox continues every DM, channel
 * post and push (the service's database remembers the alerts; the simulators must remember what
 * they showed). Each file is written whole to a temporary name and renamed over the old one, so a
 * crash mid-write leaves the previous state, never half of one.
 */
export class SandboxPersistence {
  private readonly files: { slack: string; duo: string };
  private scheduled = false;

  constructor(
    sandboxDir: string,
    private readonly slack: SlackSimulator,
    private readonly duo: DuoSimulator,
    private readonly logger: Logger,
  ) {
    this.files = sandboxStateFiles(sandboxDir);
  }

  /** Loads what an earlier run saved; a missing file is a fresh start, an unreadable one is set aside. */
  load(): void {
    const slack = this.read<SlackSimulatorState>(this.files.slack);
    if (slack) this.slack.restore(slack);
    const duo = this.read<DuoSimulatorState>(this.files.duo);
    if (duo) this.duo.restore(duo);
  }

  /** Saves soon (once for a burst of requests). */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.saveNow();
    });
  }

  /** Saves both simulators now. */
  saveNow(): void {
    try {
      writeAtomically(this.files.slack, JSON.stringify(this.slack.snapshot()));
      writeAtomically(this.files.duo, JSON.stringify(this.duo.snapshot()));
    } catch (error) {
      this.logger.warn('sandbox: cannot save the simulators\' state', { error: error as Error });
    }
  }

  private read<T>(file: string): T | null {
    if (!existsSync(file)) return null;
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as T;
    } catch (error) {
      // Kept for a look rather than deleted: the sandbox then starts fresh instead of not at all.
      const aside = `${file}.unreadable-${Date.now()}`;
      renameSync(file, aside);
      this.logger.warn('sandbox: saved state unreadable; starting fresh', { file: aside, error: error as Error });
      return null;
    }
  }
}

function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text + '\n', { mode: PRIVATE_FILE_MODE });
  renameSync(temporary, file);
}
