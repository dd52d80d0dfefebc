// How a person is told: the channels in the order we try them. Email first; a letter when email
// cannot reach them (no address, suppressed), decided here for the relay, the sender and the dry
// run alike; when email fails for good later (a hard bounce, retries used up) the one hand-off
// (src/dispatch/hand-off.ts) moves them on. A third channel (SMS, LINE) is one more entry in
// CHANNELS, one more case in cannotReach and one more move in the hand-off.

export const CHANNELS = ['email', 'postal'] as const;
export type Channel = (typeof CHANNELS)[number];

/** What we know of a person that decides which channels can reach them. */
export interface Reach {
  /** A usable email address was imported. */
  hasEmail: boolean;
  /** That address is on the suppression list (hard bounce, complaint, ops). */
  suppressed: boolean;
  /** Its domain cannot receive mail (no MX, A or AAAA; or it does not exist). */
  domainCannotReceive?: boolean;
}

export type Plan = { channel: 'email' } | { channel: 'postal'; reason: string };

/** Why a channel cannot reach this person, or null when it can. */
function cannotReach(channel: Channel, r: Reach): string | null {
  if (channel === 'email') return !r.hasEmail ? 'no_email' : r.suppressed ? 'suppressed' : r.domainCannotReceive ? 'host_unknown' : null;
  return null; // a letter reaches everyone with an address; an unusable one is found when the letter is made
}

/** The first channel that can reach this person, and (for a letter) why email could not. */
export function firstChannel(r: Reach): Plan {
  const why = cannotReach('email', r);
  return why === null ? { channel: 'email' } : { channel: 'postal', reason: why };
}
