/**
 * Block Kit for the escalation ladder: a reminder once its conversation ended, the message to the
 * escalation contact, a critical alert's heads-up in the security channel and the outcome reply in
 * its thread. Untrusted text goes through the same escaping helpers as blocks.ts.
 */
import type { AlertView } from '../../alerts/alert.js';
import { humanDuration, outcomeLabel } from '../../alerts/wording.js';
import type { ContactTarget } from '../chat-port.js';
import { alertContext, commandPreview, commandSection, conversationBlocks, fallback, header, mrkdwnSection, provenanceContext, quoteSection, severityText, type Block, type SlackMessage } from './blocks.js';
import { escapeMrkdwn, inlineCode, untrustedMrkdwn } from './escape.js';

/** A reminder after its conversation ended: says so, and no longer sends anyone to the buttons. */
export function reminderEndedMessage(alert: AlertView): SlackMessage {
  // Answered but not finished (the Duo push is out): the question is over, the check is not.
  const headline = alert.status === 'verifying' ? 'You answered this question' : 'This question has ended';
  return {
    text: fallback(`${headline}: ${commandPreview(alert)} on ${alert.host}`),
    blocks: [
      mrkdwnSection(`:white_check_mark: ${headline}: ${outcomeText(alert)}. Nothing more is needed from you here.`),
      commandSection(alert.command, 1000),
      alertContext(alert),
    ],
  };
}

/** To the manager (a DM) or the on-call group (mentioned in the security channel). */
export function contactMessage(alert: AlertView, target: ContactTarget, waitedMs: number): SlackMessage {
  const who = alert.owner === null ? 'a system actor' : inlineCode(alert.owner, 200);
  const greeting = 'userGroupId' in target ? `<!subteam^${target.userGroupId}> ` : '';
  const waited = escapeMrkdwn(humanDuration(waitedMs));
  return {
    text: fallback(`${alert.owner ?? 'Someone'} has not answered about ${commandPreview(alert)} on ${alert.host} for ${humanDuration(waitedMs)}`),
    blocks: [
      mrkdwnSection(
        `${greeting}:wave: ${who} has not answered Vouch's question about this command on ${inlineCode(alert.host, 500)} ` +
          `for ${waited}. Could you check with them? If nobody answers, the security team is told.`,
      ),
      commandSection(alert.command, 1500),
      mrkdwnSection(`*Severity:* ${severityText(alert.severity)}  *Rule:* ${inlineCode(alert.ruleName, 300)}`),
      // "has not answered about this command" names them: how far the log's word can be trusted goes with it.
      ...provenanceContext(alert),
      alertContext(alert),
    ],
  };
}

/** The contact's message once the conversation ended: what became of it, and that nothing is needed. */
export function contactEndedMessage(alert: AlertView): SlackMessage {
  const who = alert.owner === null ? 'a system actor' : inlineCode(alert.owner, 200);
  return {
    text: fallback(`Closed: ${commandPreview(alert)} on ${alert.host}: ${outcomeLabel(alert)}`),
    blocks: [
      mrkdwnSection(`:white_check_mark: The question to ${who} about this command on ${inlineCode(alert.host, 500)} has ended: ${outcomeText(alert)}. Nothing more is needed from you.`),
      commandSection(alert.command, 1500),
      alertContext(alert),
    ],
  };
}

/** A critical alert's heads-up: posted when the person is asked, updated as the answer comes in. */
export function announcementMessage(alert: AlertView): SlackMessage {
  const who = alert.owner === null ? 'a system actor' : inlineCode(alert.owner, 200);
  // The critical hit itself, when it joined a conversation another command opened.
  const hit = alert.criticalHit ?? { ruleName: alert.ruleName, command: alert.command, host: alert.host };
  const asking = alert.status === 'new' ? 'Vouch asks them as soon as their other open question ends' : 'Vouch is asking them now';
  const blocks: Block[] = [
    header(`Critical: ${hit.ruleName}`),
    mrkdwnSection(`${who} ran this on ${inlineCode(hit.host, 500)}; ${asking}. Their answer and the outcome appear here and in the thread.`),
    commandSection(hit.command),
    ...conversationBlocks(alert, 'security'),
    mrkdwnSection(`*Status:* ${outcomeText(alert)}`),
  ];
  if (alert.justification !== null) blocks.push(quoteSection('Their reason', alert.justification));
  // "ran this" is the log's word: the channel sees how far it can be trusted.
  blocks.push(...provenanceContext(alert), alertContext(alert));
  return { text: fallback(`Critical: ${commandPreview({ command: hit.command })} on ${hit.host} by ${alert.owner ?? 'a system actor'}`), blocks };
}

/** The outcome, posted in the heads-up's thread when the alert finished. */
export function outcomeReplyMessage(alert: AlertView): SlackMessage {
  const blocks: Block[] = [mrkdwnSection(`*Outcome:* ${outcomeText(alert)}`)];
  if (alert.justification !== null) blocks.push(quoteSection('Their reason', alert.justification));
  if (alert.escalationDetail !== null) blocks.push(quoteSection('Detail', alert.escalationDetail));
  blocks.push(alertContext(alert));
  return { text: fallback(`Outcome: ${outcomeLabel(alert)}`), blocks };
}

/** The outcome label in mrkdwn: it may quote a second-factor word Duo sent, so it is treated as untrusted. */
function outcomeText(alert: AlertView): string {
  return untrustedMrkdwn(outcomeLabel(alert), 500);
}
