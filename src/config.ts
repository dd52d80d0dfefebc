// The one place that reads process.env. Every key has a default that works with
// scripts/services.sh and a description; every problem is listed at once at start-up.
import { PermanentError } from './domain/errors.ts';
import { z } from 'zod';

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
export const configSchema = z.object({
  DATABASE_URL: z.string().default('postgres://notice@127.0.0.1:15432/notice').describe('PostgreSQL, the source of truth'),
  REDIS_URL: z.string().default('redis://127.0.0.1:16379').describe('Redis for BullMQ (noeviction, AOF)'),
  QUEUE_PREFIX: z.string().default('{notice}').describe('BullMQ key prefix; the {hash tag} keeps a queue in one Redis Cluster slot'),
  MAIL_TRANSPORT: z.enum(['smtp', 'ses']).default('smtp').describe('how email leaves: pooled SMTP or Amazon SES'),
  SMTP_URL: z.string().default('smtp://127.0.0.1:2525').describe('SMTP relay, e.g. smtps://user:pass@host:465'),
  SMTP_POOL_SIZE: int(5, 1).describe('pooled SMTP connections per worker process'),
  SMTP_TIMEOUT_MS: int(30_000, 100).describe('socket/greeting timeout for SMTP'),
  SES_REGION: z.string().default('ap-northeast-1').describe('SES region'),
  SES_ENDPOINT: z.string().optional().describe('override the SES endpoint (local SES-compatible server)'),
  SES_ACCESS_KEY_ID: z.string().optional().describe('SES credentials; default AWS provider chain when absent'),
  SES_SECRET_ACCESS_KEY: z.string().optional().describe('SES secret key (with SES_ACCESS_KEY_ID)'),
  DKIM_DOMAIN: z.string().default('').describe('DKIM: the signing domain (d=); must be the From domain or its parent (DMARC alignment). Empty: no signing'),
  DKIM_SELECTOR: z.string().default('').describe('DKIM: the selector (s=) of the key in DKIM_PRIVATE_KEY_FILE'),
  DKIM_PRIVATE_KEY_FILE: z.string().default('').describe('DKIM: PEM private key (RSA 2048 or Ed25519)'),
  DKIM_SELECTOR_2: z.string().default('').describe('DKIM: a second selector, signing beside the first while keys rotate'),
  DKIM_PRIVATE_KEY_FILE_2: z.string().default('').describe('DKIM: the second key'),
  FEEDBACK_ID_SENDER: z.string().default('').describe('the sender id in the Feedback-ID header (Gmail feedback loop: campaign:segment:notice:SENDER). Empty: the From domain'),
  MAIL_FROM: z.string().default('Incident Response <notice@example.com>').describe('From header of every notice'),
  BOUNCE_DOMAIN: z.string().default('bounce.example.com').describe('domain of the VERP return path'),
  VERP_SECRET: z.string().min(32, 'at least 32 characters (e.g. `openssl rand -base64 32`): it signs the bounce addresses and Message-IDs').default('dev-only-verp-secret-change-me-now').describe('HMAC key for VERP return paths and Message-IDs (32+ characters)'),
  SEND_RATE_PER_SEC: int(0).describe('global messages/second across all workers; 0 = unlimited'),
  WORKER_CONCURRENCY: int(20, 1).describe('email jobs in flight per worker process'),
  SEND_ATTEMPTS: int(6, 1).describe('recipient-level tries before a person goes to post'),
  BACKOFF_BASE_MS: int(60_000, 1).describe('first retry delay; doubles each attempt, with jitter'),
  BACKOFF_MAX_MS: int(3_600_000, 1).describe('largest retry delay'),
  INFRA_RETRY_MS: int(30_000, 1).describe('delay after a relay/connection failure (does not use up attempts)'),
  OUTAGE_PAUSE_MS: int(600_000, 1).describe('a relay outage this long pauses the campaign'),
  THROTTLE_BACKOFF_MS: int(1_000, 1).describe('how long the queue rests after the provider throttles'),
  ERROR_BUDGET: int(50, 0).describe('message-problem failures (5.7.x) before a campaign pauses itself'),
  MX_CHECK: z.enum(['on', 'off']).default('on').describe('before launch sends anyone email, look up each recipient domain once (MX, else A/AAAA); people at domains that cannot receive mail get a letter at once (host_unknown). A failed lookup is not a verdict'),
  DNS_SERVERS: z.string().default('').transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean)).describe('DNS servers for MX_CHECK (host or host:port, comma-separated); empty: the system\'s'),
  MX_TIMEOUT_MS: int(2000, 50).describe('one MX_CHECK lookup gives up after this long (and is then no verdict)'),
  REPUTATION_WINDOW: int(1000, 10).describe('reputation brakes: rates are over a campaign\'s last this many sends'),
  REPUTATION_WARN_HARD: z.coerce.number().min(0).max(1).default(0.05).describe('hard-bounce share above which a campaign is slowed (SES reviews accounts above 5 %)'),
  REPUTATION_PAUSE_HARD: z.coerce.number().min(0).max(1).default(0.1).describe('hard-bounce share above which a campaign pauses (SES suspends near 10 %)'),
  REPUTATION_WARN_COMPLAINT: z.coerce.number().min(0).max(1).default(0.001).describe('complaint share above which a campaign is slowed'),
  REPUTATION_PAUSE_COMPLAINT: z.coerce.number().min(0).max(1).default(0.003).describe('complaint share above which a campaign pauses (Gmail\'s limit 0.3 %)'),
  REPUTATION_SLOW_HOURLY: int(1000, 1).describe('emails per hour at most while a campaign is slowed by the reputation brakes'),
  EMAIL_CONFIRM_DEADLINE_MS: int(48 * 3_600_000, 1000).describe('a delayed email with no final answer (delivered or failed) this long after the delay warning gets a letter (per campaign: notice campaign confirm-deadline)'),
  SEND_LEASE_MS: int(120_000, 1).describe('a notice claimed this long ago with no outcome may be claimed again'),
  WORKER_LOCK_MS: int(30_000, 1000).describe('BullMQ job lock; a killed worker\'s jobs return after this'),
  RECONCILE_INTERVAL_MS: int(60_000, 100).describe('how often a worker looks for notices with no live job'),
  RELAY_PAGE_SIZE: int(5000, 1).describe('notices per page (and per transaction) when launching'),
  RELAY_WINDOW: int(20_000, 1).describe('people whose email jobs are in Redis at a time; the relay tops the window up as it drains, so Redis holds the window, not the campaign'),
  RELAY_TOPUP_MS: int(500, 50).describe('how often a worker tops the window up (one relay at a time across machines)'),
  EMAIL_CHUNK_SIZE: int(50, 1).describe('people per email job from the relay (claimed in one statement, sent side by side)'),
  PACING_RECHECK_MS: int(60_000, 100).describe('people held by quiet hours or an hourly cap ask again at least this often (a pacing change is obeyed within it)'),
  BOUNCE_SMTP_HOST: z.string().default('127.0.0.1').describe('where the inbound bounce receiver listens'),
  BOUNCE_SMTP_PORT: int(2526, 0).describe('port of the inbound bounce receiver (DSNs to VERP addresses); 0 = off'),
  SOFT_BOUNCE_LIMIT: int(2, 1).describe('asynchronous soft bounces before a person goes to post (email is retried before that)'),
  SNS_TOPIC_ARNS: z.string().default('').describe('comma-separated SNS topics /webhooks/ses accepts; empty = none'),
  WORKER_METRICS_HOST: z.string().default('127.0.0.1').describe('where each `notice worker` answers Prometheus (GET /metrics)'),
  WORKER_METRICS_PORT: int(9464, 0).describe('first port a worker tries for /metrics; it takes the first free one of the next 16, so several workers share a machine; 0 = no metrics port'),
  HTTP_HOST: z.string().default('127.0.0.1').describe('where `notice serve` listens'),
  HTTP_PORT: int(8080, 0).describe('port of `notice serve`'),
  DASHBOARD_SAMPLE_MS: int(10_000, 100).describe('how often `notice serve` samples running campaigns for the dashboard\'s charts'),
  BATCH_MAX_SIZE: int(5000, 1).describe('a print batch closes at this many letters'),
  BATCH_MAX_AGE_MS: int(3_600_000, 1000).describe('a print batch closes when its first letter is this old'),
  PDF_FONT: z.string().default('/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf').describe('Japanese TTF for letters.pdf (Debian fonts-ipaexfont-mincho)'),
  RETURN_ADDRESS: z.string().default('〒100-0005 東京都千代田区丸の内1-1-1 通販ストア株式会社 お客様窓口').describe('printed on every letter'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino level'),
  LOG_FILE: z.string().optional().describe('write logs to this file instead of stderr'),
  NOTICE_DATA_DIR: z.string().optional().describe('where services.sh keeps data (default .data/)'),
  NOTICE_DEV: z.stringbool().default(false).describe('development mode: lets worker/serve/receive start with the built-in VERP_SECRET; refused together with NODE_ENV=production'),
  NODE_ENV: z.string().default('').describe('production: worker/serve/receive refuse development settings (NOTICE_DEV, the built-in VERP_SECRET)'),
  CONFIG_BOUNCE_DOMAINS: int(3, 1).describe('asynchronous bounces blaming our setup (SPF/DKIM/DMARC) from this many receiving domains within CONFIG_BOUNCE_WINDOW_MS pause the campaign'),
  CONFIG_BOUNCE_MIN_PEOPLE: int(10, 1).describe('…and from at least this many distinct people (each recipient can forge a bounce for their own mailbox)'),
  CONFIG_BOUNCE_SHARE: z.coerce.number().min(0).max(1).default(0.02).describe('…and from at least this share of the emails the campaign sent within the window (0.02 = 2 %)'),
  CONFIG_BOUNCE_WINDOW_MS: int(3_600_000, 1000).describe('the window in which CONFIG_BOUNCE_DOMAINS is counted'),
  ENQUIRY_DESK: z.string().default('通販ストア お客様窓口 0120-000-000（平日 9:00〜18:00） / Customer desk 0120-000-000 (weekdays 9:00–18:00 JST)').describe('the enquiry desk the public announcement names'),
  ORGANISATION_NAME: z.string().default('通販ストア株式会社 (Example Store Co., Ltd.)').describe('who sends the notices: shown on the public /verify page'),
  VERIFY_RATE_MAX: int(30, 1).describe('/verify lookups one client may make per VERIFY_RATE_WINDOW_MS (a call centre with an operator token is not limited)'),
  VERIFY_RATE_WINDOW_MS: int(600_000, 1000).describe('the window of VERIFY_RATE_MAX'),
  VERIFY_FLOOR_MS: int(150, 0).describe('every /verify answer takes at least this long, found or not, so timing tells nothing'),
  UPLOAD_MAX_BYTES: int(4 * 1024 * 1024 * 1024, 1).describe('largest recipient CSV accepted over HTTP (it is streamed to a temporary file, never held in memory)'),
  TRUST_PROXY: z.string().default('').transform(parseTrustProxy).describe('behind reverse proxies: how many hops to trust (a number, e.g. 1), or the proxies\' addresses/CIDRs (comma list, e.g. 10.0.0.0/8,127.0.0.1); the client address is the nearest untrusted one in X-Forwarded-For. Empty: trust none'),
  PUBLIC_ORIGINS: z.string().default('').transform((s) => s.split(',').map((x) => x.trim().replace(/\/$/, '')).filter(Boolean)).describe('the origins (scheme://host[:port]) browsers reach `notice serve` at, comma-separated; a write whose Origin is another is refused. Empty: the request\'s own scheme and host'),
  REPORT_POOL_SIZE: int(2, 1).describe('PostgreSQL connections `notice serve` gives report downloads (apart from the API\'s own)'),
  SESSION_TTL_MS: int(8 * 3_600_000, 60_000).describe('how long a browser sign-in lasts'),
  DEPENDENCY_TIMEOUT_MS: int(5_000, 100).describe('how long a command waits for PostgreSQL or Redis before it says it cannot reach them'),
});

