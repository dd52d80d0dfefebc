// Job payloads carry ids only: no personal data ever goes to Redis.
import { z } from 'zod';

export const emailJobSchema = z.object({ noticeId: z.number().int().positive(), campaignId: z.number().int().positive() }).strict();
export type EmailJob = z.infer<typeof emailJobSchema>;

export const postalJobSchema = z.object({ noticeId: z.number().int().positive(), campaignId: z.number().int().positive() }).strict();
export type PostalJob = z.infer<typeof postalJobSchema>;

export const bounceJobSchema = z.object({ bounceEventId: z.number().int().positive() }).strict();
export type BounceJob = z.infer<typeof bounceJobSchema>;

export const printJobSchema = z.object({ batchId: z.number().int().positive() }).strict();
export type PrintJob = z.infer<typeof printJobSchema>;
