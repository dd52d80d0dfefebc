// Does the sending domain publish what this setup needs? SPF for the envelope sender's domain
// (BOUNCE_DOMAIN), each DKIM selector's key matching the private key we sign with, and DMARC for
// the From domain (or its organisational parent). Looked up in DNS; a lookup that fails is "not
// checked", never a verdict. Read by `notice config check`.
import { createPublicKey } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import type { DkimKeys } from './smtp.ts';

export interface RecordCheck {
  check: string;
  status: 'ok' | 'missing' | 'mismatch' | 'not_checked';
  detail: string;
}

const NO_DATA = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN']);

export async function checkAuthRecords(o: { fromDomain: string; bounceDomain: string; dkim?: DkimKeys; servers?: string[]; timeoutMs: number }): Promise<RecordCheck[]> {
  const resolver = new Resolver({ timeout: o.timeoutMs, tries: 1 });
  if (o.servers?.length) resolver.setServers(o.servers);
  const txt = async (name: string): Promise<string[] | null> => {
    try {
      return (await resolver.resolveTxt(name)).map((parts) => parts.join(''));
    } catch (err) {
      return NO_DATA.has((err as { code?: string }).code ?? '') ? [] : null;
    }
  };
  const out: RecordCheck[] = [];
  const spf = await txt(o.bounceDomain);
  const spfRecord = spf?.find((r) => r.toLowerCase().startsWith('v=spf1'));
  out.push(spf === null ? { check: `SPF ${o.bounceDomain}`, status: 'not_checked', detail: 'DNS did not answer' }
    : spfRecord ? { check: `SPF ${o.bounceDomain}`, status: 'ok', detail: spfRecord } : { check: `SPF ${o.bounceDomain}`, status: 'missing', detail: 'no v=spf1 record for the envelope sender\'s domain (BOUNCE_DOMAIN)' });
  for (const k of o.dkim?.keys ?? []) {
    const name = `${k.keySelector}._domainkey.${o.dkim!.domainName}`;
    const ours = createPublicKey(k.privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
    const found = await txt(name);
    const p = found?.map((r) => /(?:^|;)\s*p=([^;]*)/.exec(r.replace(/\s+/g, ' '))?.[1]?.replace(/\s/g, '')).find((x) => x !== undefined);
    out.push(found === null ? { check: `DKIM ${name}`, status: 'not_checked', detail: 'DNS did not answer' }
      : p === undefined ? { check: `DKIM ${name}`, status: 'missing', detail: 'no DKIM key published for this selector' }
      : p === ours ? { check: `DKIM ${name}`, status: 'ok', detail: 'the published key is the one we sign with' }
      : { check: `DKIM ${name}`, status: 'mismatch', detail: 'the published key is not the one in the key file: receivers will fail the signature' });
  }
  const candidates = [o.fromDomain, ...(o.dkim && o.dkim.domainName !== o.fromDomain ? [o.dkim.domainName] : [])];
  let dmarc: RecordCheck | null = null;
  for (const d of candidates) {
    const found = await txt(`_dmarc.${d}`);
    const rec = found?.find((r) => r.toUpperCase().startsWith('V=DMARC1'));
    if (found === null) dmarc ??= { check: `DMARC ${o.fromDomain}`, status: 'not_checked', detail: 'DNS did not answer' };
    else if (rec) { dmarc = { check: `DMARC ${o.fromDomain}`, status: 'ok', detail: `${rec} (at _dmarc.${d})` }; break; }
  }
  out.push(dmarc ?? { check: `DMARC ${o.fromDomain}`, status: 'missing', detail: 'no DMARC record for the From domain or its parent: Gmail and Outlook require one for bulk senders' });
  return out;
}
