/**
 * Poll-style file tailing with checkpoints the caller stores durably.
 *
 * The tailer keeps no state that matters across a restart: where to read comes in with every
 * poll() as a checkpoint per file, and each batch says which checkpoint its lines lead to. Open
 * file descriptors are kept between polls only so a file renamed or deleted under us can still be
 * read to its end; after a restart the rotated file is found again by its inode among its siblings.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, open, readdir, realpath, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { globSource } from '../glob.js';
import { addLines, lineBlock, type LineBlock } from './line-block.js';

/** Where reading of one file stands: which file (dev:inode) and the byte offset to read from. */
export interface Checkpoint {
  /** `dev:inode` of the file the offset belongs to. */
  fileId: string;
  /** Byte offset of the first byte not yet consumed (always the start of a line). */
  offset: number;
  /**
   * `LENGTH:SHA256` of the file's first LENGTH bytes (up to FINGERPRINT_BYTES), as a batch
   * returned it: a file whose first bytes no longer match was truncated and rewritten, or
   * replaced under a reused inode, and is read again from 0. Null or absent: not checked.
   */
  fingerprint?: string | null;
}

/** How much of a file's start its fingerprint covers. */
export const FINGERPRINT_BYTES = 1024;

/** A line longer than maxLineBytes, skipped without being held in memory. */
export interface TooLongLine {
  offset: number;
  /** Its length in bytes, without the newline. */
  bytes: number;
}

/**
 * What one poll read from one file. Feed `blocks` (in order) to the parser, then store
 * `{ fileId, offset: endOffset, fingerprint }` as the checkpoint of `filePath` in the same database
 * transaction as the events those lines produced, so a crash either keeps both or neither.
 * With a parser that holds partial events, store `min(endOffset, parser.lowWaterMark())` as the
 * durable checkpoint instead, and keep passing `endOffset` to the next poll: re-reading from the
 * durable checkpoint after a restart is safe because events carry stable keys.
 */
export interface TailBatch {
  /** The watched path (the checkpoint key), even when the bytes came from a rotated copy. */
  filePath: string;
  /** The file the lines came from, `dev:inode`. */
  fileId: string;
  /** The path actually read: `filePath`, or the name a rotated file was found under. */
  readPath: string;
  /** Offset this batch started reading at. */
  startOffset: number;
  /**
   * The complete lines read, as bytes (each block's offsets are file offsets). The blocks share
   * the tailer's read buffers: they are valid only until the next poll() starts.
   */
  blocks: LineBlock[];
  tooLong: TooLongLine[];
  /** The checkpoint offset after this batch: just past the last complete line consumed. */
  endOffset: number;
  /** The fingerprint to store with the checkpoint (see Checkpoint.fingerprint); null for an empty file. */
  fingerprint: string | null;
  /**
   * True when this is the last batch of a file that was renamed away or deleted; the next batch
   * for `filePath` starts a new file at offset 0. A parser may be flushed here.
   */
  finished: boolean;
  /** True when the file shrank below the checkpoint (copytruncate) and reading restarted at 0. */
  truncated: boolean;
  /**
   * True when the file the checkpoint named was rotated away and is gone (compressed or removed)
   * before it was read to its end: what followed the checkpoint in it was not read.
   */
  lostRotated?: boolean;
  /** True when the batch stopped at maxBatchBytes with more to read; poll again soon. */
  more: boolean;
}

/** Options of a FileTailer. */
export interface FileTailerOptions {
  /**
   * The file to follow, or a glob whose last path segment may use `*` and `?` (for example
   * `/var/log/hosts/*.log`). A glob should not also match the rotated names of the files it
   * follows (`audit.log.1`): rotated files are found by inode without it.
   */
  path: string;
  /** Longest line returned; longer ones are skipped and reported in `tooLong`. Default 1 MiB. */
  maxLineBytes?: number;
  /** Most bytes consumed per file per poll. Default 4 MiB. */
  maxBatchBytes?: number;
  /**
   * Where to start a file that has no checkpoint and already exists at the first poll: `start`
   * (default, read everything) or `end` (only lines written from now on). Files that appear later
   * are always read from their start.
   */
  startAt?: 'start' | 'end';
  /**
   * After a rename rotation, how long the old file must have stopped growing before reading
   * moves on to the new one (default 0). A writer that keeps its descriptor (logrotate's
   * `create`, until the writer is told to reopen) goes on writing to the old file for a while;
   * moving on at once would lose those lines.
   */
  rotateWaitMs?: number;
  /** A monotonic clock in ms, for rotateWaitMs. Default performance.now. */
  now?: () => number;
}

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
export const DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024;

