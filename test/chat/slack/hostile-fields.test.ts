import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SlackChat } from '../../../src/chat/slack/slack-chat.js';
import { ManualClock } from '../../../src/clock.js';
import { createSlackSimulator, type SimulatedUser, type SlackSimulator } from '../../../src/sandbox/slack-simulator.js';
import { alertView, textsOf } from './alert-fixture.js';

const TOKEN = 'xoxb-hostile-test';
const SECRET = 'hostile-test-secret';
const SECURITY = 'C0SECURITY';
const quietLogger = { debug: () => {}, warn: () => {}, error: () => {} };

/** Every code point the shared sanitiser must show as an escape, with the escape it shows. */
const INVISIBLE: Array<[string, string]> = [
  ['\u0000', '\\x00'], ['\u001b', '\\x1b'], ['\u007f', '\\x7f'], ['\u0085', '\\x85'], ['\u00ad', '\\xad'],
  ['\u061c', '\\u061c'], ['\u180e', '\\u180e'], ['\u200b', '\\u200b'], ['\u200d', '\\u200d'], ['\u200f', '\\u200f'],
  ['\u202a', '\\u202a'], ['\u202e', '\\u202e'], ['\u2060', '\\u2060'], ['\u2066', '\\u2066'], ['\u2069', '\\u2069'],
  ['\ufeff', '\\ufeff'], ['\ufff9', '\\ufff9'], ['\ufffb', '\\ufffb'], ['\u{e0041}', '\\u{e0041}'],
  ['\u034f', '\\u034f'], ['\u115f', '\\u115f'], ['\u3164', '\\u3164'], ['\uffa0', '\\uffa0'], ['\u17b4', '\\u17b4'],
  ['\u180b', '\\u180b'], ['\u206a', '\\u206a'], ['\u206f', '\\u206f'], ['\u{1d173}', '\\u{1d173}'], ['\u{1bca0}', '\\u{1bca0}'],
];

