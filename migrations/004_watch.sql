-- 004: what monitoring reads. Per-campaign counts kept from the ledger (so a scrape or a
-- dashboard refresh never counts a million rows), failure reasons, bounces per campaign, worker
-- heartbeats, operator tokens, the legal deadline of a campaign, and samples for the charts.

-- The transaction that wrote each ledger row. A reader that has seen every row of transactions
-- older than the oldest one still running (the snapshot's xmin) has seen them all, in whatever
-- order they committed: that is how the counts below are kept exact without a scan.
alter table notice_events add column tx bigint not null default (pg_current_xact_id()::text::bigint);
create index notice_events_tx on notice_events using brin (tx) with (pages_per_range = 16, autosummarize = on);

-- People per state per campaign, from the ledger (people still `pending` since import are added
-- from import_runs when read). Only src/db/counts-store.ts writes these.
create table campaign_counts (
  campaign_id bigint not null,
  state       text not null,
  n           bigint not null,
  primary key (campaign_id, state)
);
-- Why people did not get email, or had to wait: postal reasons, retry classes, review classes.
create table campaign_reason_counts (
  campaign_id bigint not null,
  reason      text not null,
  n           bigint not null,
  primary key (campaign_id, reason)
);
-- Ledger rows of transactions with tx below `done_below` are counted.
create table count_watermark (
  id          integer primary key check (id = 1),
  done_below  bigint not null,
  at          timestamptz not null default now()
);
insert into count_watermark (id, done_below) values (1, 0);

alter table bounce_events add column campaign_id bigint;
update bounce_events b set campaign_id = n.campaign_id from notices n where n.id = b.notice_id;
create index bounce_events_campaign on bounce_events (campaign_id, class);

-- Every running `notice worker`, beating every few seconds; a clean stop removes its row.
create table workers (
  id           text primary key,
  host         text not null,
  pid          integer not null,
  queues       text[] not null,
  metrics_port integer,
  started_at   timestamptz not null default now(),
  beat_at      timestamptz not null default now()
);

-- Operators (ops API, dashboard, queue UI). A token is shown once; only its sha256 is stored.
create table operators (
  id          bigint generated always as identity primary key,
  name        text not null unique,
  role        text not null check (role in ('viewer', 'operator')),
  token_hash  text not null unique,
  created_at  timestamptz not null default now()
);

-- The legal clock (Japan's APPI: the final report to the PPC within 30 days of discovery, 60 when
-- caused by unauthorised access).
alter table campaigns
  add column discovered_on date,
  add column deadline_basis text check (deadline_basis in ('unauthorized_access', 'other'));

-- A sample every 10 s per running campaign, for the dashboard's charts (kept a day).
create table campaign_samples (
  campaign_id  bigint not null,
  at           timestamptz not null,
  emailed      bigint not null,
  open_email   bigint not null,
  queue_waiting bigint not null,
  queue_active bigint not null,
  primary key (campaign_id, at)
);
