// What most test files set up the same way: their own environment (database, queue prefix) and an
// SMTP sink, torn down after the file; and a `notice serve` built on an app, with SNS verification
// that accepts no topic.
import { afterAll, beforeAll } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { makeTestEnv, type TestEnv } from './harness.ts';
import { startSmtpSink, type SmtpSink } from '../../src/cli/smtp-sink.ts';
import { buildServer } from '../../src/http/server.ts';
import { makeSnsVerifier } from '../../src/bounces/sns.ts';
import type { App } from '../../src/app.ts';

/** Registers beforeAll/afterAll; read `.t` and `.sink` inside tests. */
export function useEnvWithSink(opts: { keep?: boolean } = {}): { readonly t: TestEnv; readonly sink: SmtpSink } {
  const s = {} as { t: TestEnv; sink: SmtpSink };
  beforeAll(async () => {
    s.t = await makeTestEnv();
    s.sink = await startSmtpSink({ keep: opts.keep });
  });
  afterAll(async () => {
    await s.sink?.close();
    await s.t?.teardown();
  });
  return s;
}

export function testServer(app: App): Promise<FastifyInstance> {
  return buildServer({ app, sns: makeSnsVerifier({ allowedTopics: [], fetchCert: async () => '' }), confirmSubscription: async () => {} });
}
