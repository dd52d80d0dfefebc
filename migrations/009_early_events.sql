-- 009: events that arrive before the state they refer to wait, visibly. A bounce event whose
-- person is still `sending` (the send was accepted, its record not committed yet) is not applied:
-- it keeps applied_at null (so the reconciler re-queues it if Redis loses its job), and says
-- since when and why it waits.
alter table bounce_events add column waiting_since timestamptz, add column waits integer not null default 0, add column wait_reason text;
create index bounce_events_waiting on bounce_events (waiting_since) where applied_at is null and waiting_since is not null;
