import type { Severity } from '../alerts/alert.js';
import type { CommandEvent } from '../sources/command-event.js';

/** What a rule match contributes to an alert. */
export interface RuleMatch {
  ruleId: string;
  ruleName: string;
  severity: Severity;
  /** MITRE ATT&CK technique ids. */
  attack: string[];
  /** `observe` rules record hits but never message anyone. */
  mode: 'alert' | 'observe';
  /** Never covered by an earlier verification (critical rules by default). */
  alwaysAsk?: boolean;
}

/** A compiled set of rules. */
export interface RuleSet {
  readonly size: number;
  /** The most severe rule the event matches (first in file order on ties), or null. */
  match(event: CommandEvent): RuleMatch | null;
}
