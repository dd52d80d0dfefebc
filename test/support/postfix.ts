// A real Postfix (Debian's package) for tests: our relay, on 127.0.0.1, with a config directory,
// queue and log of its own under a temporary directory (never the system's /etc/postfix
// instance). `routes` says where it relays each domain (the recipients' sink, our bounce
// receiver); queue lifetimes are seconds, so deferral and DSNs happen within a test. Stopped by
// its master's PID.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './processes.ts';
import { waitFor } from './harness.ts';

export interface Postfix {
  port: number;
  url: string;
  dir: string;
  log(): string;
  stop(): Promise<void>;
}

export const hasPostfix = () => existsSync('/usr/sbin/postfix') && existsSync('/usr/lib/postfix/sbin/master');

const MASTER = (port: number) => `
127.0.0.1:${port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
`;

export async function startPrivatePostfix(o: { routes: Record<string, number | string>; queueLifetime?: string; extra?: string[] }): Promise<Postfix> {
  const dir = mkdtempSync(path.join(tmpdir(), 'notice-postfix-'));
  chmodSync(dir, 0o755); // Postfix's own daemons (user postfix) must reach their queue and data
  const etc = path.join(dir, 'etc');
  const queue = path.join(dir, 'queue');
  const data = path.join(dir, 'data');
  for (const d of [etc, queue, data]) mkdirSync(d, { recursive: true });
  const { uid, gid } = postfixIds();
  chownSync(data, uid, gid);
  const port = await freePort();
  // A port: relay there by SMTP; a string: a Postfix transport as is (e.g. discard:, Postfix's own final delivery).
  const routes = Object.entries(o.routes).map(([domain, p]) => `${domain}=${typeof p === 'number' ? `smtp:[127.0.0.1]:${p}` : p}`).join(', ');
  const lifetime = o.queueLifetime ?? '30s';
  writeFileSync(path.join(etc, 'main.cf'), [
    'compatibility_level = 3.6',
    `queue_directory = ${queue}`,
    `data_directory = ${data}`,
    'command_directory = /usr/sbin',
    'daemon_directory = /usr/lib/postfix/sbin',
    'meta_directory = /etc/postfix',
    'shlib_directory = /usr/lib/postfix',
    'mail_owner = postfix',
    'setgid_group = postdrop',
    'inet_interfaces = 127.0.0.1',
    'inet_protocols = ipv4',
    'myhostname = relay.notice-test.example',
    'mydomain = notice-test.example',
    'myorigin = $myhostname',
    'mydestination =',
    'relayhost =',
    'mynetworks = 127.0.0.0/8',
    'smtpd_relay_restrictions = permit_mynetworks, reject',
    `transport_maps = inline:{ ${routes} }`,
    'default_transport = error:no route in this test relay',
    'smtp_dns_support_level = disabled',
    'smtp_tls_security_level = none',
    'smtpd_tls_security_level = none',
    'alias_maps =',
    'alias_database =',
    'local_recipient_maps =',
    'biff = no',
    'notify_classes =',
    `maillog_file = ${path.join(dir, 'maillog')}`,
    `maillog_file_prefixes = ${dir}`,
    `maximal_queue_lifetime = ${lifetime}`,
    `bounce_queue_lifetime = ${lifetime}`,
    'queue_run_delay = 1s',
    'minimal_backoff_time = 1s',
    'maximal_backoff_time = 2s',
    'smtp_connect_timeout = 5s',
    'smtpd_client_connection_rate_limit = 0',
    'default_process_limit = 50',
    ...(o.extra ?? []),
    '',
  ].join('\n'));
  writeFileSync(path.join(etc, 'master.cf'), MASTER(port));
  const run = (...args: string[]) => spawnSync('/usr/sbin/postfix', ['-c', etc, ...args], { encoding: 'utf8' });
  const started = run('start');
  if (started.status !== 0) throw new Error(`postfix did not start: ${started.stderr || started.stdout}`);
  const pidFile = path.join(queue, 'pid', 'master.pid');
  await waitFor(() => existsSync(pidFile), { what: 'postfix master.pid', timeoutMs: 20_000 });
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    dir,
    log: () => (existsSync(path.join(dir, 'maillog')) ? readFileSync(path.join(dir, 'maillog'), 'utf8') : ''),
    async stop() {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone already */
      }
      await waitFor(() => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      }, { what: 'postfix master to exit', timeoutMs: 20_000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postfixIds(): { uid: number; gid: number } {
  const r = spawnSync('id', ['-u', 'postfix'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postfix'], { encoding: 'utf8' });
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}
