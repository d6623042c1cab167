/**
 * Output bytes written straight into buffers: text lines, and JSON values encoded by hand (no
 * string per line; only long text that needs escapes goes through JSON.stringify), so printing an
 * event costs a pass over its text and nothing else. Filled buffers are sealed and handed out in
 * order; a sealed buffer is never written into again (it may still be queued in a stream).
 */

/** Any character outside ASCII: such a line is encoded as UTF-8, every other one byte for byte. */
const NON_ASCII = /[^\x00-\x7f]/;

/** Any character a JSON string cannot hold as it is, or that is not ASCII: such text is not copied as it is. */
const NOT_PLAIN_JSON = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;

/** Text at least this long is checked by one regex test and written natively (shorter text is quicker through the loop: measured). */
const NATIVE_COPY_CHARS = 256;

/** The escapes JSON.stringify writes for the characters below U+0020, the quote and the backslash. */
const ESCAPES: readonly string[] = Array.from({ length: 0x5d }, (_, code) => {
  if (code === 0x22) return '\\"';
  if (code === 0x5c) return '\\\\';
  const short: Record<number, string> = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r' };
  if (code < 0x20) return short[code] ?? '\\u' + code.toString(16).padStart(4, '0');
  return '';
});

const HEX_DIGITS = '0123456789abcdef';

export class OutputBuffer {
  private sealed: Buffer[] = [];
  private sealedBytes = 0;
  private buf: Buffer;
  private used = 0;

  constructor(private readonly bufferBytes = 256 * 1024) {
    this.buf = Buffer.allocUnsafe(bufferBytes);
  }

  /** Bytes written and not yet taken. */
  get size(): number {
    return this.sealedBytes + this.used;
  }

  /** Everything written so far, in order; the buffer starts over empty. */
  take(): Buffer[] {
    this.seal();
    const parts = this.sealed;
    this.sealed = [];
    this.sealedBytes = 0;
    return parts;
  }

  /** Everything written so far as one string (for callers that want a line as text). */
  takeText(): string {
    return Buffer.concat(this.take()).toString('utf8');
  }

  /** A line of any text, as UTF-8 (ASCII byte for byte, several times faster than the encoder). */
  text(line: string): void {
    // UTF-8 takes at most three bytes per UTF-16 unit.
    this.room(line.length * 3);
    this.used += this.buf.write(line, this.used, NON_ASCII.test(line) ? 'utf8' : 'latin1');
  }

  /** Bytes as they are (pre-encoded constants: property names, punctuation). */
  bytes(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.buf.set(bytes, this.used);
    this.used += bytes.length;
  }

  /** ASCII text known to need no escaping (property names, punctuation, numbers). */
  ascii(text: string): void {
    this.room(text.length);
    const buf = this.buf;
    let at = this.used;
    for (let i = 0; i < text.length; i++) buf[at++] = text.charCodeAt(i);
    this.used = at;
  }

  /** A non-negative integer below 2^53, or any other number as JSON.stringify writes it. */
  number(value: number): void {
    if (!(value >= 0 && value <= Number.MAX_SAFE_INTEGER && Math.floor(value) === value)) {
      this.ascii(Number.isFinite(value) ? String(value) : 'null');
      return;
    }
    this.room(16);
    const buf = this.buf;
    let digits = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    let at = this.used + digits;
    this.used = at;
    let rest = value;
    do {
      buf[--at] = 48 + (rest % 10);
      rest = Math.floor(rest / 10);
    } while (rest > 0);
  }

  /**
   * `text` as a JSON string literal, byte for byte what JSON.stringify writes, as UTF-8: `"` and
   * `\` escaped, controls below U+0020 as their short escapes or `\u00XX`, lone surrogates as
   * `\uXXXX` (well-formed JSON.stringify), everything else as it is.
   */
  jsonString(text: string): void {
    const length = text.length;
    if (length >= NATIVE_COPY_CHARS) {
      this.longJsonString(text);
      return;
    }
    // Six bytes per unit at most (`\u001f`); a surrogate pair is two units and four bytes.
    this.room(length * 6 + 2);
    const buf = this.buf;
    let at = this.used;
    buf[at++] = 34;
    for (let i = 0; i < length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x80) {
        if (c >= 0x20 && c !== 0x22 && c !== 0x5c) {
          buf[at++] = c;
          continue;
        }
        const escape = ESCAPES[c]!;
        for (let k = 0; k < escape.length; k++) buf[at++] = escape.charCodeAt(k);
      } else if (c < 0x800) {
        buf[at++] = 0xc0 | (c >> 6);
        buf[at++] = 0x80 | (c & 0x3f);
      } else if (c < 0xd800 || c > 0xdfff) {
        buf[at++] = 0xe0 | (c >> 12);
        buf[at++] = 0x80 | ((c >> 6) & 0x3f);
        buf[at++] = 0x80 | (c & 0x3f);
      } else {
        const next = i + 1 < length ? text.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          const point = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          buf[at++] = 0xf0 | (point >> 18);
          buf[at++] = 0x80 | ((point >> 12) & 0x3f);
          buf[at++] = 0x80 | ((point >> 6) & 0x3f);
          buf[at++] = 0x80 | (point & 0x3f);
          i++;
        } else {
          // A lone surrogate: `\udXXX`, as well-formed JSON.stringify writes it.
          buf[at++] = 92;
          buf[at++] = 117;
          buf[at++] = HEX_DIGITS.charCodeAt(c >> 12);
          buf[at++] = HEX_DIGITS.charCodeAt((c >> 8) & 15);
          buf[at++] = HEX_DIGITS.charCodeAt((c >> 4) & 15);
          buf[at++] = HEX_DIGITS.charCodeAt(c & 15);
        }
      }
    }
    buf[at++] = 34;
    this.used = at;
  }

  /**
   * Long text natively: copied as it is when plain, else escaped by JSON.stringify (well-formed,
   * so its UTF-8 is exact) and encoded by the buffer. Both cost a fraction of the loop per
   * character and a fixed price per call that only long text repays (measured).
   */
  private longJsonString(text: string): void {
    if (NOT_PLAIN_JSON.test(text)) {
      const json = JSON.stringify(text);
      // UTF-8 takes at most three bytes per UTF-16 unit.
      this.room(json.length * 3);
      this.used += this.buf.write(json, this.used, 'utf8');
      return;
    }
    this.room(text.length + 2);
    const buf = this.buf;
    buf[this.used] = 34;
    this.used += 1 + buf.write(text, this.used + 1, 'latin1');
    buf[this.used++] = 34;
  }

  /** A JSON string, or null. */
  jsonStringOrNull(text: string | null | undefined): void {
    if (text === null || text === undefined) this.ascii('null');
    else this.jsonString(text);
  }

  /** An array of JSON strings. */
  jsonStringArray(items: readonly string[]): void {
    this.ascii('[');
    for (let i = 0; i < items.length; i++) {
      if (i > 0) this.ascii(',');
      this.jsonString(items[i]!);
    }
    this.ascii(']');
  }

  /** Makes sure `bytes` more fit in the current buffer, sealing it (or making a larger one) if not. */
  private room(bytes: number): void {
    if (bytes <= this.buf.length - this.used) return;
    this.seal();
    if (bytes > this.buf.length) this.buf = Buffer.allocUnsafe(bytes);
  }

  private seal(): void {
    if (this.used === 0) return;
    this.sealed.push(this.buf.subarray(0, this.used));
    this.sealedBytes += this.used;
    this.buf = Buffer.allocUnsafe(this.bufferBytes);
    this.used = 0;
  }
}
