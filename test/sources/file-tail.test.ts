import { appendFile, copyFile, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, stat, symlink, truncate, unlink, utimes, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Checkpoint, FileTailer, type TailBatch } from '../../src/sources/file-tail.js';
import { forEachLine } from '../../src/sources/line-block.js';

let dir: string;
const tailers: FileTailer[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vouch-tail-'));
});

afterEach(async () => {
  await Promise.all(tailers.splice(0).map((t) => t.close()));
  await rm(dir, { recursive: true, force: true });
});

function tailer(options: Partial<ConstructorParameters<typeof FileTailer>[0]> & { path: string }) {
  const t = new FileTailer(options);
  tailers.push(t);
  return t;
}

/** Polls and advances the checkpoints as a caller would after committing each batch. */
async function pollInto(t: FileTailer, checkpoints: Map<string, Checkpoint>): Promise<TailBatch[]> {
  const batches = await t.poll(checkpoints);
  for (const b of batches) checkpoints.set(b.filePath, { fileId: b.fileId, offset: b.endOffset, fingerprint: b.fingerprint });
  return batches;
}

/** The lines of a batch's blocks, decoded (the blocks are only valid until the next poll). */
function linesOf(batch: TailBatch): Array<{ text: string; offset: number }> {
  const lines: Array<{ text: string; offset: number }> = [];
  for (const block of batch.blocks) forEachLine(block, (text, offset) => void lines.push({ text, offset }));
  return lines;
}

const texts = (batches: TailBatch[]) => batches.flatMap((b) => linesOf(b).map((l) => l.text));

/**
 * Polls `times` times as pollInto does, decoding each poll's lines before the next one (a poll's
 * blocks are valid only until then). Returns the lines in order and every batch returned.
 */
async function pollLines(t: FileTailer, checkpoints: Map<string, Checkpoint>, times: number): Promise<{ lines: string[]; batches: TailBatch[] }> {
  const lines: string[] = [];
  const batches: TailBatch[] = [];
  for (let i = 0; i < times; i += 1) {
    const polled = await pollInto(t, checkpoints);
    lines.push(...texts(polled));
    batches.push(...polled);
  }
  return { lines, batches };
}

/** A file `name` in the test directory holding `text`, followed by a tailer that has read it. */
async function followed(name: string, text: string): Promise<{ file: string; t: FileTailer; cps: Map<string, Checkpoint> }> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  const t = tailer({ path: file });
  const cps = new Map<string, Checkpoint>();
  await pollInto(t, cps);
  return { file, t, cps };
}

/** Whether this process still holds `p` open after it was deleted (Linux: /proc/self/fd). */
async function heldDeleted(p: string): Promise<boolean> {
  const fds = await readdir('/proc/self/fd');
  const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.includes(`${p} (deleted)`);
}

async function fileId(p: string): Promise<string> {
  const st = await stat(p, { bigint: true });
  return `${st.dev}:${st.ino}`;
}

