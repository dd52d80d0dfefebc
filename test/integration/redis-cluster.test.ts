// A campaign against a real three-master Redis Cluster: the {notice} hash tag keeps each queue's
// keys (and ours: the rate limit, the relay's reads) in one slot, so BullMQ's multi-key scripts
// work. Without the tag they would not: shown too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { makeTestEnv, waitFor, type TestEnv } from '../support/harness.ts';
import { campaignWith, counts, person } from '../support/fixtures.ts';
import { startRedisCluster } from '../support/processes.ts';
import { startSmtpSink, type SmtpSink } from '../../src/cli/smtp-sink.ts';
import { startWorkers } from '../../workers/runner.ts';
import { launch, steeringDeps } from '../../src/campaigns/control.ts';
import { reconcile } from '../../src/dispatch/reconciler.ts';
import { ALL_QUEUE_NAMES } from '../../queues/names.ts';

let t: TestEnv;
let sink: SmtpSink;
let cluster: { url: string; stop(): Promise<void> };

beforeAll(async () => {
  t = await makeTestEnv();
  sink = await startSmtpSink();
  cluster = await startRedisCluster();
});
afterAll(async () => {
  await sink?.close();
  await cluster?.stop();
  await t?.teardown();
});

describe('Redis Cluster', () => {
  it('runs a campaign through three masters: every person sent once, the queues in one slot', async () => {
    const app = t.app({ SMTP_URL: sink.url, REDIS_URL: cluster.url, QUEUE_PREFIX: '{notice}', RELAY_WINDOW: '200', EMAIL_CHUNK_SIZE: '20', RELAY_TOPUP_MS: '100', SEND_RATE_PER_SEC: '100000' });
    const workers = await startWorkers(app, { queues: ALL_QUEUE_NAMES, concurrency: 8 });
    try {
      const { id } = await campaignWith(app, t.tmp, Array.from({ length: 800 }, (_, i) => person(i + 1, i % 20 === 0 ? null : `cl${i + 1}@example.com`)));
      await launch(steeringDeps(app), id);
      const s = await waitFor(async () => ((await counts(app, id)).emailPhaseDone ? counts(app, id) : null), { timeoutMs: 60_000, what: 'sent through the cluster' });
      expect(s.counts.sent).toBe(760);
      for (let i = 1; i <= 800; i += 1) if (i % 20 !== 1) expect(sink.deliveredTo.get(`cl${i}@example.com`)).toBe(1);
      expect(await reconcile(steeringDeps(app), id)).toMatchObject({ email: 0 });
      // The hash tag: every key of the email queue hashes to the slot of "notice".
      const port = cluster.url.split(',')[0].split(':').at(-1)!;
      const slot = (key: string) => spawnSync('redis-cli', ['-p', port, 'cluster', 'keyslot', key], { encoding: 'utf8' }).stdout.trim();
      const expected = slot('notice');
      for (const k of [app.queues.email.toKey('wait'), app.queues.email.toKey('e-1'), app.queues.postal.toKey('p-1'), '{notice}:send-rate:1']) expect(slot(k)).toBe(expected);
    } finally {
      await workers.close();
      await app.close();
    }
  });

  it('without the hash tag the same queue cannot work on a cluster (why the prefix is {notice})', async () => {
    const app = t.app({ REDIS_URL: cluster.url, QUEUE_PREFIX: 'untagged' });
    try {
      await expect(app.queues.email.add('send-email', { noticeId: 1, campaignId: 1 }, { jobId: 'e-1' })).rejects.toThrow(/CROSSSLOT|slot/i);
    } finally {
      await app.close();
    }
  });
});