/** Read size; large enough for throughput, small enough that a poll stays responsive. */
const CHUNK_BYTES = 256 * 1024;
/**
 * Read buffers kept between polls. A poll that needs more (many files of a glob, or a batch limit
 * above 8 MiB) allocates the rest and lets them go.
 */
const KEPT_CHUNKS = 32;

interface OpenFile {
  handle: FileHandle;
  fileId: string;
  readPath: string;
  /** The fingerprint last computed of this file, and how many bytes it covers. */
  fingerprint: string | null;
  fingerprintBytes: number;
  /** Once renamed away: when that was noticed, and when the file last grew since (rotateWaitMs). */
  rotatedAt?: number;
  grewAt?: number;
  /** A copy copytruncate made: no writer holds it, so it is final once read to its end. */
  copy?: boolean;
}

interface ReadResult {
  blocks: LineBlock[];
  tooLong: TooLongLine[];
  endOffset: number;
  /** True when the end of the file was reached (rather than the batch limit). */
  eof: boolean;
}

/**
 * Follows one file or a glob of files. Survives rotation by rename (the old file is read to its
 * end before the new one is started), copytruncate (the file shrinks: what followed the
 * checkpoint is read from the copy, found by its first bytes, then the file from 0), deletion and
 * re-creation (a new inode: start at 0), and lines longer than maxLineBytes (skipped, reported).
 * Never returns a partial last line: bytes after the last `\n` wait for a later poll, except at
 * the end of a file that was rotated away, which will never grow again.
 *
 * Polls are serialised; call close() to release the file descriptors.
 */
export class FileTailer {
  private readonly maxLineBytes: number;
  private readonly maxBatchBytes: number;
  private readonly open = new Map<string, OpenFile>();
  /**
   * Files drained to their end and left for their successor, by fileId, kept open until a poll
   * comes without a checkpoint naming them: if the caller fails to commit the drain, it polls
   * again with the old checkpoint, and a deleted file can then still be read.
   */
  private readonly retired = new Map<string, OpenFile>();
  /**
   * Files deleted for good and let go once their end was committed (`key\0fileId`): a poll of
   * their key does nothing until a new file appears there, and that one, even under the same
   * inode, is read from its start as a new file.
   */
  private readonly gone = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  private firstPoll = true;
  private closed = false;
  /**
   * Read buffers used again by every poll (polls are serialised): fresh read buffers would cost a
   * page fault per page read, several times the cost of the reads themselves. The blocks a poll
   * returns point into them, so the buffers are handed out again only when the next poll starts.
   */
  private readonly readBuffers: Buffer[] = [];
  private buffersInUse = 0;

  private readonly rotateWaitMs: number;
  private readonly now: () => number;
  /** When the earliest rotated file being waited on may be finished (see rotateWaitMs); null: none. */
  private rotationSettlesAt: number | null = null;

