/**
 * Closes JSON text that was cut short, so what arrived can still be read. Syslog daemons cut long
 * messages (rsyslog at 8 KiB by default), and sudo's JSON log line for a long command is one such
 * message: without this, a command made long on purpose would arrive as a malformed line instead
 * of an event.
 *
 * An unfinished string value is ended where the text stops (without an escape it was cut inside),
 * a dangling key, colon, comma or unfinished number or literal is dropped, and the objects and
 * arrays left open are closed. Returns null when the text does not start like a JSON object or is
 * not merely cut short (then the caller's own error stands). One pass, linear in the text.
 */
export function closeTruncatedJson(text: string): string | null {
  const scan = new TruncationScan();
  for (let i = 0; i < text.length; i++) {
    if (!scan.step(text, i)) return null;
  }
  return scan.close(text);
}

const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [

/** What the scan expects next inside the innermost container. */
type Expect = 'key' | 'colon' | 'value' | 'after-value';

class TruncationScan {
  /** The open containers, `{` or `[`; entries below `safeDepth` never change after a safe point. */
  private readonly stack: number[] = [];
  private expect: Expect = 'value';
  private inString = false;
  private stringIsKey = false;
  /** Index of the backslash of an escape still being read, or -1; hex digits it still needs. */
  private escapeStart = -1;
  private escapeLeft = 0;
  /** Index where a bare number or literal started, or -1. */
  private bareStart = -1;
  /** The text up to here, with the containers open then closed, is valid JSON. */
  private safeEnd = -1;
  private safeDepth = 0;

  step(text: string, i: number): boolean {
    const c = text.charCodeAt(i);
    if (this.inString) return this.stringChar(c, i);
    if (this.bareStart >= 0) {
      if (isBareChar(c)) return true;
      this.endBare(i);
    }
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) return true;
    if (this.stack.length === 0 && this.expect !== 'value') return false;
    switch (this.expect) {
      case 'key':
        if (c === 0x22) return this.startString(true);
        return c === 0x7d && this.closeContainer(OPEN_OBJECT, i);
      case 'colon':
        if (c !== 0x3a) return false;
        this.expect = 'value';
        return true;
      case 'value':
        return this.value(c, i);
      case 'after-value':
        if (c === 0x2c) {
          this.expect = this.top() === OPEN_OBJECT ? 'key' : 'value';
          return true;
        }
        return (c === 0x7d || c === 0x5d) && this.closeContainer(c === 0x7d ? OPEN_OBJECT : OPEN_ARRAY, i);
    }
  }

  /** The closed text, or null when nothing safe was seen. */
  close(text: string): string | null {
    if (this.stack.length === 0 && this.safeEnd < 0) return null;
    if (this.inString && !this.stringIsKey) {
      const end = this.escapeStart >= 0 ? this.escapeStart : text.length;
      return `${text.slice(0, end)}"${closers(this.stack, this.stack.length)}`;
    }
    if (this.safeEnd < 0) return null;
    return text.slice(0, this.safeEnd) + closers(this.stack, this.safeDepth);
  }

  private value(c: number, i: number): boolean {
    if (this.stack.length === 0 && c !== OPEN_OBJECT) return false;
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      this.stack.push(c);
      this.expect = c === OPEN_OBJECT ? 'key' : 'value';
      this.markSafe(i + 1);
      return true;
    }
    if (c === 0x5d && this.top() === OPEN_ARRAY) return this.closeContainer(OPEN_ARRAY, i);
    if (c === 0x22) return this.startString(false);
    if (!isBareChar(c)) return false;
    this.bareStart = i;
    return true;
  }

  private startString(isKey: boolean): boolean {
    this.inString = true;
    this.stringIsKey = isKey;
    return true;
  }

  private stringChar(c: number, i: number): boolean {
    if (this.escapeStart >= 0) {
      // `\u` is followed by four hex digits; every other escape is one character.
      if (i === this.escapeStart + 1) this.escapeLeft = c === 0x75 ? 4 : 0;
      else this.escapeLeft--;
      if (this.escapeLeft === 0) this.escapeStart = -1;
      return true;
    }
    if (c === 0x5c) {
      this.escapeStart = i;
      return true;
    }
    if (c !== 0x22) return true;
    this.inString = false;
    if (this.stringIsKey) {
      this.expect = 'colon';
    } else {
      this.expect = 'after-value';
      this.markSafe(i + 1);
    }
    return true;
  }

  /** A bare number or literal ended at `i`: it was whole, since something followed it. */
  private endBare(i: number): void {
    this.bareStart = -1;
    this.expect = 'after-value';
    this.markSafe(i);
  }

  private closeContainer(open: number, i: number): boolean {
    if (this.top() !== open) return false;
    this.stack.pop();
    this.expect = 'after-value';
    this.markSafe(i + 1);
    return true;
  }

  private markSafe(end: number): void {
    this.safeEnd = end;
    this.safeDepth = this.stack.length;
  }

  private top(): number | undefined {
    return this.stack[this.stack.length - 1];
  }
}

/** Characters of a JSON number or of true, false and null. */
function isBareChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || (c >= 0x61 && c <= 0x7a) || c === 0x45;
}

function closers(stack: readonly number[], depth: number): string {
  let out = '';
  for (let k = depth - 1; k >= 0; k--) out += stack[k] === OPEN_OBJECT ? '}' : ']';
  return out;
}
