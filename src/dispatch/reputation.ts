// The reputation brakes at work: the reconciler's round checks every running campaign; a verdict
// of `slowed` is read by the pacing gate (a lower hourly cap), `pause` pauses the campaign as
// the system, with the figure. See src/domain/reputation.ts for the levels.
import type { Db } from '../db/pool.ts';
import { pauseBySystem } from '../db/campaign-store.ts';
import { reputationVerdict, type Brakes, type Verdict } from '../domain/reputation.ts';
import { reputationFigures, runningForReputation, saveReputation } from './reputation-store.ts';

export async function checkReputation(db: Db, brakes: Brakes, now: Date = new Date(), only?: number): Promise<Array<{ campaign: number } & Verdict>> {
  const out: Array<{ campaign: number } & Verdict> = [];
  for (const c of await runningForReputation(db)) {
    if (only !== undefined && c.id !== only) continue;
    const v = reputationVerdict(await reputationFigures(db, c.id, brakes.window), brakes, c.reputation_ack);
    await saveReputation(db, c.id, v, now);
    if (v.level === 'pause') await pauseBySystem(db, c.id, 'reputation', v.why!);
    out.push({ campaign: c.id, ...v });
  }
  return out;
}
