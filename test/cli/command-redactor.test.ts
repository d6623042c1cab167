import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactCandidate, redactCommand } from '../../src/alerts/redact.js';
import { mayHoldSecret } from '../../src/alerts/secret-hints.js';
import { CommandRedactor, REMEMBERED_COMMAND_CHARS, REMEMBERED_COMMANDS } from '../../src/cli/command-redactor.js';
import { makeEvent } from '../detect/make-event.js';

/** Commands the redactor changes: each must be sent to it. */
const SECRET_COMMANDS = [
  'mysql -uroot -pS3cret! appdb',
  'mysqldump --password=S3cret appdb',
  'psql --password hunter2 -h db-1',
  'vault write auth --token s.abcdef',
  'tool --secret=abc --api-key xyz --client-secret=q',
  'sshpass -p hunter2 ssh db-1',
  'curl -u alice:hunter2 https://api.example/x',
  'redis-cli -a hunter2 ping',
  'ldapsearch -x -D cn=admin -w hunter2 -b dc=x',
  'smbclient //fs/share -U alice%hunter2',
  'docker login -u bot -p hunter2 registry.example',
  'podman login -p hunter2 quay.io',
  'openssl rsa -in k.pem -passin pass:hunter2',
  'openssl enc -k hunter2',
  'useradd -p $6$salt$hash eve',
  'usermod -p $6$salt$hash eve',
  'htpasswd -b /etc/nginx/htpasswd alice hunter2',
  'ipmitool -P hunter2 power status',
  'sqlcmd -P hunter2 -S db',
  'mongosh -p hunter2',
  'skopeo copy --creds bot:hunter2 a b',
  'aws configure set aws_secret_access_key wJalrXUtnFEMI',
  'kubectl create secret generic db --from-literal=password=hunter2',
  'env PGPASSWORD=hunter2 psql -h db-1',
  'env MYSQL_PWD=hunter2 mysql',
  'git clone https://bob:hunter2@git.example/repo',
  'echo AKIAABCDEFGHIJKLMNOP',
  'echo ghp_abcdefghijklmnopqrstuvwxyz0123456789',
  'echo xoxb-1234567890-abcdefghij',
  'echo eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig',
  'wget https://hooks.slack.com/services/T000/B000/XXXX',
].map((line) => line.split(' ')).concat([
  ['sh', '-c', 'wget --header "Authorization: Bearer abcdef" https://x'],
  ['sh', '-c', 'echo "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----" > k'],
  ['bash', '-c', 'mysql -uroot -phunter2 < dump.sql'],
  // re2's case folding maps the Kelvin sign to k and the long s to s: still secrets.
  ['wget', '--header', 'X-Api-\u212Aey: abcdef'],
  ['echo', 'my_\u017Fecret = Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LzXcVbNm12345'],
]);

describe('mayHoldSecret', () => {
  it('lets every command the redactor changes through', () => {
    for (const argv of SECRET_COMMANDS) {
      expect(redactCommand(argv).redacted, argv.join(' ')).toBe(true);
      expect(mayHoldSecret(argv), argv.join(' ')).toBe(true);
    }
  });

  it('passes over ordinary commands', () => {
    for (const line of ['ls -la /var/log', 'systemctl reload nginx', 'git status', 'ps aux', 'tar czf backup.tgz /srv', 'grep -r TODO src']) {
      expect(mayHoldSecret(line.split(' '))).toBe(false);
    }
  });

  it('never skips a command the redactor would change (commands built from secret-shaped pieces)', () => {
    const piece = fc.constantFrom(
      'mysql', '-p', '-pX', 'sshpass', 'curl', '-u', 'a:b', '--user', 'login', 'docker', 'PASSWORD=x', 'TOKEN=y', 'key=z',
      '--password', '--api-key', 'x', 'hunter2', 'https://a:b@h/', 'Authorization:', 'Bearer', 'cookie:', 'AKIAABCDEFGHIJKLMNOP',
      'ghp_abcdefghijklmnopqrstuvwxyz0123456789', '"secret":', '"v"', '-----BEGIN PRIVATE KEY-----', 'htpasswd', '-b', 'openssl',
      '-passin', 'pass:x', 'ls', '/tmp', '=', ':', '-', 'aws_session_token', '--from-literal=a=b', 'eyJabcdefghij.eyJabcdefghij.x',
      'X-Api-\u212Aey: ', '\u017Fecret=', 'Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LzXcVbNm12345', 'PASS', 'ToKeN', '\u212A', '\u017F',
    );
    const word = fc.oneof(piece, fc.array(piece, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('')), fc.string({ maxLength: 8 }));
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 6 }), (argv) => mayHoldSecret(argv) || !redactCandidate(argv).redacted),
      { numRuns: 3000 },
    );
  });
});