export type Config = z.infer<typeof configSchema>;

/**
 * TRUST_PROXY as fastify (proxy-addr) takes it: false, a hop count, or addresses/CIDRs. "Trust
 * everything" is not offered: a client could then claim any address by sending X-Forwarded-For.
 */
function parseTrustProxy(v: string, ctx: z.RefinementCtx): false | number | string[] {
  const s = v.trim().toLowerCase();
  if (s === '' || s === 'false' || s === '0' || s === 'no') return false;
  if (/^\d+$/.test(s)) return Number(s);
  if (s === 'true' || s === 'yes') {
    ctx.addIssue({ code: 'custom', message: 'say how many proxies (a hop count such as 1) or list their addresses; trusting every hop lets any client pick its own address' });
    return z.NEVER;
  }
  const list = s.split(',').map((x) => x.trim()).filter(Boolean);
  const bad = list.filter((x) => !/^(loopback|linklocal|uniquelocal|[0-9a-f:.]+(\/\d{1,3})?)$/.test(x));
  if (bad.length) {
    ctx.addIssue({ code: 'custom', message: `not an address or CIDR: ${bad.join(', ')}` });
    return z.NEVER;
  }
  return list;
}

export const DEV_VERP_SECRET = 'dev-only-verp-secret-change-me-now';

