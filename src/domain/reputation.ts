// Reputation brakes. A breach list is old by nature, so hard bounces are expected; but a burst of
// them or of complaints gets a sending domain or an SES account suspended mid-campaign (SES
// reviews above 5 % bounces and suspends near 10 %; Gmail's complaint limit is 0.3 %). Over a
// campaign's last `window` sends: above the warning level the campaign is slowed (and says so);
// above the pause level it pauses with the figure. Resuming acknowledges the figure: no pause
// again until it gets worse than what was acknowledged. Pure.

export interface Brakes {
  window: number;
  warnHard: number;
  pauseHard: number;
  warnComplaint: number;
  pauseComplaint: number;
}

export const DEFAULT_BRAKES: Brakes = { window: 1000, warnHard: 0.05, pauseHard: 0.1, warnComplaint: 0.001, pauseComplaint: 0.003 };

/** How much worse than acknowledged a rate must get to pause again. */
const WORSE = { hard: 0.02, complaint: 0.001 };

export interface Figures {
  sends: number;
  hard: number;
  complaints: number;
}

export interface Verdict {
  level: 'ok' | 'slowed' | 'pause';
  hardRate: number;
  complaintRate: number;
  sends: number;
  why: string | null;
}

const pct = (r: number, digits = 1) => `${(r * 100).toFixed(digits)}%`;

export function reputationVerdict(f: Figures, b: Brakes, ack: { hardRate: number; complaintRate: number } | null = null): Verdict {
  const hardRate = f.sends ? f.hard / f.sends : 0;
  const complaintRate = f.sends ? f.complaints / f.sends : 0;
  const base = { hardRate, complaintRate, sends: f.sends };
  // Too few sends to say anything: the first handful of a stale list is noise.
  if (f.sends < Math.min(100, Math.ceil(b.window / 2))) return { ...base, level: 'ok', why: null };
  const figure = `hard bounces ${pct(hardRate)} and complaints ${pct(complaintRate, 2)} of the last ${f.sends} sends`;
  const pauseHard = hardRate >= b.pauseHard && (!ack || hardRate > ack.hardRate + WORSE.hard);
  const pauseComplaint = complaintRate >= b.pauseComplaint && (!ack || complaintRate > ack.complaintRate + WORSE.complaint);
  if (pauseHard || pauseComplaint) {
    return { ...base, level: 'pause', why: `${figure}: above the pause level (${pauseHard ? `hard bounces ${pct(b.pauseHard)}` : `complaints ${pct(b.pauseComplaint, 2)}`}); check the list and the sending domain's standing before resuming` };
  }
  if (hardRate >= b.warnHard || complaintRate >= b.warnComplaint) {
    return { ...base, level: 'slowed', why: `${figure}: above the warning level (hard ${pct(b.warnHard)}, complaints ${pct(b.warnComplaint, 2)}): sending slowed` };
  }
  return { ...base, level: 'ok', why: null };
}
