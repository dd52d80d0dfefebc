import { describe, expect, it } from 'vitest';
import { CHANNELS, firstChannel } from '../../src/domain/channel-plan.ts';

describe('the channel plan', () => {
  it('email first, a letter when email cannot reach the person, saying why', () => {
    expect(CHANNELS[0]).toBe('email');
    expect(firstChannel({ hasEmail: true, suppressed: false })).toEqual({ channel: 'email' });
    expect(firstChannel({ hasEmail: false, suppressed: false })).toEqual({ channel: 'postal', reason: 'no_email' });
    expect(firstChannel({ hasEmail: true, suppressed: true })).toEqual({ channel: 'postal', reason: 'suppressed' });
    expect(firstChannel({ hasEmail: false, suppressed: true })).toEqual({ channel: 'postal', reason: 'no_email' });
  });
});
