// The notice machine as data: every state can be reached from `pending`, every state that is not
// final can move on, told and finished people only move on by a later fact, and the event table
// of issue 20 applies events only where the machine has the move.
import { describe, expect, it } from 'vitest';
import { MOVES, assertMoves, isMove, nextStates } from '../../src/domain/notice-machine.ts';
import { NOTICE_STATES, type NoticeState } from '../../src/domain/notice-state.ts';
import { eventEffect } from '../../src/domain/event-rules.ts';
import type { BounceRoute } from '../../src/domain/bounce-rules.ts';

describe('the notice machine', () => {
  it('reaches every state from pending', () => {
    const seen = new Set<NoticeState>(['pending']);
    for (let frontier: NoticeState[] = ['pending']; frontier.length; ) {
      frontier = frontier.flatMap(nextStates).filter((s) => !seen.has(s) && seen.add(s));
    }
    expect([...seen].sort()).toEqual([...NOTICE_STATES].sort());
  });

  it('has only cancelled and needs_review as dead ends; every other state moves on', () => {
    const dead = NOTICE_STATES.filter((s) => nextStates(s).length === 0);
    expect(dead.sort()).toEqual(['cancelled', 'needs_review']);
  });

  it.each([
    ['pending', 'queued', true], ['queued', 'sending', true], ['sending', 'sent', true], ['sent', 'delivered', true],
    ['sending', 'sending', true], // a claim whose lease ran out is claimed again
    ['sent', 'sending', false], // a told person is never sent again by a claim
    ['delivered', 'sent', false], ['mailed', 'postal_queued', false], ['printed', 'cancelled', false], ['cancelled', 'queued', false],
    ['pending', 'sent', false], ['unreachable', 'postal_queued', true], ['returned', 'unreachable', true],
  ] as Array<[NoticeState, NoticeState, boolean]>)('%s → %s: %s', (from, to, ok) => {
    expect(isMove(from, to)).toBe(ok);
  });

  it('names an event for every move, once', () => {
    const events = MOVES.map((m) => m.event);
    expect(new Set(events).size).toBe(events.length);
    expect(() => assertMoves(['sent'], 'sending')).toThrow(/not a move of the notice machine: sent → sending/);
  });

  it('has the move for every state the event table applies an event in', () => {
    const target: Partial<Record<BounceRoute, NoticeState>> = { post_now: 'postal_queued', retry_then_post: 'queued', review: 'needs_review', pause_if_confirmed: 'queued', delivered: 'delivered' };
    for (const [route, to] of Object.entries(target) as Array<[BounceRoute, NoticeState]>) {
      for (const s of NOTICE_STATES) if (eventEffect(route, s) === 'apply') expect(isMove(s, to), `${route} in ${s} → ${to}`).toBe(true);
    }
  });
});
