// Every PostgreSQL advisory-lock key the project takes, in one place, so no two uses collide.
// (A key is a bigint, or two ints where the second says which campaign or batch.)
export const LOCK = {
  /** migrate: one migrator at a time across processes (transaction lock). */
  migrate: 7_310_001,
  /** import (with the campaign id): one import per campaign at a time (transaction lock). */
  importCampaign: 7_310_002,
  /** the reconciler: one at a time across machines (session lock). */
  reconcile: 7_310_003,
  /** closing a print batch (with the batch id): one closer per batch (session lock). */
  closeBatch: 7_310_004,
  /** the ledger-kept counts' catch-up: one at a time (transaction lock). */
  counts: 7_310_005,
  /** whoever adds to the email window (topUp, the reconciler putting people back). */
  topUp: 7_310_006,
  /** extending a campaign's ledger chain (with the campaign id; taken by migration 010's trigger). */
  campaignChain: 8101,
  /** extending a batch's ledger chain (with the batch id; taken by migration 010's trigger). */
  batchChain: 8102,
} as const;
