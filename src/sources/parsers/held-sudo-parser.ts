import { isUtf8 } from 'node:buffer';
import { lineEnd, type LineBlock } from '../line-block.js';
import { emptyOutput, type LogParser, type ParseOutput, type ParserOptions } from '../parser.js';
import { decodeKeepingBytes } from './kept-bytes.js';
import { FieldError, malformed, screenLine, stripCarriageReturn } from './parse-support.js';
import { SudoAssembler } from './sudo-assembler.js';

/** Default time a sudo message waits for its `(command continued)` parts. */
export const DEFAULT_SUDO_HOLD_MS = 2000;

/**
 * The frame shared by the sudo parsers whose messages may continue on later lines (syslog and
 * journald): held messages live in a SudoAssembler, every line is screened first, and a parser
 * error costs one line, never the source. Subclasses parse one screened, non-empty line.
 */
export abstract class HeldSudoParser implements LogParser {
  abstract readonly format: string;
  protected readonly assembler: SudoAssembler;

  constructor(protected readonly options: ParserOptions) {
    this.assembler = new SudoAssembler(options.eventTimeoutMs ?? DEFAULT_SUDO_HOLD_MS);
  }

  push(line: string, offset: number, now: Date): ParseOutput {
    const out = emptyOutput();
    this.pushLine(line, null, offset, now, out);
    return out;
  }

  /**
   * Lines as bytes: each is decoded as push() would have it, and a line that is not valid UTF-8
   * also as kept text (kept-bytes.ts), so the halves of a character sudo cut between two
   * `(command continued)` parts can be joined.
   */
  pushBlock(block: LineBlock, now: Date, out: ParseOutput): void {
    const { bytes, end } = block;
    for (let pos = block.start; pos < end; ) {
      const stop = lineEnd(block, pos);
      const offset = block.offset + (pos - block.start);
      if (block.ascii) this.pushLine(bytes.toString('latin1', pos, stop), null, offset, now, out);
      else {
        const lineBytes = bytes.subarray(pos, stop);
        const kept = isUtf8(lineBytes) ? null : stripCarriageReturn(decodeKeepingBytes(lineBytes));
        this.pushLine(lineBytes.toString('utf8'), kept, offset, now, out);
      }
      pos = stop + 1;
    }
  }

  private pushLine(line: string, kept: string | null, offset: number, now: Date, out: ParseOutput): void {
    const text = stripCarriageReturn(line);
    try {
      if (text.trim() !== '') {
        const screened = screenLine(text);
        if (screened !== null) out.malformed.push(malformed(screened, text, offset));
        else this.handle(text, offset, now, out, kept);
      }
    } catch (error) {
      // A field of the wrong type is bad input; anything else is a parser bug, contained here.
      if (error instanceof FieldError) out.malformed.push(malformed('bad_json', line, offset, error.message));
      else out.malformed.push(malformed('unrecognized', line, offset, `parser error: ${String(error)}`));
    }
    this.assembler.expire(now, out);
  }

  flush(): ParseOutput {
    const out = emptyOutput();
    this.assembler.flush(out);
    return out;
  }

  lowWaterMark(): number | null {
    return this.assembler.lowWaterMark();
  }

  /**
   * Parses one screened, non-empty line into `out` (events go through the assembler). `kept` is
   * the line as kept text when it is not valid UTF-8 and was read as bytes, else null.
   */
  protected abstract handle(line: string, offset: number, now: Date, out: ParseOutput, kept: string | null): void;
}
