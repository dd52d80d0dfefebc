// Queue and job names. Never string literals elsewhere.
export const QUEUE = {
  email: 'email',
  postal: 'postal',
  bounce: 'bounce',
  print: 'print',
} as const;
export type QueueName = (typeof QUEUE)[keyof typeof QUEUE];

export const JOB = {
  sendEmail: 'send-email',
  /** Many people of one campaign in one job (the relay's window): ids only. */
  sendChunk: 'send-chunk',
  routePostal: 'route-postal',
  applyBounce: 'apply-bounce',
  closeBatch: 'close-batch',
} as const;

/** Deterministic job ids: enqueueing the same notice twice while a job is live adds nothing. */
export const jobId = {
  email: (noticeId: number) => `e-${noticeId}`,
  /** A chunk is named by its first notice (chunks are cut in id order): re-adding it adds nothing. */
  chunk: (campaignId: number, firstNoticeId: number) => `c-${campaignId}-${firstNoticeId}`,
  postal: (noticeId: number) => `p-${noticeId}`,
  bounce: (bounceEventId: number) => `b-${bounceEventId}`,
  closeBatch: (batchId: number) => `close-${batchId}`,
};

export const ALL_QUEUE_NAMES: QueueName[] = Object.values(QUEUE);
