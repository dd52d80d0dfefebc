// Mail that authenticates: every notice is DKIM-signed with the From domain's key (two keys while
// they rotate: two signatures), carries a signed Feedback-ID and no List-Unsubscribe, and a
// well-kept verifier (mailauth) says DKIM pass for both and DMARC pass (aligned) on the bytes the
// mail server received, against the public keys served by a resolver for the test's domain. The
// evidence sha256 is of those same signed bytes. A signing domain that does not align is refused.
import { describe, expect, it } from 'vitest';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { authenticate } from 'mailauth';
import { useEnvWithSink } from '../support/setup.ts';
import { campaignWith, person, sendAll } from '../support/fixtures.ts';
import { dkimFromConfig } from '../../src/channels/email/smtp.ts';
import { ConfigError } from '../../src/config.ts';
import { noticeAsync } from '../support/cli.ts';
import { startDnsServer } from '../support/dns-server.ts';

const env = useEnvWithSink({ keep: true });

describe('DKIM', () => {
  it('signs every notice with both keys; mailauth verifies DKIM and DMARC on what the server received', async () => {
    const { t, sink } = env;
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const next = generateKeyPairSync('rsa', { modulusLength: 2048 }); // the key rotating in
    const rsaFile = path.join(t.tmp, 'dkim-2026.pem');
    const edFile = path.join(t.tmp, 'dkim-2027.pem');
    writeFileSync(rsaFile, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(edFile, next.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const app = t.app({
      SMTP_URL: sink.url, MAIL_FROM: 'Incident Response <notice@mail.example.com>', BOUNCE_DOMAIN: 'bounce.example.com',
      DKIM_DOMAIN: 'example.com', DKIM_SELECTOR: 's2026', DKIM_PRIVATE_KEY_FILE: rsaFile, DKIM_SELECTOR_2: 's2027', DKIM_PRIVATE_KEY_FILE_2: edFile, FEEDBACK_ID_SENDER: 'examplestore',
    });
    const { id } = await campaignWith(app, t.tmp, [person(1, 'signed1@example.net'), person(2, 'signed2@example.net')]);
    await sendAll(app, id, 2);
    // What the domain publishes, served to the verifier (no public DNS here).
    const spki = (k: typeof rsa.publicKey) => k.export({ type: 'spki', format: 'der' }).toString('base64');
    const records: Record<string, string[][]> = {
      's2026._domainkey.example.com': [[`v=DKIM1; k=rsa; p=${spki(rsa.publicKey)}`]],
      's2027._domainkey.example.com': [[`v=DKIM1; k=rsa; p=${spki(next.publicKey)}`]],
      '_dmarc.example.com': [['v=DMARC1; p=reject; adkim=r; aspf=r']],
      '_dmarc.mail.example.com': [],
      'bounce.example.com': [['v=spf1 ip4:127.0.0.1 -all']],
    };
    const resolver = async (name: string, rr: string) => {
      if (rr === 'TXT' && records[name]?.length) return records[name];
      throw Object.assign(new Error(`no ${rr} for ${name}`), { code: 'ENOTFOUND' });
    };
    const { rows } = await app.db.query(`select e.detail->>'message_sha256' as h, n.email from notice_events e join notices n on n.id = e.notice_id where n.campaign_id = $1 and e.to_state = 'sent'`, [id]);
    expect(sink.messages).toHaveLength(2);
    for (const m of sink.messages) {
      const text = m.raw.toString('utf8');
      expect(text.match(/^DKIM-Signature:/gim)).toHaveLength(2);
      expect(text).toMatch(/^Feedback-ID: \d+:(card|personal):notice:examplestore\r?$/m);
      expect(text).not.toMatch(/^List-Unsubscribe:/im);
      const r = await authenticate(m.raw, { ip: '127.0.0.1', helo: 'relay.example.com', mta: 'mx.example.net', sender: m.from, resolver });
      const dkim = r.dkim.results.map((x) => [x.signingDomain, x.selector, x.status.result]);
      expect(dkim).toEqual(expect.arrayContaining([['example.com', 's2026', 'pass'], ['example.com', 's2027', 'pass']]));
      expect(r.dmarc && r.dmarc.status.result).toBe('pass');
      const signed = r.dkim.results[0] as { signingHeaders?: { keys: string } };
      expect(signed.signingHeaders?.keys.toLowerCase()).toContain('feedback-id');
      // The evidence is of the signed bytes that left.
      expect(rows.find((x) => m.to.includes(x.email))!.h).toBe(createHash('sha256').update(m.raw).digest('hex'));
    }
    await app.close();
  });

  it('refuses a signing domain that does not align with the From domain', () => {
    const c = { DKIM_DOMAIN: 'other.example', DKIM_SELECTOR: 's', DKIM_PRIVATE_KEY_FILE: '/nonexistent', DKIM_SELECTOR_2: '', DKIM_PRIVATE_KEY_FILE_2: '', MAIL_FROM: 'X <notice@example.com>' };
    expect(() => dkimFromConfig(c)).toThrow(ConfigError);
    expect(() => dkimFromConfig(c)).toThrow(/does not align with the From domain example\.com/);
    expect(dkimFromConfig({ ...c, DKIM_DOMAIN: '' })).toBeUndefined();
  });

  it('`notice config check` says which records the domain publishes, and which key does not match (exit 1)', async () => {
    const { t } = env;
    const key = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const file = path.join(t.tmp, 'check.pem');
    const file2 = path.join(t.tmp, 'check2.pem');
    writeFileSync(file, key.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(file2, other.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const spki = (k: typeof key.publicKey) => k.export({ type: 'spki', format: 'der' }).toString('base64');
    const dns = await startDnsServer({
      'bounce.example.com': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
      's1._domainkey.example.com': { TXT: [`v=DKIM1; k=rsa; p=${spki(key.publicKey)}`] },
      's2._domainkey.example.com': { TXT: [`v=DKIM1; k=rsa; p=${spki(key.publicKey)}`] }, // not the second file's key
      '_dmarc.example.com': { TXT: ['v=DMARC1; p=quarantine'] },
    });
    try {
      const base = { ...t.env, MAIL_FROM: 'X <notice@mail.example.com>', BOUNCE_DOMAIN: 'bounce.example.com', DKIM_DOMAIN: 'example.com', DKIM_SELECTOR: 's1', DKIM_PRIVATE_KEY_FILE: file, DNS_SERVERS: dns.server, MX_TIMEOUT_MS: '1000' };
      const good = await noticeAsync(base, 'config', 'check');
      expect(good.status, good.stdout + good.stderr).toBe(0);
      expect(good.stdout).toContain('ok  SPF bounce.example.com: v=spf1 ip4:192.0.2.0/24 -all');
      expect(good.stdout).toContain('ok  DKIM s1._domainkey.example.com: the published key is the one we sign with');
      expect(good.stdout).toContain('ok  DMARC mail.example.com: v=DMARC1; p=quarantine (at _dmarc.example.com)');
      const bad = await noticeAsync({ ...base, DKIM_SELECTOR_2: 's2', DKIM_PRIVATE_KEY_FILE_2: file2, BOUNCE_DOMAIN: 'nospf.example.com' }, 'config', 'check');
      expect(bad.status).toBe(1);
      expect(bad.stdout).toContain('NO  DKIM s2._domainkey.example.com: the published key is not the one in the key file');
      expect(bad.stdout).toContain('NO  SPF nospf.example.com');
    } finally {
      await dns.close();
    }
  });
});
