// A campaign's own state machine, in one table: every state × verb gives the next state, "no
// change" with what to tell the operator, or a refusal that says why. Pure; the CLI and the HTTP
// API both answer from it (refusal → exit 2 / 409).
export const CAMPAIGN_STATES = ['draft', 'running', 'paused', 'cancelled'] as const;
export type CampaignState = (typeof CAMPAIGN_STATES)[number];

export const CAMPAIGN_VERBS = ['launch', 'pause', 'resume', 'cancel'] as const;
export type CampaignVerb = (typeof CAMPAIGN_VERBS)[number];

export type CampaignStep =
  | { kind: 'move'; to: CampaignState }
  /** Nothing changes; the answer says so (a second launch is "already running", not a launch). */
  | { kind: 'same'; say: string }
  | { kind: 'refuse'; why: string };

const move = (to: CampaignState): CampaignStep => ({ kind: 'move', to });
const same = (say: string): CampaignStep => ({ kind: 'same', say });
const refuse = (why: string): CampaignStep => ({ kind: 'refuse', why });

export const CAMPAIGN_STEPS: Readonly<Record<CampaignState, Readonly<Record<CampaignVerb, CampaignStep>>>> = {
  draft: {
    launch: move('running'),
    pause: refuse('has not been launched; there is nothing to pause'),
    resume: refuse('has not been launched; use launch'),
    cancel: move('cancelled'),
  },
  running: {
    launch: same('already running'),
    pause: move('paused'),
    resume: same('already running'),
    cancel: move('cancelled'),
  },
  paused: {
    launch: refuse('is paused; use resume'),
    pause: same('already paused'),
    resume: move('running'),
    cancel: move('cancelled'),
  },
  cancelled: {
    launch: refuse('is cancelled; a cancelled campaign cannot be started again'),
    pause: refuse('is cancelled'),
    resume: refuse('is cancelled; a cancelled campaign cannot be started again'),
    cancel: same('already cancelled'),
  },
};

export function campaignStep(state: CampaignState, verb: CampaignVerb): CampaignStep {
  return CAMPAIGN_STEPS[state][verb];
}