describe('attacker-controlled fields in the messages Slack receives', () => {
  let sim: SlackSimulator;
  let api: { url: string; close(): Promise<void> };
  let alice: SimulatedUser;
  let chat: SlackChat;

  beforeEach(async () => {
    sim = createSlackSimulator({ botToken: TOKEN, signingSecret: SECRET, clock: new ManualClock(Date.UTC(2026, 0, 1)) });
    api = await sim.listen();
    alice = sim.addUser({ name: 'alice', email: 'alice@example.com' });
    chat = new SlackChat({ botToken: TOKEN, apiUrl: api.url, securityChannel: SECURITY, retryConfig: { retries: 0 }, logger: quietLogger });
  });

  afterEach(async () => {
    await api.close();
  });

  it("lists a conversation's commands one per line, a newline inside one escaped", async () => {
    const alert = alertView({ conversation: { size: 2, commands: ['cat /etc/shadow', 'echo x\nrm -rf /tmp/innocent\n… and 0 more'], hosts: ['db-1'], hostCount: 1 } });
    const question = await chat.askOwner(alert, alice.id);
    const [message] = sim.messages(question.channel);
    const listing = textsOf(message?.blocks).find(({ text }) => text.includes('echo x'));
    expect(listing?.text).toBe('```cat /etc/shadow\necho x\\x0arm -rf /tmp/innocent\\x0a… and 0 more```');
  });

  it('shows a host and directory with mrkdwn and newlines as one literal code span each', async () => {
    const alert = alertView({ host: 'web-1 *bold*\n> quote #000', cwd: '/srv/_x_\n*fake line*', runAs: 'root\r\n~gone~' });
    const question = await chat.askOwner(alert, alice.id);
    const [message] = sim.messages(question.channel);
    const blocks = message?.blocks as Array<Record<string, unknown>>;
    expect(blocks[1]).toEqual({
      type: 'section',
      text: {
        type: 'mrkdwn',
        verbatim: true,
        text:
          'Someone using your account `alice` (running as `root\\x0d\\x0a~gone~`) ran this command on ' +
          '`web-1 *bold*\\x0a&gt; quote #000`. If it was you, tell us why; if not, say so and the security team will look into it.',
      },
    });
    const fields = (blocks[3] as { fields: Array<{ text: string }> }).fields.map((field) => field.text);
    expect(fields[0]).toBe('*Host*\n`web-1 *bold*\\x0a&gt; quote #000`');
    expect(fields[1]).toBe('*Run as*\n`root\\x0d\\x0a~gone~`');
    expect(fields[3]).toBe('*Directory*\n`/srv/_x_\\x0a*fake line*`');
    // No mrkdwn text anywhere carries a raw newline from a single-line field.
    for (const { text } of textsOf(blocks)) expect(text).not.toMatch(/\n(?:>|\*fake|~gone)/);
    // The top-level text (notifications) is mrkdwn too: the formatting characters there are look-alikes.
    expect(message?.text).toBe('Was this you? “cat /etc/shadow” on web-1 \u2217bold\u2217\\x0a&gt; quote #000');
    expect(message?.text).not.toMatch(/[*_~`]/);
  });

  it('keeps mentions, scripts and backticks inert in every field', async () => {
    const hostile = '<!channel> <@U123> <script>x</script> `tick`';
    const alert = alertView({ host: hostile, owner: hostile, ruleName: hostile, command: `echo ${hostile}` });
    const ref = await chat.escalate({ ...alert, ruleName: `:white_check_mark: ${hostile}`, status: 'escalated', escalationReason: 'denied_by_user', justification: `*bold*\n> ${hostile}` });
    const [message] = sim.messages(ref.channel);
    const texts = textsOf(message?.blocks);
    // plain_text is never parsed, so only mrkdwn must carry the escaped form.
    const all = texts.filter((t) => t.type === 'mrkdwn').map((t) => t.text).join('\n');
    expect(all).not.toMatch(/<!channel>|<@U123>|<script>/);
    const escaped = '&lt;!channel&gt; &lt;@U123&gt; &lt;script&gt;x&lt;/script&gt; \u02cbtick\u02cb';
    expect(all).toContain(`*Host*\n\`${escaped}\``);
    expect(all).toContain(`\`\`\`echo ${escaped}\`\`\``);
    // The typed reason keeps its lines, inside a code block where `*` and `>` are not markup.
    expect(all).toContain(`*Justification*\n\`\`\`*bold*\n&gt; ${escaped}\`\`\``);
    expect(texts.find((t) => t.path === '/0/text')?.text).toBe(
      '🚨 Owner says it was not them: :white_check_mark: <!channel> <@U123> <script>x</script> `tick`',
    );
    expect(message?.blocks?.[0]).toMatchObject({ type: 'header', text: { type: 'plain_text', emoji: false } });
  });

  it('shows control, bidi and zero-width characters as escapes in the command and the host', async () => {
    const raw = INVISIBLE.map(([char]) => char).join('|');
    const shown = INVISIBLE.map(([, escape]) => escape).join('|');
    const question = await chat.askOwner(alertView({ host: `h${raw}`, command: `rm ${raw}\tx` }), alice.id);
    const [message] = sim.messages(question.channel);
    const texts = textsOf(message?.blocks).map((t) => t.text);
    expect(texts).toContain(`\`\`\`rm ${shown}\tx\`\`\``);
    expect(texts).toContain(`*Host*\n\`h${shown}\``);
    for (const [char] of INVISIBLE) expect(JSON.stringify(message)).not.toContain(char);
  });

  it('fits a 1 MB argument and repeated = in every field within Block Kit limits', async () => {
    const huge = `${'='.repeat(500_000)}${'\u202e*x*\n'.repeat(100_000)}`;
    const alert = alertView({ host: huge, cwd: huge, owner: huge, runAs: huge, ruleName: huge, command: huge });
    const question = await chat.askOwner(alert, alice.id);
    const [message] = sim.messages(question.channel);
    const fields = (message?.blocks as Array<{ fields?: Array<{ text: string }> }>)[3]?.fields ?? [];
    expect(fields[0]?.text).toMatch(/^\*Host\*\n`=+… \[\d+ more characters\]`$/);
    expect(fields[0]?.text.length).toBeLessThanOrEqual(2000);
    const escalation = await chat.escalate({ ...alert, status: 'escalated', escalationReason: 'no_response', justification: huge });
    expect(sim.messages(escalation.channel)).toHaveLength(1);
  });
});
