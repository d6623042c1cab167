/**
 * Wakes a tailer when its file changes, so a written line is read within milliseconds instead of
 * at the next poll. fs.watch is a hint, not a source of truth: some file systems (network mounts,
 * some containers) never report, and any watcher can miss events, so the tailer keeps polling as
 * well and this only shortens the wait.
 */
import { watch, statSync, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { globSource } from '../glob.js';

/** Options of a FileWatch. */
export interface FileWatchOptions {
  /** The followed path or glob (as given to FileTailer). */
  path: string;
  /** Called, at most once per `coalesceMs`, after something changed. */
  onChange: () => void;
  /** Change events closer together than this are reported once. Default 5 ms. */
  coalesceMs?: number;
}

const DEFAULT_COALESCE_MS = 5;

/**
 * Watches the directory (creation, rename and deletion of the followed files, and, on Linux,
 * writes to any of them, rotated copies included) and, for a single file, the file itself (its
 * inode: writes to it even after it was renamed elsewhere). Call refresh() after each read so the
 * file watch follows a rotation and a watch that failed (directory not there yet) is tried again.
 */
export class FileWatch {
  private readonly dir: string;
  private readonly base: string;
  private readonly matches: (name: string) => boolean;
  private dirWatcher: FSWatcher | null = null;
  private fileWatcher: { watcher: FSWatcher; fileId: string } | null = null;
  private pending: NodeJS.Timeout | null = null;
  private closed = true;

  constructor(private readonly options: FileWatchOptions) {
    this.dir = path.dirname(options.path);
    this.base = path.basename(options.path);
    const glob = /[*?]/.test(this.base);
    if (glob) {
      const regex = new RegExp(globSource(this.base));
      // Rotated copies of glob matches (a.log.1) start with the glob's literal prefix.
      const prefix = this.base.slice(0, this.base.search(/[*?]/));
      this.matches = (name) => regex.test(name) || name.startsWith(prefix);
    } else {
      // The file, and its rotated names (audit.log.1, app.log-20240101), which may still be drained.
      this.matches = (name) => name.startsWith(this.base);
    }
  }

  /** Starts watching; failures are silent (polling still covers them) and retried by refresh(). */
  start(): void {
    this.closed = false;
    this.refresh();
  }

  /** Re-arms what is missing: the directory watch, and the file watch on the file now at the path. */
  refresh(): void {
    if (this.closed) return;
    this.dirWatcher ??= this.watchPath(this.dir, (name) => name === null || this.matches(name), () => {
      this.dirWatcher = null;
    });
    if (/[*?]/.test(this.base)) return;
    const fileId = currentFileId(this.options.path);
    if (this.fileWatcher && this.fileWatcher.fileId === fileId) return;
    this.fileWatcher?.watcher.close();
    this.fileWatcher = null;
    if (fileId === null) return;
    const watcher = this.watchPath(this.options.path, () => true, () => {
      if (this.fileWatcher?.watcher === watcher) this.fileWatcher = null;
    });
    if (watcher) this.fileWatcher = { watcher, fileId };
  }

  /** Stops watching and drops a pending notification. */
  close(): void {
    this.closed = true;
    if (this.pending) clearTimeout(this.pending);
    this.pending = null;
    this.dirWatcher?.close();
    this.dirWatcher = null;
    this.fileWatcher?.watcher.close();
    this.fileWatcher = null;
  }

  private watchPath(target: string, relevant: (name: string | null) => boolean, lost: () => void): FSWatcher | null {
    let watcher: FSWatcher;
    try {
      // Not persistent: a watch alone must not keep the process alive.
      watcher = watch(target, { persistent: false }, (_event, name) => {
        if (relevant(name === null ? null : String(name))) this.notify();
      });
    } catch {
      return null;
    }
    watcher.on('error', () => {
      watcher.close();
      lost();
      // Something happened to what we watched (deleted, moved): worth a look.
      this.notify();
    });
    return watcher;
  }

  private notify(): void {
    if (this.closed || this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      if (!this.closed) this.options.onChange();
    }, this.options.coalesceMs ?? DEFAULT_COALESCE_MS);
    this.pending.unref();
  }
}

function currentFileId(p: string): string | null {
  try {
    const st = statSync(p, { bigint: true });
    return st.isFile() ? `${st.dev}:${st.ino}` : null;
  } catch {
    return null;
  }
}
