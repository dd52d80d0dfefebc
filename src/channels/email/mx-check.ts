// Can a domain receive mail at all? Looked up once per domain (cached), before anyone there is
// emailed: an MX, else an A or AAAA (RFC 5321's implicit MX). A domain with none of them, or that
// does not exist, cannot receive mail: its people get a letter straight away (host_unknown)
// instead of an email that can only bounce. A lookup that fails (timeout, SERVFAIL, no server)
// is not a verdict: those people are emailed as usual.
import { Resolver } from 'node:dns/promises';

export type DomainVerdict = 'receives' | 'cannot_receive' | 'unknown';

export interface MxCheckOptions {
  /** DNS servers (host or host:port); empty: the system's. */
  servers?: string[];
  timeoutMs: number;
}

const NO_DATA = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN']);

export function makeMxCheck(o: MxCheckOptions) {
  const resolver = new Resolver({ timeout: o.timeoutMs, tries: 1 });
  if (o.servers?.length) resolver.setServers(o.servers);
  const cache = new Map<string, Promise<DomainVerdict>>();
  // Each record type: true (has some), false (the name has none, or does not exist), null (no answer).
  const has = async (fn: () => Promise<unknown[]>): Promise<boolean | null> => {
    try {
      return (await fn()).length > 0;
    } catch (err) {
      return NO_DATA.has((err as { code?: string }).code ?? '') ? false : null;
    }
  };
  const lookup = async (domain: string): Promise<DomainVerdict> => {
    let nullMx = false;
    const mx = await has(async () => {
      const records = await resolver.resolveMx(domain);
      // RFC 7505 "null MX" (MX 0 .): the domain says it takes no mail.
      nullMx = records.length > 0 && records.every((r) => r.exchange === '' || r.exchange === '.');
      return records;
    });
    if (nullMx) return 'cannot_receive';
    if (mx) return 'receives';
    const [a, aaaa] = await Promise.all([has(() => resolver.resolve4(domain)), has(() => resolver.resolve6(domain))]);
    if (a || aaaa) return 'receives';
    return mx === false && a === false && aaaa === false ? 'cannot_receive' : 'unknown';
  };
  return {
    verdict(domain: string): Promise<DomainVerdict> {
      const d = domain.toLowerCase();
      let v = cache.get(d);
      if (!v) cache.set(d, (v = lookup(d)));
      return v;
    },
  };
}
export type MxCheck = ReturnType<typeof makeMxCheck>;
