-- 005: every bounce keeps its reason (user_unknown, filtered, mailbox_full, our_authentication, …;
-- src/domain/bounce-rules.ts), beside the coarse class. Older rows have none (null).
alter table bounce_events add column reason text;
create index bounce_events_unmatched on bounce_events (received_at) where notice_id is null or outcome = 'unmatched';
