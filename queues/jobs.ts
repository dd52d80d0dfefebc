// Job payloads carry ids only: no personal data ever goes to Redis.
import { z } from 'zod';

export const emailJobSchema = z.object({ noticeId: z.number().int().positive(), campaignId: z.number().int().positive() }).strict();
export const emailChunkJobSchema = z.object({ campaignId: z.number().int().positive(), noticeIds: z.array(z.number().int().positive()).min(1).max(1000) }).strict();
export type EmailChunkJob = z.infer<typeof emailChunkJobSchema>;

/** The email queue carries single notices (retries, the reconciler) and chunks (the relay). */
export type EmailJob = z.infer<typeof emailJobSchema>;
export type EmailQueueJob = EmailJob | EmailChunkJob;

export const postalJobSchema = z.object({ noticeId: z.number().int().positive(), campaignId: z.number().int().positive() }).strict();
export type PostalJob = z.infer<typeof postalJobSchema>;

export const bounceJobSchema = z.object({ bounceEventId: z.number().int().positive() }).strict();
export type BounceJob = z.infer<typeof bounceJobSchema>;

export const printJobSchema = z.object({ batchId: z.number().int().positive() }).strict();
export type PrintJob = z.infer<typeof printJobSchema>;