export class ConfigError extends PermanentError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super('invalid', `configuration problems:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/**
 * What a process that faces the world (worker, serve, receive) refuses to start with: the
 * built-in VERP secret lets anyone forge bounce addresses. NOTICE_DEV=1 allows it (demo, tests).
 */
export function assertProductionSafe(c: Config): void {
  if (c.NODE_ENV === 'production' && c.NOTICE_DEV) {
    throw new ConfigError(['NOTICE_DEV: is set while NODE_ENV=production; development mode (the built-in VERP secret) has no place in production']);
  }
  if (c.VERP_SECRET === DEV_VERP_SECRET && !c.NOTICE_DEV) {
    throw new ConfigError(['VERP_SECRET: is the built-in development value; set a secret of your own (16+ characters), or NOTICE_DEV=1 on a development machine']);
  }
}

/** Parse the environment once; list every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Record<keyof Config, string>> = {}): Config {
  const source: Record<string, string | undefined> = {};
  for (const key of Object.keys(configSchema.shape)) source[key] = env[key] === '' ? undefined : env[key];
  Object.assign(source, overrides);
  const parsed = configSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  return parsed.data;
}

/** Describe every key (for `notice config` and the README). */
export function describeConfig(): Array<{ key: string; description: string; default: string }> {
  return Object.entries(configSchema.shape).map(([key, schema]) => {
    const def = (schema as unknown as { def: { defaultValue?: unknown } }).def.defaultValue;
    return { key, description: (schema as z.ZodType).description ?? '', default: def === undefined ? '' : String(def) };
  });
}
