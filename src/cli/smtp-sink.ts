// A local SMTP server for the demo, tests and benchmarks (smtp-server). It accepts everything,
// except: local parts starting with "nouser" get 550 5.1.1; "greylist" ones get 451 4.7.1 the
// first `tempfailTimes` times. Behaviour can be changed at run time (auth failure, outage).
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { AddressInfo } from 'node:net';

export interface SinkMessage {
  from: string;
  to: string[];
  raw: Buffer;
  /** What the client asked of DSNs (RET, ENVID; per recipient NOTIFY, ORCPT). */
  dsn: { ret: string | null; envid: string | null; rcpt: Array<{ notify: string[] | null; orcpt: string | null }> };
}

export interface SmtpSink {
  port: number;
  url: string;
  received: number;
  messages: SinkMessage[];
  /** Every RCPT that was answered, by address: how often. */
  rcptCount: Map<string, number>;
  /** Messages accepted, by recipient address: how often. */
  deliveredTo: Map<string, number>;
  mode: { authFail: boolean; tempfailTimes: number; keep: boolean; delayMs: number; rcptHook?: (address: string) => { code: number; message: string } | null };
  close(): Promise<void>;
}

export async function startSmtpSink(opts: { port?: number; keep?: boolean; tempfailTimes?: number; dsn?: boolean } = {}): Promise<SmtpSink> {
  const sink: SmtpSink = {
    port: 0, url: '', received: 0, messages: [], rcptCount: new Map(), deliveredTo: new Map(),
    mode: { authFail: false, tempfailTimes: opts.tempfailTimes ?? 1, keep: opts.keep ?? false, delayMs: 0 },
    close: async () => {},
  };
  const fail = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });
  const options: SMTPServerOptions = {
    authOptional: true,
    hideDSN: opts.dsn === false, // offer DSN, as Postfix does (a relay then passes the request on instead of reporting `relayed`)
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: 10 * 1024 * 1024,
    closeTimeout: 1000, // idle pooled clients must not hold a shutdown for 30 s
    onConnect(_session, cb) {
      cb();
    },
    onMailFrom(_address, _session, cb) {
      if (sink.mode.authFail) return cb(fail(535, '5.7.8 Authentication credentials invalid'));
      cb();
    },
    onRcptTo(address, _session, cb) {
      const a = address.address.toLowerCase();
      const seen = (sink.rcptCount.get(a) ?? 0) + 1;
      sink.rcptCount.set(a, seen);
      const hooked = sink.mode.rcptHook?.(a);
      if (hooked) return cb(fail(hooked.code, hooked.message));
      if (a.startsWith('nouser')) return cb(fail(550, '5.1.1 <' + a + '>: Recipient address rejected: User unknown'));
      if (a.startsWith('greylist') && seen <= sink.mode.tempfailTimes) return cb(fail(451, '4.7.1 Greylisted, try again later'));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => sink.mode.keep && chunks.push(c));
      stream.on('end', async () => {
        if (sink.mode.delayMs) await new Promise((r) => setTimeout(r, sink.mode.delayMs));
        sink.received++;
        for (const r of session.envelope.rcptTo) {
          const a = r.address.toLowerCase();
          sink.deliveredTo.set(a, (sink.deliveredTo.get(a) ?? 0) + 1);
        }
        if (sink.mode.keep) {
          sink.messages.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks),
            dsn: {
              ret: session.envelope.dsn?.ret ?? null, envid: session.envelope.dsn?.envid ?? null,
              rcpt: session.envelope.rcptTo.map((r) => ({ notify: (r.dsn?.notify as string[] | undefined) ?? null, orcpt: r.dsn?.orcpt ?? null })),
            },
          });
        }
        cb(null, `2.0.0 Ok: queued as S${sink.received}`);
      });
    },
  };
  const server = new SMTPServer(options);
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  sink.port = (server.server.address() as AddressInfo).port;
  sink.url = `smtp://127.0.0.1:${sink.port}`;
  sink.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return sink;
}