describe('CommandRedactor', () => {
  it('redacts by default, and shows the raw command when turned off', async () => {
    const secret = makeEvent('mysql -uroot -phunter2 appdb');
    const plain = makeEvent('ls -la');
    const on = new CommandRedactor(true);
    await on.prepare([plain, secret]);
    expect(on.show(secret)).toMatchObject({ argv: ['mysql', '-uroot', '-p[REDACTED]', 'appdb'], command: 'mysql -uroot -p[REDACTED] appdb' });
    expect(on.show(plain)).toBe(plain);
    const off = new CommandRedactor(false);
    await off.prepare([secret]);
    expect(off.show(secret)).toBe(secret);
  });

  it('keeps the event own command when a candidate holds nothing to redact', async () => {
    const event = makeEvent('cat /etc/passwd');
    const redactor = new CommandRedactor(true);
    await redactor.prepare([event]);
    expect(redactor.show(event)).toBe(event);
  });
});

describe('CommandRedactor memory', () => {
  it('redacts a repeated command once and shows every repeat the same', async () => {
    const redactor = new CommandRedactor(true);
    const first = makeEvent('mysql -uroot -phunter2 appdb');
    const again = makeEvent('mysql -uroot -phunter2 appdb');
    await redactor.prepare([first]);
    const shown = redactor.show(first);
    expect(shown.command).toBe('mysql -uroot -p[REDACTED] appdb');
    expect(redactor.show(again)).toBe(shown);
  });

  it('tells argument vectors apart that join to the same text', async () => {
    const redactor = new CommandRedactor(true);
    const split = { ...makeEvent('x'), argv: ['curl', '-u', 'alice:s3cret', 'https://example.test'], command: 'curl -u alice:s3cret https://example.test' };
    const joined = { ...makeEvent('x'), argv: ['curl', '-u alice:s3cret', 'https://example.test'], command: 'curl -u alice:s3cret https://example.test' };
    await redactor.prepare([split, joined]);
    const a = redactor.show(split);
    const b = redactor.show(joined);
    expect(a.argv).toHaveLength(4);
    expect(b.argv).toHaveLength(3);
    expect(a.argv.join(' ')).not.toContain('s3cret');
  });

  it('never keys an argv holding NUL, and still redacts it', async () => {
    const redactor = new CommandRedactor(true);
    const a = { ...makeEvent('x'), argv: ['mysql', '-phunter2\0', 'x'], command: 'mysql -phunter2\0 x' };
    const b = { ...makeEvent('x'), argv: ['mysql', '-phunter2', '\0x'], command: 'mysql -phunter2 \0x' };
    await redactor.prepare([a, b]);
    expect(redactor.show(a).argv[2]).toBe('x');
    expect(redactor.show(b).argv[2]).toBe('\0x');
  });

  it('stays bounded and correct past its size and for long commands', async () => {
    const redactor = new CommandRedactor(true);
    const events = Array.from({ length: REMEMBERED_COMMANDS + 10 }, (_, i) => makeEvent(`mysql -uroot -phunter${i} db${i}`));
    const long = makeEvent(`mysql -uroot -plong ${'x'.repeat(REMEMBERED_COMMAND_CHARS)}`);
    await redactor.prepare(events);
    for (const [i, event] of events.entries()) expect(redactor.show(event).command).toBe(`mysql -uroot -p[REDACTED] db${i}`);
    expect(redactor.show(long).command.startsWith('mysql -uroot -p[REDACTED] x')).toBe(true);
    expect(redactor.show(events[0]!).command).toBe('mysql -uroot -p[REDACTED] db0');
  });
});