  constructor(private readonly options: FileTailerOptions) {
    this.maxLineBytes = Math.max(1, options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    this.maxBatchBytes = Math.max(1, options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES);
    this.rotateWaitMs = Math.max(0, options.rotateWaitMs ?? 0);
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * Reads what is new in every followed file. `checkpoints` maps a watched path to where its
   * reading stands (what the previous batches returned, or what was stored, after a restart); a
   * path without one is new. Returns one or more batches per file that has something to say:
   * new lines, or a checkpoint that changed (new file, rotation, truncation). Batches of one file
   * come in reading order.
   */
  poll(checkpoints: ReadonlyMap<string, Checkpoint>): Promise<TailBatch[]> {
    const run = this.queue.then(() => this.pollNow(checkpoints));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Milliseconds until a rotated file the last poll waited on may be finished, so the caller
   * polls again then instead of at its next interval; null when none is waited on.
   */
  rotationWaitMs(): number | null {
    return this.rotationSettlesAt === null ? null : Math.max(0, this.rotationSettlesAt - this.now());
  }

  /** Closes every open file descriptor; the tailer cannot be polled afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    const files = [...this.open.values(), ...this.retired.values()];
    this.open.clear();
    this.retired.clear();
    await Promise.all(files.map((f) => f.handle.close().catch(() => undefined)));
  }

  private async pollNow(checkpoints: ReadonlyMap<string, Checkpoint>): Promise<TailBatch[]> {
    if (this.closed) throw new Error('FileTailer is closed');
    // The previous poll's blocks are dead from here on.
    this.buffersInUse = 0;
    this.rotationSettlesAt = null;
    await this.closeRetired(checkpoints);
    const keys = await this.watchedPaths(checkpoints);
    const batches: TailBatch[] = [];
    for (const key of keys) {
      for (const batch of await this.pollFile(key, checkpoints.get(key))) batches.push(batch);
    }
    this.firstPoll = false;
    return batches;
  }

  /** The paths to look at: glob matches, plus checkpointed and open paths that may need draining. */
  private async watchedPaths(checkpoints: ReadonlyMap<string, Checkpoint>): Promise<string[]> {
    const pattern = this.options.path;
    const base = path.basename(pattern);
    if (!/[*?]/.test(base)) return [pattern];
    const dir = path.dirname(pattern);
    const regex = new RegExp(globSource(base));
    const inPattern = (p: string) => path.dirname(p) === dir && regex.test(path.basename(p));
    const keys = new Set<string>();
    for (const k of checkpoints.keys()) if (inPattern(k)) keys.add(k);
    for (const k of this.open.keys()) keys.add(k);
    // A file let go after its deletion claims its inode no more: a new file may have it now.
    const claimed = new Set([...checkpoints].filter(([k, c]) => !this.gone.has(goneKey(k, c.fileId))).map(([, c]) => c.fileId));
    for (const name of await listDir(dir)) {
      const full = path.join(dir, name);
      if (!regex.test(name) || keys.has(full)) continue;
      const info = await fileInfo(full);
      // A file already followed under another name (a rotated copy being drained) is skipped.
      if (info && !claimed.has(info.fileId)) keys.add(full);
    }
    return [...keys].sort();
  }

  private async pollFile(key: string, checkpoint: Checkpoint | undefined): Promise<TailBatch[]> {
    const current = await fileInfo(key);
    if (checkpoint && this.gone.has(goneKey(key, checkpoint.fileId))) {
      if (!current) return [];
      // A new file where one deleted and let go was: its own, from the start (its inode may be the old one's).
      this.gone.delete(goneKey(key, checkpoint.fileId));
      return this.startCurrent(key, [], false);
    }
    const cached = this.open.get(key);
    if (checkpoint && (!current || current.fileId !== checkpoint.fileId)) {
      return this.pollReplaced(key, checkpoint, current !== null);
    }
    if (cached && (!current || cached.fileId !== current.fileId)) {
      // No checkpoint for the descriptor we hold: it belongs to a file we no longer follow.
      await this.release(key);
    }
    if (!current) return [];
    let start = checkpoint?.offset ?? 0;
    let truncated = false;
    if (checkpoint && current.size < checkpoint.offset) {
      start = 0;
      truncated = true;
    }
    const file = await this.openCurrent(key);
    if (!file) return [];
    // Truncated and written past the old offset, or the same size again: only its start tells.
    if (checkpoint?.fingerprint && !truncated && file.fileId === checkpoint.fileId && !(await this.startsAsBefore(file, checkpoint.fingerprint))) {
      start = 0;
      truncated = true;
    }
    if (truncated && checkpoint) {
      // copytruncate: what followed the checkpoint before the truncation is in the copy logrotate
      // made, if it can be found. Read it from there as a renamed file would be, then this one.
      const copy = await this.truncatedCopy(key, checkpoint);
      if (copy !== null) return this.pollReplaced(key, { ...checkpoint, fileId: copy }, true, true);
      // The copy was compressed by a later rotation (or the file was rotated away, compressed,
      // and its inode given to the new one): the generation after it is read whole first.
      const next = await this.generationAfterCompressed(key, checkpoint, null);
      if (next !== null && next !== current.fileId) {
        const rest = await this.pollReplaced(key, { fileId: next, offset: 0 }, true, true);
        const first = rest[0];
        if (first !== undefined) first.lostRotated = true;
        return rest;
      }
    }
    if (truncated) forgetFingerprint(file);
    if (checkpoint && !truncated && current.size === start) return [];
    if (!checkpoint && this.firstPoll && this.options.startAt === 'end') {
      start = await this.lineStartBefore(file.handle, current.size);
    }
    if (file.fileId !== current.fileId && checkpoint?.fileId !== file.fileId) start = 0;
    const result = await this.read(file.handle, start, false);
    const batch = await this.batch(key, file, start, result, { finished: false, truncated });
    const changed =
      !checkpoint ||
      checkpoint.fileId !== file.fileId ||
      checkpoint.offset !== result.endOffset ||
      truncated ||
      (checkpoint.fingerprint ?? null) !== batch.fingerprint;
    return changed || batch.blocks.length > 0 || batch.tooLong.length > 0 ? [batch] : [];
  }

  /**
   * The checkpointed file is no longer at `key` (renamed or deleted). Drain it to its end from the
   * descriptor we hold or, after a restart, from the sibling that has its inode; then start the
   * file now at `key`, if there is one, from 0.
   */
  private async pollReplaced(key: string, checkpoint: Checkpoint, hasNew: boolean, copy = false): Promise<TailBatch[]> {
    const batches: TailBatch[] = [];
    const old = await this.openOld(key, checkpoint.fileId);
    if (old) {
      const now = this.now();
      old.rotatedAt ??= now;
      if (copy) old.copy = true;
      // Its writer may still hold it (until told to reopen): the old file is final only once it
      // has not grown for rotateWaitMs; until then a last line may yet end, and the new file waits.
      const settled = !hasNew || old.copy === true || now - Math.max(old.rotatedAt, old.grewAt ?? -Infinity) >= this.rotateWaitMs;
      const result = await this.read(old.handle, checkpoint.offset, settled);
      const moved = result.endOffset !== checkpoint.offset || result.blocks.length > 0 || result.tooLong.length > 0;
      if (moved) old.grewAt = now;
      const finished = result.eof && settled;
      if (result.eof && !finished) {
        const settlesAt = Math.max(old.rotatedAt, old.grewAt ?? -Infinity) + this.rotateWaitMs;
        this.rotationSettlesAt = Math.min(this.rotationSettlesAt ?? settlesAt, settlesAt);
      }
      const batch = await this.batch(key, old, checkpoint.offset, result, { finished, truncated: false });
      if (moved || (finished && hasNew)) batches.push(batch);
      if (!result.eof || !finished) return batches;
      // A deleted file stays open until its successor appears: while we hold it, its inode cannot
      // be reused, so the successor is sure to get a new fileId. One read to its end, whose end
      // was committed (nothing moved since the checkpoint), and removed for good (no name left)
      // is let go, so the disk space of a log removed from a glob is freed.
      if (!hasNew) {
        if (!moved && finished && result.endOffset === checkpoint.offset && (await old.handle.stat().catch(() => null))?.nlink === 0) {
          await this.release(key);
          this.gone.add(goneKey(key, checkpoint.fileId));
        }
        return batches;
      }
      const next = await this.nextGeneration(key, old, (await fileInfo(key))?.fileId ?? null);
      this.retire(key);
      // Rotated twice before this one was read to its end: the one between comes first, whole.
      if (next !== null) return [...batches, ...(await this.pollReplaced(key, { fileId: next, offset: 0 }, true, true))];
    }
    if (!hasNew) return batches;
    if (!old) {
      // Gone, compressed by a later rotation (an outage over two): what followed the checkpoint in
      // it is lost, but the generation rotated after it may still be there, uncompressed, unread.
      const next = await this.generationAfterCompressed(key, checkpoint, (await fileInfo(key))?.fileId ?? null);
      if (next !== null) {
        const rest = await this.pollReplaced(key, { fileId: next, offset: 0 }, true, true);
        const first = rest[0];
        if (first !== undefined) first.lostRotated = true;
        return [...batches, ...rest];
      }
    }
    return this.startCurrent(key, batches, !old);
  }

  /** Reads the file now at `key` from its start, after `batches`; `lost`: what came before it may have been lost. */
  private async startCurrent(key: string, batches: TailBatch[], lost: boolean): Promise<TailBatch[]> {
    const file = await this.openCurrent(key);
    if (!file) return batches;
    const result = await this.read(file.handle, 0, false);
    const batch = await this.batch(key, file, 0, result, { finished: false, truncated: false });
    if (lost) batch.lostRotated = true;
    batches.push(batch);
    return batches;
  }

  /**
   * The generation rotated next after the checkpointed file, when that file is now a gzip-compressed
   * generation (found by the fingerprint of its first bytes, decompressed): the one of the next
   * lower count, a file of its own that is not the current one. Null when there is none, or
   * the compressed file cannot be told (no fingerprint, another compression).
   */
  private async generationAfterCompressed(key: string, checkpoint: Checkpoint, current: string | null): Promise<string | null> {
    const fingerprint = checkpoint.fingerprint;
    const length = fingerprintLength(fingerprint);
    if (!fingerprint || length === null) return null;
    const dir = path.dirname(key);
    const base = path.basename(key);
    const names = await listDir(dir);
    for (const name of names) {
      if (!name.endsWith('.gz')) continue;
      const rank = rotationRank(name.slice(0, -'.gz'.length), base);
      if (rank?.kind !== 'count' || (await gzipFingerprint(path.join(dir, name), length)) !== fingerprint) continue;
      const next = names.find((other) => {
        const otherRank = rotationRank(other, base);
        return otherRank?.kind === 'count' && otherRank.count === rank.count - 1;
      });
      if (next === undefined) return null;
      const info = await fileInfo(path.join(dir, next), 'self');
      return info === null || info.fileId === current || info.fileId === checkpoint.fileId || info.size === 0 ? null : info.fileId;
    }
    return null;
  }

  private async batch(
    key: string,
    file: OpenFile,
    startOffset: number,
    result: ReadResult,
    flags: { finished: boolean; truncated: boolean },
  ): Promise<TailBatch> {
    return {
      filePath: key,
      fileId: file.fileId,
      readPath: file.readPath,
      startOffset,
      blocks: result.blocks,
      tooLong: result.tooLong,
      endOffset: result.endOffset,
      fingerprint: await this.fingerprintOf(file, result.endOffset),
      finished: flags.finished,
      truncated: flags.truncated,
      more: !result.eof,
    };
  }

  /** The descriptor for the file now at `key`, reusing the held one when it is the same file. */
  private async openCurrent(key: string): Promise<OpenFile | null> {
    const held = this.open.get(key);
    const current = await fileInfo(key);
    if (held && current && held.fileId === current.fileId) return held;
    if (held) await this.release(key);
    const file = await openFile(key);
    if (file) this.open.set(key, file);
    return file;
  }

  /**
   * The fileId of the copy a copytruncate rotation made of the file at `key`, which was truncated
   * below `checkpoint`: a sibling that is another file, holds at least what was read, and starts with
   * the bytes the checkpoint's fingerprint was made of. Null when there is none (no fingerprint,
   * or the copy was compressed or removed).
   */
  private async truncatedCopy(key: string, checkpoint: Checkpoint): Promise<string | null> {
    const fingerprint = checkpoint.fingerprint;
    const length = fingerprintLength(fingerprint);
    if (!fingerprint || length === null || checkpoint.offset <= 0) return null;
    const dir = path.dirname(key);
    const base = path.basename(key);
    // The largest of the copies that start the same: a shorter one is an earlier copy of them.
    let best: { fileId: string; size: number } | null = null;
    for (const name of (await listDir(dir)).filter((n) => isRotatedName(n, base))) {
      const full = path.join(dir, name);
      const info = await fileInfo(full);
      // A copy exactly as long as what was read shows nothing was missed; it is read (to no lines) all the same.
      if (!info || info.fileId === checkpoint.fileId || info.size < checkpoint.offset || (best !== null && info.size <= best.size)) continue;
      const file = await openFile(full);
      if (!file) continue;
      const head = await headFingerprint(file.handle, length).catch(() => null);
      await file.handle.close().catch(() => undefined);
      if (head === fingerprint && file.fileId === info.fileId) best = info;
    }
    return best?.fileId ?? null;
  }

  /**
   * A generation rotated away after the file with `after` (the one just read to its end) and
   * before the file now at `key` (`current`): when the file was rotated twice before reading got
   * to the end of the first (an outage over two rotations), the one between is read next, from
   * its start. The oldest such generation by its last change; null when there is none.
   */
  private async nextGeneration(key: string, after: OpenFile, current: string | null): Promise<string | null> {
    const dir = path.dirname(key);
    const base = path.basename(key);
    const since = (await after.handle.stat().catch(() => null))?.mtimeMs;
    // Its rank is that of the name it has now: a file held open since before it was rotated was
    // opened as `key`, and has been renamed once for every rotation since.
    const name = await this.rotatedNameOf(after, dir, base);
    const rank = name === null ? null : rotationRank(name, base);
    if (rank === null || since === undefined) return null;
    // The generation next newer by logrotate's naming: the count one less, or the next date.
    let next: { name: string; rank: RotationRank } | null = null;
    for (const name of await listDir(dir)) {
      const other = rotationRank(name, base);
      if (other === null || other.kind !== rank.kind || !isNewer(other, rank) || (next !== null && !isNewer(next.rank, other))) continue;
      next = { name, rank: other };
    }
    if (next === null || (next.rank.kind === 'count' && next.rank.count !== (rank as CountRank).count - 1)) return null;
    // A file of its own (not a link to somewhere else), not the current one, changed since.
    const info = await fileInfo(path.join(dir, next.name), 'self');
    if (!info || info.fileId === after.fileId || info.fileId === current || info.size === 0 || info.mtimeMs < since) return null;
    return info.fileId;
  }

  /**
   * The name `file` has now among the rotated names of `base` in `dir`: the one it was opened
   * under when that is one, else the sibling with its inode. Null when it is not there (removed,
   * compressed, or moved to another directory).
   */
  private async rotatedNameOf(file: OpenFile, dir: string, base: string): Promise<string | null> {
    const opened = path.basename(file.readPath);
    if (path.dirname(file.readPath) === dir && opened !== base && (await fileInfo(file.readPath, 'self'))?.fileId === file.fileId) return opened;
    for (const name of await listDir(dir)) {
      if (name === base || !isRotatedName(name, base)) continue;
      if ((await fileInfo(path.join(dir, name), 'self'))?.fileId === file.fileId) return name;
    }
    return null;
  }

  /** The descriptor of a file that left `key`: the one held, or a sibling with its inode. */
  private async openOld(key: string, fileId: string): Promise<OpenFile | null> {
    const held = this.open.get(key);
    if (held && held.fileId === fileId) return held;
    if (held) await this.release(key);
    const retired = this.retired.get(fileId);
    if (retired) {
      this.retired.delete(fileId);
      this.open.set(key, retired);
      return retired;
    }
    const base = path.basename(key);
    for (const dir of await this.searchDirs(key)) {
      const names = await listDir(dir);
      // Rotated names usually extend the original (audit.log.1, app.log-20240101): try those first.
      names.sort((a, b) => Number(b.startsWith(base)) - Number(a.startsWith(base)));
      for (const name of names) {
        const full = path.join(dir, name);
        if (full === key) continue;
        const info = await fileInfo(full);
        if (info?.fileId !== fileId) continue;
        const file = await openFile(full);
        if (file && file.fileId === fileId) {
          this.open.set(key, file);
          return file;
        }
        await file?.handle.close().catch(() => undefined);
      }
    }
    return null;
  }

  /**
   * Where a file that left `key` may be: beside it, and, when `key` is a symbolic link, beside the
   * file it points to now (a link retargeted from one file to another of the same directory).
   */
  private async searchDirs(key: string): Promise<string[]> {
    const dirs = [path.dirname(key)];
    const target = await realpath(key).catch(() => null);
    if (target !== null && !dirs.includes(path.dirname(target))) dirs.push(path.dirname(target));
    return dirs;
  }

  /** The fingerprint of the file's first min(`consumed`, FINGERPRINT_BYTES) bytes, computed again only while it covers less. */
  private async fingerprintOf(file: OpenFile, consumed: number): Promise<string | null> {
    const length = Math.min(consumed, FINGERPRINT_BYTES);
    if (length === 0) return null;
    if (file.fingerprint !== null && file.fingerprintBytes >= length) return file.fingerprint;
    const fingerprint = await headFingerprint(file.handle, length);
    if (fingerprint !== null) {
      file.fingerprint = fingerprint;
      file.fingerprintBytes = length;
    }
    return fingerprint;
  }

  /** True when the file still starts with the bytes `fingerprint` was made of. */
  private async startsAsBefore(file: OpenFile, fingerprint: string): Promise<boolean> {
    const length = fingerprintLength(fingerprint);
    if (length === null) return true;
    const now = await headFingerprint(file.handle, length);
    if (now !== fingerprint) return false;
    if (file.fingerprintBytes < length) {
      file.fingerprint = now;
      file.fingerprintBytes = length;
    }
    return true;
  }

  /** Start of the line that `end` falls in (just past the last newline before it), so reading never begins mid-line. */
  private async lineStartBefore(handle: FileHandle, end: number): Promise<number> {
    const length = Math.min(end, this.maxLineBytes + 1);
    if (length === 0) return end;
    const buf = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buf, 0, length, end - length);
    const nl = buf.subarray(0, bytesRead).lastIndexOf(10);
    // No newline within a maximal line: whatever precedes is too long to return anyway.
    return nl < 0 ? (length === end ? 0 : end) : end - length + nl + 1;
  }

  /** Stops holding `key`'s descriptor as current, keeping it open as retired. */
  private retire(key: string): void {
    const file = this.open.get(key);
    if (!file) return;
    this.open.delete(key);
    this.retired.set(file.fileId, file);
  }

  /** Closes the retired files no checkpoint names any more (their drain was committed). */
  private async closeRetired(checkpoints: ReadonlyMap<string, Checkpoint>): Promise<void> {
    if (this.retired.size === 0) return;
    const named = new Set([...checkpoints.values()].map((c) => c.fileId));
    for (const [fileId, file] of [...this.retired]) {
      if (named.has(fileId)) continue;
      this.retired.delete(fileId);
      await file.handle.close().catch(() => undefined);
    }
  }

  private async release(key: string): Promise<void> {
    const file = this.open.get(key);
    if (!file) return;
    this.open.delete(key);
    await file.handle.close().catch(() => undefined);
  }

  /** A read buffer no block of this poll points into. */
  private takeBuffer(): Buffer {
    if (this.buffersInUse < this.readBuffers.length) return this.readBuffers[this.buffersInUse++]!;
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    if (this.readBuffers.length < KEPT_CHUNKS) {
      this.readBuffers.push(buffer);
      this.buffersInUse += 1;
    }
    return buffer;
  }

  /**
   * Reads complete lines from `start`, at most about maxBatchBytes of them, as blocks over the
   * read buffers (a line that straddles two reads is copied into a block of its own). A line
   * longer than maxLineBytes is skipped as it streams past (only its length is kept). `final`
   * marks a file that will not grow again, whose last line may lack its newline.
   */
  private async read(handle: FileHandle, start: number, final: boolean): Promise<ReadResult> {
    const out: Pick<ReadResult, 'blocks' | 'tooLong'> = { blocks: [], tooLong: [] };
    const limit = this.maxLineBytes;
    let pos = start;
    let lineStart = start;
    let endOffset = start;
    /** The unfinished line a read ended with, copied; empty while `skipping` it. */
    let carry: Buffer[] = [];
    let carryLen = 0;
    let skipping = false;
    /** The line being skipped was reported already: a poll before this one stopped inside it. */
    let reported = false;
    let eof = false;
    if (start > 0 && !(await lineStartsAt(handle, start))) {
      // An earlier poll stopped inside a too-long line at the scan limit and reported it: the
      // rest of it is skipped too, not taken for a line of its own, nor reported twice.
      skipping = true;
      reported = true;
    }
    /** Keeps the unfinished line `data[from, end)`, or only counts it once it is too long. */
    const keep = (data: Buffer, from: number) => {
      if (skipping) return;
      if (carryLen + (data.length - from) > limit) {
        skipping = true;
        carry = [];
        carryLen = 0;
        return;
      }
      // Copied: the buffer may be handed out again before the line ends.
      carry.push(Buffer.from(data.subarray(from)));
      carryLen += data.length - from;
    };
    // Scanning stops at the batch limit plus one maximal line, so a giant line never stalls a poll.
    const scanLimit = start + this.maxBatchBytes + limit;
    while (endOffset - start < this.maxBatchBytes) {
      if (pos >= scanLimit) {
        if (skipping) {
          // An endless line: report what passed and continue from here (inside it) next time.
          if (!reported) out.tooLong.push({ offset: lineStart, bytes: pos - lineStart });
          endOffset = lineStart = pos;
          skipping = false;
        }
        break;
      }
      const buffer = this.takeBuffer();
      const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, pos);
      if (bytesRead === 0) {
        eof = true;
        break;
      }
      const data = buffer.subarray(0, bytesRead);
      let from = 0;
      if (carryLen > 0 || skipping) {
        const nl = data.indexOf(10);
        if (nl < 0) {
          keep(data, 0);
          pos += bytesRead;
          continue;
        }
        if (skipping || carryLen + nl > limit) {
          if (!reported) out.tooLong.push({ offset: lineStart, bytes: pos + nl - lineStart });
        } else {
          const line = Buffer.concat([...carry, data.subarray(0, nl)]);
          out.blocks.push(lineBlock(line, 0, line.length, lineStart));
        }
        carry = [];
        carryLen = 0;
        skipping = false;
        reported = false;
        from = nl + 1;
        lineStart = endOffset = pos + from;
        if (endOffset - start >= this.maxBatchBytes) break;
      }
      // The line that reaches the batch limit is the last one taken, as when reading line by line.
      const cutFrom = Math.max(from, start + this.maxBatchBytes - pos - 1);
      const cut = cutFrom < bytesRead ? data.indexOf(10, cutFrom) : -1;
      const full = cut >= 0;
      const to = full ? cut + 1 : data.lastIndexOf(10) + 1;
      if (to > from) {
        addLines(out, data, from, to, pos, limit);
        lineStart = endOffset = pos + to;
      }
      if (full) break;
      if (to < bytesRead) keep(data, Math.max(from, to));
      pos += bytesRead;
    }
    if (eof && final && pos > lineStart) {
      if (skipping || carryLen > limit) {
        if (!reported) out.tooLong.push({ offset: lineStart, bytes: pos - lineStart });
      } else {
        const line = Buffer.concat(carry);
        out.blocks.push(lineBlock(line, 0, line.length, lineStart));
      }
      endOffset = pos;
    }
    return { blocks: out.blocks, tooLong: out.tooLong, endOffset, eof };
  }
}

/** How many first bytes a `LENGTH:SHA256` fingerprint covers; null when it is not one this tailer makes. */
function fingerprintLength(fingerprint: string | null | undefined): number | null {
  if (!fingerprint) return null;
  const length = Number(fingerprint.slice(0, fingerprint.indexOf(':')));
  return Number.isSafeInteger(length) && length > 0 && length <= FINGERPRINT_BYTES ? length : null;
}

function goneKey(key: string, fileId: string): string {
  return `${key}\u0000${fileId}`;
}

/** True when a line starts at `offset` of the file: the byte before it is a newline. */
async function lineStartsAt(handle: FileHandle, offset: number): Promise<boolean> {
  const byte = Buffer.alloc(1);
  const { bytesRead } = await handle.read(byte, 0, 1, offset - 1);
  return bytesRead === 0 || byte[0] === 10;
}

/**
 * Identity, size and last change of the regular file at `p`, or null. `links` says whether a
 * symbolic link counts as the file it points to (`follow`) or as no file (`self`).
 */
async function fileInfo(p: string, links: 'follow' | 'self' = 'follow'): Promise<{ fileId: string; size: number; mtimeMs: number } | null> {
  try {
    const st = links === 'follow' ? await stat(p, { bigint: true }) : await lstat(p, { bigint: true });
    if (!st.isFile()) return null;
    return { fileId: `${st.dev}:${st.ino}`, size: Number(st.size), mtimeMs: Number(st.mtimeMs) };
  } catch {
    return null;
  }
}

/** Where a rotated name stands among its file's generations: by count (`.1` is the newest) or by date. */
type RotationRank = CountRank | { kind: 'date'; date: string };
interface CountRank {
  kind: 'count';
  count: number;
}

/** The rank a rotated name of `base` carries (`audit.log.2`, `audit.2.log`, `audit.log-20261207`), or null. */
function rotationRank(name: string, base: string): RotationRank | null {
  if (!isRotatedName(name, base)) return null;
  const dot = base.lastIndexOf('.');
  const mark = name.startsWith(base) ? name.slice(base.length) : name.slice(dot, name.length - (base.length - dot));
  const digits = mark.slice(1);
  if (/^[0-9]{1,4}$/.test(digits)) return { kind: 'count', count: Number(digits) };
  return /^[0-9][0-9._-]*$/.test(digits) ? { kind: 'date', date: digits } : null;
}

/** Whether rank `a` is a newer generation than rank `b` (of the same kind). */
function isNewer(a: RotationRank, b: RotationRank): boolean {
  if (a.kind === 'count' && b.kind === 'count') return a.count < b.count;
  if (a.kind === 'date' && b.kind === 'date') return a.date > b.date;
  return false;
}

/** Names compression gives a rotated file: it cannot be read as lines. */
const COMPRESSED = /\.(gz|bz2|xz|zst|lz4|lzma|z|zip)$/i;

/** What logrotate puts after a name or before its extension: a count or a date (`.1`, `-20240101`). */
const ROTATION_MARK = /^[.-][0-9][0-9._-]*$/;

/**
 * Whether `name` may be a rotated generation of the file named `base`: logrotate's names extend
 * it by a count or a date (`audit.log.1`, `audit.log-20240101`) or, with `extension`, put that
 * before the extension (`audit.1.log`). Other siblings (`audit.log.pos`, `audit.log.lock`) are
 * not, nor compressed generations, which cannot be read as lines.
 */
function isRotatedName(name: string, base: string): boolean {
  if (name === base || COMPRESSED.test(name)) return false;
  if (name.startsWith(base) && ROTATION_MARK.test(name.slice(base.length))) return true;
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return false;
  const stem = base.slice(0, dot);
  const ext = base.slice(dot);
  return name.startsWith(stem) && name.endsWith(ext) && ROTATION_MARK.test(name.slice(stem.length, name.length - ext.length));
}

async function openFile(p: string): Promise<OpenFile | null> {
  let handle: FileHandle;
  try {
    handle = await open(p, 'r');
  } catch {
    return null;
  }
  try {
    // The identity comes from the descriptor, not the name, which may have moved meanwhile.
    const st = await handle.stat({ bigint: true });
    return { handle, fileId: `${st.dev}:${st.ino}`, readPath: p, fingerprint: null, fingerprintBytes: 0 };
  } catch {
    await handle.close().catch(() => undefined);
    return null;
  }
}

/** `LENGTH:SHA256` of the first `length` bytes; null when the file is shorter now. */
async function headFingerprint(handle: FileHandle, length: number): Promise<string | null> {
  const head = Buffer.alloc(length);
  const { bytesRead } = await handle.read(head, 0, length, 0);
  if (bytesRead < length) return null;
  return `${length}:${createHash('sha256').update(head).digest('hex')}`;
}

/**
 * The fingerprint of the first `length` bytes of the gzip file at `p`, decompressed; null when it
 * is shorter, not gzip, or unreadable. Only as much is inflated as the fingerprint covers.
 */
async function gzipFingerprint(p: string, length: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let have = 0;
  try {
    const input = createReadStream(p, { highWaterMark: 16 * 1024 });
    const inflate = createGunzip();
    input.on('error', (error) => inflate.destroy(error));
    input.pipe(inflate);
    for await (const chunk of inflate as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      have += chunk.length;
      if (have >= length) break;
    }
    input.destroy();
    inflate.destroy();
  } catch {
    return null;
  }
  if (have < length) return null;
  return `${length}:${createHash('sha256').update(Buffer.concat(chunks).subarray(0, length)).digest('hex')}`;
}

/** The file was rewritten from its start: what was fingerprinted of it no longer holds. */
function forgetFingerprint(file: OpenFile): void {
  file.fingerprint = null;
  file.fingerprintBytes = 0;
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}
