// The inbound bounce receiver: an SMTP server that takes DSNs to VERP addresses
// (bounce+<noticeId>.<hmac>@BOUNCE_DOMAIN), refuses forged ones at RCPT, parses what arrives and
// records one bounce event per notice and recipient, then queues it for the bounce worker.
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { analyzeBounce } from '../domain/bounce.ts';
import { REASONS } from '../domain/bounce-rules.ts';
import type { Logger } from '../logger.ts';
import { parseVerp } from '../channels/email/verp.ts';
import { toMailParts } from './mail-parts.ts';
import type { NewBounceEvent } from './bounce-store.ts';
import { listenError } from '../dependencies.ts';
import type { Config } from '../config.ts';
import type { Queryable } from '../db/pool.ts';
import type { Queues } from '../../queues/queues.ts';
import { makeBounceAcceptor } from './accept-bounce.ts';
import { getNotice } from '../db/notice-store.ts';

export interface ReceiverDeps {
  host: string;
  port: number;
  verpSecret: string;
  bounceDomain: string;
  /** Record and queue; returns false when it was a duplicate. */
  accept: (e: NewBounceEvent) => Promise<boolean>;
  log: Logger;
  maxBytes?: number;
  limits?: Partial<ReceiverLimits>;
  /**
   * The address a notice was sent to: the VERP address names the notice, so a report that names
   * nobody (an AOL screen name) or somebody else (a forwarding address) is still about it.
   */
  addressOf?: (noticeId: number) => Promise<string | null>;
}

/** What one sender may take of the receiver: it faces the internet on an MX host. */
export interface ReceiverLimits {
  /** Connections at once; past it a newcomer gets 421. */
  maxClients: number;
  /** Recipients one connection may name (a DSN names one VERP address); past it 452, then goodbye. */
  maxRecipients: number;
  /** Refused (forged) recipients one connection may try before it is disconnected. */
  maxRefused: number;
  /** A connection silent this long is closed. */
  idleMs: number;
  /** A connection open this long is closed, however busy (one byte every 45 s defeats an idle timer). */
  maxConnectionMs: number;
}
export const RECEIVER_LIMITS: ReceiverLimits = { maxClients: 100, maxRecipients: 50, maxRefused: 10, idleMs: 30_000, maxConnectionMs: 300_000 };

export interface BounceReceiver {
  port: number;
  stats: { accepted: number; forged: number; unparsed: number; duplicates: number };
  close(): Promise<void>;
}

export async function startBounceReceiver(d: ReceiverDeps): Promise<BounceReceiver> {
  const stats = { accepted: 0, forged: 0, unparsed: 0, duplicates: 0 };
  const maxBytes = d.maxBytes ?? 5 * 1024 * 1024;
  const limits = { ...RECEIVER_LIMITS, ...d.limits };
  // Refused recipients per connection: logged once when the first comes and once, summed, at the
  // end, never once per line (10,000 bad RCPTs must not be 10,000 log lines).
  const refused = new Map<string, number>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: maxBytes,
    closeTimeout: 1000,
    maxClients: limits.maxClients,
    socketTimeout: limits.idleMs,
    onRcptTo(address, session, cb) {
      if (session.envelope.rcptTo.length >= limits.maxRecipients) {
        return cb(Object.assign(new Error(`4.5.3 Too many recipients (at most ${limits.maxRecipients} per connection)`), { responseCode: 452 }));
      }
      if (parseVerp(d.verpSecret, d.bounceDomain, address.address) === null) {
        stats.forged++;
        const n = (refused.get(session.id) ?? 0) + 1;
        refused.set(session.id, n);
        if (n === 1) d.log.warn({ event: 'bounce_refused', session: session.id }, 'refused a bounce to an address that is not a valid VERP address');
        if (n > limits.maxRefused) return cb(Object.assign(new Error('4.7.0 Too many invalid recipients; closing'), { responseCode: 421 }));
        return cb(Object.assign(new Error('5.1.1 No such bounce address'), { responseCode: 550 }));
      }
      cb();
    },
    onClose(session) {
      const n = refused.get(session.id);
      if (n && n > 1) d.log.warn({ event: 'bounce_refused', session: session.id, refused: n }, 'refused bounces to invalid VERP addresses on one connection');
      refused.delete(session.id);
    },
    onData(stream, session, cb) {
      // Keep at most maxBytes: past it, the rest is read and thrown away, and the message refused.
      const chunks: Buffer[] = [];
      let bytes = 0;
      stream.on('data', (c: Buffer) => {
        bytes += c.length;
        if (bytes <= maxBytes) chunks.push(c);
      });
      stream.on('end', async () => {
        if (bytes > maxBytes || (stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) {
          chunks.length = 0;
          return cb(Object.assign(new Error('5.3.4 Message too big'), { responseCode: 552 }));
        }
        const raw = Buffer.concat(chunks);
        try {
          const parts = await toMailParts(raw);
          const own = (a: string) => a.toLowerCase().endsWith(`@${d.bounceDomain.toLowerCase()}`);
          const digest = createHash('sha256').update(raw).digest('hex').slice(0, 32);
          for (const rcpt of session.envelope.rcptTo) {
            const noticeId = parseVerp(d.verpSecret, d.bounceDomain, rcpt.address);
            if (noticeId === null) continue;
            const report = analyzeBounce(parts, own, { expected: (await d.addressOf?.(noticeId)) ?? null });
            // One message to one VERP address speaks of one notice (we send one recipient per
            // message): its first recipient that failed decides, else its first.
            const r = report.recipients.find((x) => REASONS[x.reason].route !== 'ignore') ?? report.recipients[0];
            const fresh = await d.accept({ noticeId, source: 'dsn', class: r.class, reason: r.reason, action: r.action, status: r.status, diagnostic: r.diagnostic, reportingMta: r.reportingMta ?? null, dedupeKey: `dsn:${digest}:${noticeId}` });
            if (fresh) stats.accepted++;
            else stats.duplicates++;
            d.log.info({ noticeId, class: r.class, reason: r.reason, status: r.status, kind: report.kind, addressFrom: r.addressFrom ?? null }, 'bounce received');
          }
          cb();
        } catch (err) {
          stats.unparsed++;
          d.log.error({ err: (err as Error).message }, 'could not parse or record a bounce; asking the sender to retry');
          cb(Object.assign(new Error('4.3.0 Temporary failure, try again'), { responseCode: 451 }));
        }
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(listenError(err, d.host, d.port, 'BOUNCE_SMTP_PORT')));
    server.listen(d.port, d.host, () => resolve());
  });
  server.on('error', (err) => d.log.error({ err: err.message }, 'bounce receiver error'));
  server.server.on('connection', (socket: import('node:net').Socket) => {
    const timer = setTimeout(() => socket.destroy(), limits.maxConnectionMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
  return {
    port: (server.server.address() as AddressInfo).port,
    stats,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** `notice receive`: the receiver with the app's settings, recording into PostgreSQL and queueing. */
export function startReceiverFor(app: { config: Config; log: Logger; db: Queryable; queues: Queues }, port = app.config.BOUNCE_SMTP_PORT): Promise<BounceReceiver> {
  const c = app.config;
  return startBounceReceiver({
    host: c.BOUNCE_SMTP_HOST, port, verpSecret: c.VERP_SECRET, bounceDomain: c.BOUNCE_DOMAIN, accept: makeBounceAcceptor(app), log: app.log.child({ component: 'bounce-receiver' }),
    addressOf: async (id) => (await getNotice(app.db, id))?.email ?? null,
  });
}