describe('FileTailer', () => {
  it('reads appended lines with byte offsets and holds back a partial last line', async () => {
    const file = path.join(dir, 'audit.log');
    await writeFile(file, 'first\nsecond\nthi');
    const t = tailer({ path: file });
    const cps = new Map<string, Checkpoint>();
    const [batch] = await pollInto(t, cps);
    expect(linesOf(batch)).toEqual([
      { text: 'first', offset: 0 },
      { text: 'second', offset: 6 },
    ]);
    expect(batch.endOffset).toBe(13);
    expect(batch.fileId).toBe(await fileId(file));
    expect(await pollInto(t, cps)).toEqual([]);
    await appendFile(file, 'rd\nfourth\n');
    const next = await pollInto(t, cps);
    expect(linesOf(next[0])).toEqual([
      { text: 'third', offset: 13 },
      { text: 'fourth', offset: 19 },
    ]);
    expect(next[0].endOffset).toBe(26);
  });

  it('keeps byte offsets right across invalid UTF-8 and multi-byte characters', async () => {
    const file = path.join(dir, 'bytes.log');
    await writeFile(file, Buffer.concat([Buffer.from('f'), Buffer.from([0xff, 0xfe]), Buffer.from('\nnaïve\nok\n')]));
    const [batch] = await tailer({ path: file }).poll(new Map());
    expect(linesOf(batch)).toEqual([
      { text: 'f\ufffd\ufffd', offset: 0 },
      { text: 'naïve', offset: 4 },
      { text: 'ok', offset: 11 },
    ]);
  });

  it('resumes from a stored checkpoint (a restart)', async () => {
    const file = path.join(dir, 'audit.log');
    await writeFile(file, 'a\nbb\nccc\n');
    const id = await fileId(file);
    const [batch] = await tailer({ path: file }).poll(new Map([[file, { fileId: id, offset: 2 }]]));
    expect(linesOf(batch)).toEqual([
      { text: 'bb', offset: 2 },
      { text: 'ccc', offset: 5 },
    ]);
  });

  it('drains a file renamed away before starting the new one', async () => {
    const { file, t, cps } = await followed('audit.log', 'old-1\n');
    const oldId = cps.get(file)!.fileId;
    await appendFile(file, 'old-2\n');
    await rename(file, `${file}.1`);
    await appendFile(`${file}.1`, 'old-3\n'); // the writer still had it open
    await writeFile(file, 'new-1\n');
    const batches = await pollInto(t, cps);
    expect(batches.map((b) => [b.fileId === oldId, b.finished, linesOf(b).map((l) => l.text)])).toEqual([
      [true, true, ['old-2', 'old-3']],
      [false, false, ['new-1']],
    ]);
    expect(linesOf(batches[1])[0].offset).toBe(0);
    expect(cps.get(file)).toEqual({ fileId: await fileId(file), offset: 6, fingerprint: expect.stringMatching(/^6:[0-9a-f]{64}$/) });
  });

  it('after a restart finds the rotated file by inode among its siblings', async () => {
    const file = path.join(dir, 'audit.log');
    await writeFile(file, 'one\ntwo\n');
    const id = await fileId(file);
    await writeFile(path.join(dir, 'unrelated.txt'), 'x\n');
    await rename(file, `${file}.1`);
    await writeFile(file, 'three\n');
    const batches = await tailer({ path: file }).poll(new Map([[file, { fileId: id, offset: 4 }]]));
    expect(batches.map((b) => [b.readPath, linesOf(b).map((l) => l.text)])).toEqual([
      [`${file}.1`, ['two']],
      [file, ['three']],
    ]);
  });

  it('gives the last, unterminated line of a rotated file', async () => {
    const file = path.join(dir, 'audit.log');
    await writeFile(file, 'done\npartial');
    const t = tailer({ path: file });
    const cps = new Map<string, Checkpoint>();
    expect(texts(await pollInto(t, cps))).toEqual(['done']);
    await rename(file, `${file}.1`);
    await writeFile(file, '');
    expect(texts(await pollInto(t, cps))).toEqual(['partial']);
  });

  it('follows a renamed file its writer still appends to for the rotation wait, then starts the new one', async () => {
    const file = path.join(dir, 'audit.log');
    await writeFile(file, 'old-1\n');
    let now = 0;
    const t = tailer({ path: file, rotateWaitMs: 3000, now: () => now });
    const cps = new Map<string, Checkpoint>();
    await pollInto(t, cps);
    const oldId = cps.get(file)!.fileId;
    // logrotate's `create`: renamed, a new empty file, and the writer not told to reopen yet.
    await rename(file, `${file}.1`);
    await writeFile(file, 'new-1\n');
    expect(await pollInto(t, cps)).toEqual([]);
    expect(t.rotationWaitMs()).toBe(3000);
    now = 1500;
    await appendFile(`${file}.1`, 'old-2\nold-3');
    const late = await pollInto(t, cps);
    expect(late.map((b) => [b.fileId === oldId, b.finished, linesOf(b).map((l) => l.text)])).toEqual([[true, false, ['old-2']]]);
    // The wait counts from the last growth; a line the writer has not ended yet is not taken.
    now = 4000;
    expect(await pollInto(t, cps)).toEqual([]);
    expect(t.rotationWaitMs()).toBe(500);
    await appendFile(`${file}.1`, '-end\n');
    now = 4100;
    expect(linesOf((await pollInto(t, cps))[0]!).map((l) => l.text)).toEqual(['old-3-end']);
    now = 7100;
    const settled = await pollInto(t, cps);
    expect(settled.map((b) => [b.fileId === oldId, b.finished, linesOf(b).map((l) => l.text)])).toEqual([
      [true, true, []],
      [false, false, ['new-1']],
    ]);
    expect(t.rotationWaitMs()).toBeNull();
  });

  it('restarts at 0 when the file was truncated and written past its old offset between polls', async () => {
    const { file, t, cps } = await followed('audit.log', 'aaaa\nbbbb\n');
    await truncate(file, 0);
    await writeFile(file, 'cccc\ndddd\neeee\n');
    const [batch] = await pollInto(t, cps);
    expect(batch).toMatchObject({ truncated: true, startOffset: 0, endOffset: 15 });
    expect(linesOf(batch!).map((l) => l.text)).toEqual(['cccc', 'dddd', 'eeee']);
    // Rewritten to exactly its old size: no growth at all, and still told apart.
    await writeFile(file, 'ffff\ngggg\nhhhh\n');
    const [again] = await pollInto(t, cps);
    expect(again).toMatchObject({ truncated: true, startOffset: 0, endOffset: 15 });
    expect(await pollInto(t, cps)).toEqual([]);
  });

  it('after a restart, reads a file from 0 whose start no longer matches its checkpoint (inode reused, or rewritten)', async () => {
    const file = path.join(dir, 'audit.log');
    await writeFile(file, 'one\ntwo\n');
    const [first] = await tailer({ path: file }).poll(new Map());
    const checkpoint: Checkpoint = { fileId: first!.fileId, offset: first!.endOffset, fingerprint: first!.fingerprint };
    // The same inode with other contents, longer than the old offset.
    await writeFile(file, 'three\nfour\nfive\n');
    const [batch] = await tailer({ path: file }).poll(new Map([[file, checkpoint]]));
    expect(batch).toMatchObject({ truncated: true, startOffset: 0 });
    expect(linesOf(batch!).map((l) => l.text)).toEqual(['three', 'four', 'five']);
    // The same contents go on where they were.
    await writeFile(file, 'one\ntwo\nsix\n');
    const [resumed] = await tailer({ path: file }).poll(new Map([[file, checkpoint]]));
    expect(resumed).toMatchObject({ truncated: false, startOffset: 8 });
    expect(linesOf(resumed!).map((l) => l.text)).toEqual(['six']);
  });

  it('restarts at 0 after copytruncate', async () => {
    const { file, t, cps } = await followed('app.log', 'aaaa\nbbbb\n');
    await truncate(file, 0);
    await appendFile(file, 'cc\n');
    const [batch] = await pollInto(t, cps);
    expect(batch).toMatchObject({ truncated: true, startOffset: 0, endOffset: 3 });
    expect(linesOf(batch)).toEqual([{ text: 'cc', offset: 0 }]);
  });

  it('after copytruncate, reads the lines it had not read yet from the copy, then the file from 0', async () => {
    const { file, t, cps } = await followed('audit.log', 'aaaa\nbbbb\n');
    // Written after the last poll (or while commits failed and the position went back), then
    // rotated: logrotate copies the file and truncates it in place.
    await appendFile(file, 'cccc\ndddd\n');
    await writeFile(`${file}.2`, 'an older rotation\n');
    await writeFile(`${file}.1`, 'aaaa\nbbbb\ncccc\ndddd\n');
    await truncate(file, 0);
    await appendFile(file, 'eeee\n');
    const batches = await pollInto(t, cps);
    expect(batches.map((b) => [b.readPath, b.startOffset, b.finished, b.truncated, linesOf(b).map((l) => l.text)])).toEqual([
      [`${file}.1`, 10, true, false, ['cccc', 'dddd']],
      [file, 0, false, false, ['eeee']],
    ]);
    expect(cps.get(file)!.fileId).toBe(await fileId(file));
    expect(await pollInto(t, cps)).toEqual([]);
  });

  it('after a restart during copytruncate, still finds the copy by its first bytes', async () => {
    const file = path.join(dir, 'audit.log');
    await writeFile(file, 'aaaa\nbbbb\n');
    const [first] = await tailer({ path: file }).poll(new Map());
    const checkpoint: Checkpoint = { fileId: first!.fileId, offset: first!.endOffset, fingerprint: first!.fingerprint };
    await appendFile(file, 'cccc\n');
    await writeFile(`${file}-20261207`, 'aaaa\nbbbb\ncccc\n');
    await truncate(file, 0);
    const cps = new Map([[file, checkpoint]]);
    const batches = await pollInto(tailer({ path: file }), cps);
    expect(texts(batches)).toEqual(['cccc']);
    expect(batches[0]).toMatchObject({ readPath: `${file}-20261207`, finished: true });
  });

  it("takes the largest copy that starts the same, under logrotate's extension names too", async () => {
    const { file, t, cps } = await followed('audit.log', 'aaaa\nbbbb\n');
    await appendFile(file, 'cccc\ndddd\n');
    await writeFile(`${file}.0`, 'aaaa\nbbbb\ncccc\n');
    await copyFile(file, path.join(dir, 'audit.1.log'));
    await truncate(file, 0);
    const batches = await pollInto(t, cps);
    expect(texts(batches)).toEqual(['cccc', 'dddd']);
    expect(path.basename(batches[0]!.readPath)).toBe('audit.1.log');
  });

  it('after two copytruncates before reading caught up, reads both copies in order, then the file', async () => {
    const { file, t, cps } = await followed('audit.log', 'a1\na2\n');
    const at = (seconds: number) => new Date(Date.UTC(2026, 11, 7, 3, 0, seconds));
    // Reading is held up (the database is down) over two nightly rotations.
    await appendFile(file, 'a3\n');
    await copyFile(file, `${file}.1`);
    await utimes(`${file}.1`, at(1), at(1));
    await truncate(file, 0);
    await appendFile(file, 'b1\nb2\n');
    await rename(`${file}.1`, `${file}.2`);
    await copyFile(file, `${file}.1`);
    await utimes(`${file}.1`, at(2), at(2));
    await truncate(file, 0);
    await appendFile(file, 'c1\n');
    // Neither a compressed generation nor another program's file beside it is a generation.
    await writeFile(`${file}.3.gz`, 'not text\n');
    await writeFile(`${file}.pos`, 'offset=12\n');
    const { lines, batches } = await pollLines(t, cps, 5);
    expect(lines).toEqual(['a3', 'b1', 'b2', 'c1']);
    expect(batches.map((b) => path.basename(b.readPath)).filter((name, i, all) => all.indexOf(name) === i)).toEqual(['audit.log.2', 'audit.log.1', 'audit.log']);
  });

  it('takes as the generation between only the next one by its rotated name, a file of its own', async () => {
    const { file, t, cps } = await followed('audit.log', 'a1\n');
    // An ordinary rotation; beside it a backup copied later, a link to a file elsewhere, and a
    // copy that exactly matches what was read.
    await rename(file, `${file}.1`);
    await writeFile(file, 'b1\n');
    await writeFile(`${file}.20240101`, 'backup\n');
    await writeFile(path.join(dir, 'elsewhere.txt'), 'linked\n');
    await symlink(path.join(dir, 'elsewhere.txt'), `${file}.0`);
    expect((await pollLines(t, cps, 4)).lines).toEqual(['b1']);
  });

  it('reads nothing again, and says nothing was lost, when the copy is exactly what was read', async () => {
    const { file, t, cps } = await followed('audit.log', 'aaaa\nbbbb\n');
    await copyFile(file, `${file}.1`);
    await truncate(file, 0);
    await appendFile(file, 'cccc\n');
    const batches = await pollInto(t, cps);
    expect(texts(batches)).toEqual(['cccc']);
    expect(batches.some((b) => b.truncated || b.lostRotated)).toBe(false);
  });

  it('says so when the file being read was rotated away and is gone before it was read to its end', async () => {
    const file = path.join(dir, 'audit.log');
    await writeFile(file, 'a1\n');
    const [first] = await tailer({ path: file }).poll(new Map());
    await rename(file, `${file}.1`);
    await writeFile(file, 'b1\n');
    await unlink(`${file}.1`);
    const batches = await tailer({ path: file }).poll(new Map([[file, { fileId: first!.fileId, offset: first!.endOffset, fingerprint: first!.fingerprint }]]));
    expect(batches.map((b) => [texts([b]), b.lostRotated])).toEqual([[['b1'], true]]);
  });

  it('after two renames before reading caught up, reads the generation between too', async () => {
    const { file, cps } = await followed('audit.log', 'a1\n');
    const first = cps.get(file)!;
    await appendFile(file, 'a2\n');
    await rename(file, `${file}.1`);
    await writeFile(file, 'b1\n');
    await rename(`${file}.1`, `${file}.2`);
    await utimes(`${file}.2`, new Date(Date.UTC(2026, 0, 1)), new Date(Date.UTC(2026, 0, 1)));
    await rename(file, `${file}.1`);
    await writeFile(file, 'c1\n');
    // A restart: nothing is held open, the checkpoint names the first file.
    const fresh = tailer({ path: file });
    const restarted = new Map([[file, first]]);
    expect((await pollLines(fresh, restarted, 5)).lines).toEqual(['a2', 'b1', 'c1']);
  });

  it('after two renames while the first file is held open, reads the generation between too', async () => {
    // The running case: the tailer holds the first file when it is renamed, twice, before the
    // rotation wait let it move on (or while a database outage held the batches back).
    const { file, t, cps } = await followed('audit.log', 'a1\n');
    await rename(file, `${file}.1`);
    await appendFile(`${file}.1`, 'a2\n');
    await writeFile(file, 'b1\n');
    await utimes(`${file}.1`, new Date(Date.UTC(2026, 0, 1)), new Date(Date.UTC(2026, 0, 1)));
    await rename(`${file}.1`, `${file}.2`);
    await rename(file, `${file}.1`);
    await writeFile(file, 'c1\n');
    const { lines, batches } = await pollLines(t, cps, 5);
    expect(lines).toEqual(['a2', 'b1', 'c1']);
    expect(batches.some((b) => b.lostRotated)).toBe(false);
  });

  it('after two rotations while stopped, the first generation compressed, reads the one between whole', async () => {
    // logrotate with compress and delaycompress, run twice while the service was down.
    const { file, cps } = await followed('audit.log', 'a1\n');
    const first = cps.get(file)!;
    await appendFile(file, 'a2\n');
    await rename(file, `${file}.1`);
    await writeFile(file, 'b1\n');
    await writeFile(`${file}.2.gz`, gzipSync(await readFile(`${file}.1`)));
    await unlink(`${file}.1`);
    await rename(file, `${file}.1`);
    await writeFile(file, 'c1\n');
    const fresh = tailer({ path: file });
    const restarted = new Map([[file, first]]);
    const { lines, batches } = await pollLines(fresh, restarted, 5);
    // a2 was only in the compressed file: said to be lost. b1 and c1 are read.
    expect(lines).toEqual(['b1', 'c1']);
    expect(batches.filter((b) => b.lostRotated === true)).toHaveLength(1);
  });

  it('reads the generation between too when the new file took the compressed one\'s inode', async () => {
    const file = path.join(dir, 'audit.log');
    await writeFile(`${file}.2.gz`, gzipSync(Buffer.from('a1\na2\n')));
    await writeFile(`${file}.1`, 'b1\n');
    await writeFile(file, 'c1\n');
    // The checkpoint names the current file's inode (reused) but the first bytes of the lost one.
    const fingerprint = `3:${createHash('sha256').update('a1\n').digest('hex')}`;
    const checkpoints = new Map([[file, { fileId: await fileId(file), offset: 3, fingerprint }]]);
    const t = tailer({ path: file });
    expect((await pollLines(t, checkpoints, 4)).lines).toEqual(['b1', 'c1']);
  });

  it('after a restart, reads to its end the file a link pointed to before it was retargeted', async () => {
    const targets = path.join(dir, 't');
    await mkdir(targets);
    const a = path.join(targets, 'a.log');
    const b = path.join(targets, 'b.log');
    await writeFile(a, 'a1\n');
    await writeFile(b, 'b1\n');
    const link = path.join(dir, 'audit.log');
    await symlink(b, link);
    const t = tailer({ path: link });
    const cps = new Map<string, Checkpoint>();
    expect(texts(await pollInto(t, cps))).toEqual(['b1']);
    // Stopped; meanwhile b is written to and the link goes back to a.
    await appendFile(b, 'b2\n');
    await unlink(link);
    await symlink(a, link);
    const restarted = tailer({ path: link });
    expect((await pollLines(restarted, cps, 4)).lines).toEqual(['b2', 'a1']);
  });

  it('follows a deleted and re-created file from its start', async () => {
    const { file, t, cps } = await followed('app.log', 'before\n');
    await appendFile(file, 'last words\n');
    await unlink(file);
    // Deleted, nothing new yet: the open descriptor still gives the old file's end.
    const drained = await pollInto(t, cps);
    expect(drained.map((b) => [b.finished, linesOf(b).map((l) => l.text)])).toEqual([[true, ['last words']]]);
    expect(await pollInto(t, cps)).toEqual([]);
    await writeFile(file, 'reborn\n');
    const batches = await pollInto(t, cps);
    expect(texts(batches)).toEqual(['reborn']);
    const fresh = batches.filter((b) => !b.finished);
    expect(fresh).toHaveLength(1);
    // The deleted file was let go once its end was committed, so the new one may have its inode:
    // it is read from its start all the same.
    expect(linesOf(fresh[0])[0].offset).toBe(0);
  });

  it('reads a deleted file again when the caller could not commit its last batch', async () => {
    const { file, t, cps } = await followed('app.log', 'before\n');
    const committed = new Map(cps);
    await appendFile(file, 'last words\n');
    await unlink(file);
    await writeFile(file, 'reborn\n');
    expect(texts(await t.poll(committed))).toEqual(['last words', 'reborn']);
    // The commit failed: the same checkpoint comes back, and the deleted file's end with it.
    const again = await pollInto(t, committed);
    expect(again.map((b) => [b.finished, linesOf(b).map((l) => l.text)])).toEqual([
      [true, ['last words']],
      [false, ['reborn']],
    ]);
    // Committed this time: the deleted file is let go.
    expect(await pollInto(t, committed)).toEqual([]);
  });

  it('lets a deleted file of a glob go once its end is committed, and reads a file that comes back under its name as new', async () => {
    const file = path.join(dir, 'web-1.log');
    await writeFile(file, 'a1\n');
    const t = tailer({ path: path.join(dir, '*.log') });
    const cps = new Map<string, Checkpoint>();
    expect(texts(await pollInto(t, cps))).toEqual(['a1']);
    await appendFile(file, 'a2\n');
    await unlink(file);
    expect(texts(await pollInto(t, cps))).toEqual(['a2']);
    // Committed: the next polls let the descriptor go (the disk space is freed) and read nothing.
    expect(await pollInto(t, cps)).toEqual([]);
    expect(await pollInto(t, cps)).toEqual([]);
    expect(await heldDeleted(file)).toBe(false);
    await writeFile(file, 'b1\n');
    const batches = await pollInto(t, cps);
    expect(texts(batches)).toEqual(['b1']);
    expect(batches.some((b) => b.lostRotated || b.truncated)).toBe(false);
  });

  it('follows a new file of a glob that got the inode of one deleted and let go', async () => {
    const t = tailer({ path: path.join(dir, '*.log') });
    const cps = new Map<string, Checkpoint>();
    await writeFile(path.join(dir, 'web-1.log'), 'a1\n');
    expect(texts(await pollInto(t, cps))).toEqual(['a1']);
    await unlink(path.join(dir, 'web-1.log'));
    await pollInto(t, cps);
    await pollInto(t, cps);
    // Most file systems give the freed inode to the next file made.
    await writeFile(path.join(dir, 'web-2.log'), 'b1\n');
    expect(texts(await pollInto(t, cps))).toEqual(['b1']);
  });

  it('follows every file a glob matches', async () => {
    await writeFile(path.join(dir, 'a.log'), 'a1\n');
    await writeFile(path.join(dir, 'b.log'), 'b1\n');
    await writeFile(path.join(dir, 'c.txt'), 'c1\n');
    const t = tailer({ path: path.join(dir, '?.log') });
    const cps = new Map<string, Checkpoint>();
    const first = await pollInto(t, cps);
    expect(first.map((b) => [path.basename(b.filePath), linesOf(b).map((l) => l.text)])).toEqual([
      ['a.log', ['a1']],
      ['b.log', ['b1']],
    ]);
    await appendFile(path.join(dir, 'b.log'), 'b2\n');
    await writeFile(path.join(dir, 'd.log'), 'd1\n');
    const second = await pollInto(t, cps);
    expect(second.map((b) => [path.basename(b.filePath), linesOf(b).map((l) => l.text)])).toEqual([
      ['b.log', ['b2']],
      ['d.log', ['d1']],
    ]);
  });

  it('skips a 3 MB line without returning it, and reports it', async () => {
    const file = path.join(dir, 'big.log');
    const huge = 'x'.repeat(3 * 1024 * 1024);
    await writeFile(file, `short\n${huge}\nafter\n`);
    const [batch] = await tailer({ path: file }).poll(new Map());
    expect(linesOf(batch)).toEqual([
      { text: 'short', offset: 0 },
      { text: 'after', offset: 6 + huge.length + 1 },
    ]);
    expect(batch.tooLong).toEqual([{ offset: 6, bytes: huge.length }]);
    expect(batch.endOffset).toBe(6 + huge.length + 1 + 6);
  });

  it('returns lines that straddle its reads exactly, long ones included', async () => {
    const file = path.join(dir, 'straddle.log');
    // Lines of many lengths, one longer than a read, so that lines cross read boundaries at varied points.
    const lines = Array.from({ length: 400 }, (_, i) => `${i}:${String.fromCharCode(97 + (i % 26)).repeat((i * 7919) % 9000)}`);
    lines.splice(200, 0, `long:${'z'.repeat(300 * 1024)}`);
    await writeFile(file, lines.join('\n') + '\n');
    const cps = new Map<string, Checkpoint>();
    const t = tailer({ path: file, maxBatchBytes: 64 * 1024 * 1024 });
    const got: string[] = [];
    for (let batches = await pollInto(t, cps); batches.length > 0; batches = await pollInto(t, cps)) got.push(...texts(batches));
    expect(got).toEqual(lines);
  });

  it('reports a line too long to scan in one poll once, and never takes its rest for a line', async () => {
    const file = path.join(dir, 'big.log');
    await writeFile(file, `ok\n${'z'.repeat(5000)}\nnext\n`);
    // The scan of one poll stops at the batch limit plus one line limit, inside the long line.
    const t = tailer({ path: file, maxLineBytes: 1000, maxBatchBytes: 1000 });
    const cps = new Map<string, Checkpoint>();
    const lines: string[] = [];
    const tooLong: Array<{ offset: number }> = [];
    for (let i = 0; i < 10; i += 1) {
      // Decoded at once: a poll's blocks are valid only until the next one.
      const batches = await pollInto(t, cps);
      lines.push(...texts(batches));
      tooLong.push(...batches.flatMap((b) => b.tooLong));
    }
    expect(lines).toEqual(['ok', 'next']);
    expect(tooLong).toHaveLength(1);
    expect(tooLong[0]?.offset).toBe(3);
    // A restart inside the line (its checkpoint) skips the rest too.
    const inside = new Map([[file, { fileId: cps.get(file)!.fileId, offset: 2500 }]]);
    const restarted = tailer({ path: file, maxLineBytes: 1000, maxBatchBytes: 1000 });
    const again: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const batches = await pollInto(restarted, inside);
      again.push(...texts(batches));
      expect(batches.flatMap((b) => b.tooLong)).toEqual([]);
    }
    expect(again).toEqual(['next']);
  });

  it('waits for the end of a too-long line still being written', async () => {
    const file = path.join(dir, 'big.log');
    await writeFile(file, `ok\n${'y'.repeat(2000)}`);
    const t = tailer({ path: file, maxLineBytes: 1000 });
    const cps = new Map<string, Checkpoint>();
    const [first] = await pollInto(t, cps);
    expect(linesOf(first).map((l) => l.text)).toEqual(['ok']);
    expect(first.tooLong).toEqual([]);
    expect(first.endOffset).toBe(3);
    await appendFile(file, 'yyy\nnext\n');
    const [second] = await pollInto(t, cps);
    expect(second.tooLong).toEqual([{ offset: 3, bytes: 2003 }]);
    expect(linesOf(second)).toEqual([{ text: 'next', offset: 2007 }]);
  });

  it('splits large backlogs into batches of about maxBatchBytes', async () => {
    const file = path.join(dir, 'many.log');
    const lines = Array.from({ length: 1000 }, (_, i) => `line-${String(i).padStart(4, '0')}`);
    await writeFile(file, `${lines.join('\n')}\n`);
    const t = tailer({ path: file, maxBatchBytes: 1000 });
    const cps = new Map<string, Checkpoint>();
    const seen: string[] = [];
    let rounds = 0;
    for (;;) {
      const batches = await pollInto(t, cps);
      if (batches.length === 0) break;
      rounds++;
      for (const b of batches) {
        expect(b.endOffset - b.startOffset).toBeLessThanOrEqual(1000 + 10);
        seen.push(...linesOf(b).map((l) => l.text));
      }
    }
    expect(seen).toEqual(lines);
    expect(rounds).toBeGreaterThan(9);
  });

  it('can start at the end of an existing file', async () => {
    const file = path.join(dir, 'audit.log');
    await writeFile(file, 'history\nhalf a li');
    const t = tailer({ path: file, startAt: 'end' });
    const cps = new Map<string, Checkpoint>();
    const [first] = await pollInto(t, cps);
    expect(linesOf(first)).toEqual([]);
    expect(first.endOffset).toBe(8);
    await appendFile(file, 'ne\nfresh\n');
    expect(texts(await pollInto(t, cps))).toEqual(['half a line', 'fresh']);
  });

  it('returns nothing for a missing file and rejects polls after close', async () => {
    const t = new FileTailer({ path: path.join(dir, 'absent.log') });
    expect(await t.poll(new Map())).toEqual([]);
    await t.close();
    await expect(t.poll(new Map())).rejects.toThrow(/closed/);
  });
});
