import { VouchError } from '../errors.js';

/** The process exit code for a log none of whose lines is in the chosen format (2 is a usage error). */
export const WRONG_FORMAT_EXIT_CODE = 1;

/**
 * A whole log was read and none of its lines is in the format it was read as: its events were not
 * merely absent, the format was wrong (or, with `--format auto`, none was recognised). The message
 * names the format the lines look like, when they look like one. See checkLogFormat.
 */
export class WrongFormatError extends VouchError {
  readonly exitCode = WRONG_FORMAT_EXIT_CODE;

  constructor(message: string) {
    super('parse_error', message);
  }
}
