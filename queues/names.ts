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
  routePostal: 'route-postal',
  applyBounce: 'apply-bounce',
  closeBatch: 'close-batch',
} as const;

/** Deterministic job ids: enqueueing the same notice twice while a job is live adds nothing. */
export const jobId = {
  email: (noticeId: number) => `e-${noticeId}`,
  postal: (noticeId: number) => `p-${noticeId}`,
  bounce: (bounceEventId: number) => `b-${bounceEventId}`,
  closeBatch: (batchId: number) => `close-${batchId}`,
};

export const ALL_QUEUE_NAMES: QueueName[] = Object.values(QUEUE);
