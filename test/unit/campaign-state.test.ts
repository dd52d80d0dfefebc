import { describe, expect, it } from 'vitest';
import { CAMPAIGN_STATES, CAMPAIGN_VERBS, campaignStep } from '../../src/domain/campaign-state.ts';

// Every state × verb, written out: the answer an operator gets (→ new state, = no change, ✗ refused).
const EXPECTED: Record<string, Record<string, string>> = {
  draft: { launch: '→running', pause: '✗', resume: '✗', cancel: '→cancelled' },
  running: { launch: '=', pause: '→paused', resume: '=', cancel: '→cancelled' },
  paused: { launch: '✗', pause: '=', resume: '→running', cancel: '→cancelled' },
  cancelled: { launch: '✗', pause: '✗', resume: '✗', cancel: '=' },
};

describe('campaign state × verb', () => {
  const pairs = CAMPAIGN_STATES.flatMap((s) => CAMPAIGN_VERBS.map((v) => [s, v] as const));
  it.each(pairs)('%s + %s', (state, verb) => {
    const step = campaignStep(state, verb);
    const got = step.kind === 'move' ? `→${step.to}` : step.kind === 'same' ? '=' : '✗';
    expect(got).toBe(EXPECTED[state][verb]);
    if (step.kind === 'refuse') expect(step.why.length).toBeGreaterThan(5);
  });
  it('nothing but resume brings a paused campaign back, and nothing brings a cancelled one back', () => {
    for (const v of CAMPAIGN_VERBS) {
      const s = campaignStep('cancelled', v);
      expect(s.kind === 'move').toBe(false);
    }
    expect(CAMPAIGN_VERBS.filter((v) => { const s = campaignStep('paused', v); return s.kind === 'move' && s.to === 'running'; })).toEqual(['resume']);
  });
});
