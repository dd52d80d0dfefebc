-- 013: reputation brakes. The last check of a campaign's rolling hard-bounce and complaint rates
-- (over its last REPUTATION_WINDOW sends), and what an operator acknowledged by resuming after a
-- pause for them (no pause again until it gets worse).
alter table campaigns add column reputation jsonb, add column reputation_ack jsonb;
