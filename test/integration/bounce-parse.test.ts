// The bounce parser on messages shaped like those of many MTAs, RFC 3464 and legacy text, plus
// auto-replies and ARF complaints; and the operator's `notice bounce parse`.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { toMailParts } from '../../src/bounces/mail-parts.ts';
import { analyzeBounce, type BounceClass } from '../../src/domain/bounce.ts';
import { root } from '../support/fixtures.ts';
import { notice } from '../support/cli.ts';

const dir = path.join(root, 'test/fixtures/bounces');
const own = (a: string) => a.endsWith('@bounce.example.com');

const cases: Array<[file: string, kind: string, address: string | null, status: string | null, cls: BounceClass]> = [
  ['postfix-user-unknown.eml', 'dsn', 'taro@customer.example.jp', '5.1.1', 'hard'],
  ['postfix-delayed.eml', 'dsn', 'hanako@slow.example.jp', '4.4.1', 'not_bounce'],
  ['exim-failed.eml', 'legacy', 'jiro@isp.example.net', null, 'hard'],
  ['sendmail-legacy.eml', 'legacy', 'saburo@relay.example.org', '5.1.1', 'hard'],
  ['qmail-no-mailbox.eml', 'legacy', 'shiro@qmail.example.com', '5.1.1', 'hard'],
  ['exchange-o365.eml', 'dsn', 'goro@corp.example.co.jp', '5.1.10', 'hard'],
  ['gmail-over-quota.eml', 'dsn', 'rokuro@gmail.example', '5.2.2', 'soft'],
  ['gmail-dmarc.eml', 'dsn', 'nanako@gmail.example', '5.7.26', 'config'],
  ['yahoo-legacy.eml', 'legacy', 'hachiro@yahoo.co.jp', '5.0.0', 'hard'],
  ['ses-content.eml', 'dsn', 'kuro@receiver.example.com', '5.7.1', 'message'],
  ['docomo-unknown.eml', 'legacy', 'juro.tanaka@docomo.example.jp', null, 'hard'],
  ['ezweb-over-quota.eml', 'legacy', 'ichiko@ezweb.example.jp', null, 'soft'],
  ['relay-denied.eml', 'dsn', 'niko@elsewhere.example', '5.7.1', 'config'],
  ['autoreply-en.eml', 'auto_reply', null, null, 'auto_reply'],
  ['autoreply-ja.eml', 'auto_reply', null, null, 'auto_reply'],
  ['arf-complaint.eml', 'arf', 'complainer@mailbox-provider.example', null, 'complaint'],
  ['human-reply.eml', 'not_bounce', null, null, 'not_bounce'],
];

describe('the bounce parser', () => {
  it.each(cases)('%s → %s %s %s %s', async (file, kind, address, status, cls) => {
    const r = analyzeBounce(await toMailParts(readFileSync(path.join(dir, file))), own);
    expect(r.kind).toBe(kind);
    expect(r.recipients).toHaveLength(1);
    expect(r.recipients[0]).toMatchObject({ address, status, class: cls });
  });

  it('finds the original X-Notice-Id where the report carries the headers', async () => {
    expect((analyzeBounce(await toMailParts(readFileSync(path.join(dir, 'arf-complaint.eml'))), own)).noticeId).toBe(115);
    expect((analyzeBounce(await toMailParts(readFileSync(path.join(dir, 'postfix-user-unknown.eml'))), own)).noticeId).toBe(101);
  });

  it('is an operator tool: notice bounce parse FILE [--json]', () => {
    const text = notice({}, 'bounce', 'parse', path.join(dir, 'qmail-no-mailbox.eml'));
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/shiro@qmail\.example\.com\s+action=failed\s+status=5\.1\.1\s+class=hard/);
    const json = JSON.parse(notice({}, 'bounce', 'parse', path.join(dir, 'gmail-over-quota.eml'), '--json').stdout);
    expect(json.recipients[0]).toMatchObject({ class: 'soft', status: '5.2.2' });
    expect(notice({}, 'bounce', 'parse', '/nonexistent.eml').status).toBe(2);
  });
});
