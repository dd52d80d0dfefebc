// Before anyone is emailed, each recipient domain is looked up once (MX, else A/AAAA) against a
// real DNS server (a local one, serving this test's zones): people at a domain that does not exist
// or says it takes no mail (null MX) get a letter at once (host_unknown) with no email attempt; a
// domain with only an A record still receives; a lookup that fails (SERVFAIL) is no verdict.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useEnvWithSink } from '../support/setup.ts';
import { campaignWith, person, sendAll } from '../support/fixtures.ts';
import { startDnsServer } from '../support/dns-server.ts';
import { ledgerOf } from '../../src/db/notice-store.ts';

const env = useEnvWithSink();
let dns: Awaited<ReturnType<typeof startDnsServer>>;
beforeAll(async () => {
  dns = await startDnsServer({
    'good.example': { MX: [{ priority: 10, exchange: 'mx.good.example' }] },
    'aonly.example': { A: ['192.0.2.10'] },
    'nullmx.example': { MX: [{ priority: 0, exchange: '' }] },
    'broken.example': { servfail: true },
  });
});
afterAll(async () => dns?.close());

describe('recipient domains that cannot receive mail', () => {
  it('go straight to post without an email attempt; the rest are emailed; each domain is looked up once', async () => {
    const { t, sink } = env;
    const app = t.app({ SMTP_URL: sink.url, MX_CHECK: 'on', DNS_SERVERS: dns.server, MX_TIMEOUT_MS: '1000' });
    const emails = ['a@good.example', 'b@good.example', 'c@aonly.example', 'd@nx.example', 'e@nullmx.example', 'f@broken.example'];
    const { id } = await campaignWith(app, t.tmp, emails.map((e, i) => person(i + 1, e)));
    await sendAll(app, id, 4);
    const { rows } = await app.db.query('select id, email, state from notices where campaign_id = $1 order by id', [id]);
    const stateOf = Object.fromEntries(rows.map((r) => [r.email, r.state]));
    expect(stateOf).toEqual({ 'a@good.example': 'sent', 'b@good.example': 'sent', 'c@aonly.example': 'sent', 'd@nx.example': 'postal_queued', 'e@nullmx.example': 'postal_queued', 'f@broken.example': 'sent' });
    for (const e of ['d@nx.example', 'e@nullmx.example']) {
      expect(sink.rcptCount.get(e) ?? 0).toBe(0); // no email attempt
      const ledger = await ledgerOf(app.db, rows.find((r) => r.email === e)!.id);
      expect(ledger.map((x) => [x.from_state, x.to_state, x.detail.reason])).toEqual([['pending', 'postal_queued', 'host_unknown']]);
    }
    expect(dns.queries.filter((q) => q === 'MX good.example')).toHaveLength(1);
    await app.close();
  });
});
