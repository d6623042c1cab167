import type { Migration } from 'kysely';
import * as initial from './0001_initial.js';
import * as suppressions from './0002_suppressions.js';
import * as eventProvenance from './0003_event_provenance.js';
import * as auditChains from './0004_audit_chains.js';
import * as jobEngine from './0005_job_engine.js';
import * as reviewConsole from './0007_review_console.js';
import * as quiet from './0008_quiet.js';
import * as conversations from './0010_conversations.js';
import * as answerBinding from './0011_answer_binding.js';
import * as ladder from './0012_ladder.js';
import * as checkpointFingerprint from './0013_checkpoint_fingerprint.js';
import * as repeatReplies from './0014_repeat_replies.js';
import * as askAgainRounds from './0015_ask_again_rounds.js';
import * as checkpointReadOffset from './0016_checkpoint_read_offset.js';
import * as ingestHeldLines from './0017_ingest_held_lines.js';

/**
 * Every migration, in order. Append-only: a shipped migration is never edited; a change to the
 * schema is a new numbered file added at the end of this list.
 */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_suppressions': suppressions,
  '0003_event_provenance': eventProvenance,
  '0004_audit_chains': auditChains,
  '0005_job_engine': jobEngine,
  '0007_review_console': reviewConsole,
  '0008_quiet': quiet,
  '0010_conversations': conversations,
  '0011_answer_binding': answerBinding,
  '0012_ladder': ladder,
  '0013_checkpoint_fingerprint': checkpointFingerprint,
  '0014_repeat_replies': repeatReplies,
  '0015_ask_again_rounds': askAgainRounds,
  '0016_checkpoint_read_offset': checkpointReadOffset,
  '0017_ingest_held_lines': ingestHeldLines,
};
