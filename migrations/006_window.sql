-- 006: the windowed relay. Launch marks everyone queued in PostgreSQL; only a window of their
-- jobs is in Redis at a time, topped up as it drains. relay_cursor is how far (by notice id) the
-- relay has put a campaign's queued people on the queue; resume sets it back to 0. A campaign
-- with a higher priority is topped up first.
alter table campaigns
  add column relay_cursor bigint not null default 0,
  add column priority integer not null default 0;
