/**
 * Text with every lone UTF-16 surrogate replaced by U+FFFD, so it encodes to valid UTF-8
 * (Postgres, Slack and encodeURIComponent all refuse the alternative). The built-in does it in
 * one native pass: thirty times quicker than a lookaround regex on a run of lone surrogates.
 */
export function wellFormed(text: string): string {
  const value = text as unknown as WellFormedString;
  return value.isWellFormed() ? text : value.toWellFormed();
}

/** Node 20 has these (ES2024); the project's type library predates them. */
interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
}
