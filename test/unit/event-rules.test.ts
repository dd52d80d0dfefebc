// The table of what an asynchronous event does in each state: every cell is filled, early events
// wait only in `sending`, and nothing undoes a letter that is on its way.
import { describe, expect, it } from 'vitest';
import { eventEffect } from '../../src/domain/event-rules.ts';
import { NOTICE_STATES } from '../../src/domain/notice-state.ts';
import type { BounceRoute } from '../../src/domain/bounce-rules.ts';

const ROUTES: BounceRoute[] = ['post_now', 'retry_then_post', 'review', 'pause_if_confirmed', 'complaint', 'delivered', 'arrived', 'ignore'];

describe('event × state', () => {
  it('has an effect for every cell; only `sending` makes an event wait', () => {
    for (const r of ROUTES) {
      for (const s of NOTICE_STATES) {
        const e = eventEffect(r, s);
        expect(['apply', 'wait', 'record'], `${r} × ${s}`).toContain(e);
        if (e === 'wait') expect(s, `${r} waits in ${s}`).toBe('sending');
      }
    }
  });

  it.each([
    ['post_now', 'sending', 'wait'], ['post_now', 'sent', 'apply'], ['post_now', 'queued', 'apply'], ['post_now', 'printed', 'record'],
    ['retry_then_post', 'sending', 'wait'], ['retry_then_post', 'queued', 'record'], ['retry_then_post', 'mailed', 'record'],
    ['delivered', 'sending', 'wait'], ['delivered', 'sent', 'apply'], ['delivered', 'batched', 'record'], ['delivered', 'delivered', 'record'],
    ['complaint', 'sending', 'apply'], ['complaint', 'mailed', 'apply'], ['ignore', 'sending', 'record'],
    // An auto-reply ends a delay (the email arrived); anywhere else it is evidence.
    ['arrived', 'delayed', 'apply'], ['arrived', 'sending', 'wait'], ['arrived', 'sent', 'record'], ['arrived', 'mailed', 'record'],
  ] as Array<[BounceRoute, (typeof NOTICE_STATES)[number], string]>)('%s in %s: %s', (route, state, effect) => {
    expect(eventEffect(route, state)).toBe(effect);
  });
});
