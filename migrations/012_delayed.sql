-- 012: delayed mail is not notified. A delay warning (a DSN with Action: delayed, or the text
-- forms the parser knows) moves a person from `sent` to `delayed`; a final answer (delivered,
-- failed) settles them; if none comes within the campaign's email confirmation deadline they get
-- a letter (the reason is in their ledger).
alter table notices drop constraint notices_state_check;
alter table notices add constraint notices_state_check check (state in (
  'pending', 'queued', 'sending', 'sent', 'delayed', 'delivered', 'postal_queued', 'address_invalid',
  'batched', 'printed', 'mailed', 'returned', 'unreachable', 'cancelled', 'needs_review'));
-- Per campaign; null: EMAIL_CONFIRM_DEADLINE_MS.
alter table campaigns add column email_confirm_deadline_ms bigint check (email_confirm_deadline_ms > 0);
create index notices_delayed on notices (updated_at) where state = 'delayed';
