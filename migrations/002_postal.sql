-- 002: bounces, vendors, print batches and their files, and the postal evidence on notices.

-- Every bounce, complaint, delivery or auto-reply we received, parsed, before it is applied.
-- dedupe_key makes retries (SNS redelivery, a DSN sent twice) apply once.
create table bounce_events (
  id           bigint generated always as identity primary key,
  notice_id    bigint references notices (id),
  source       text not null check (source in ('dsn', 'ses')),
  class        text not null check (class in ('hard', 'soft', 'message', 'config', 'complaint', 'delivery', 'auto_reply', 'not_bounce')),
  action       text,
  status       text,
  diagnostic   text,
  dedupe_key   text not null unique,
  applied_at   timestamptz,
  outcome      text,
  received_at  timestamptz not null default now()
);
create index bounce_events_notice on bounce_events (notice_id);
create index bounce_events_unapplied on bounce_events (id) where applied_at is null;

create table vendors (
  id          bigint generated always as identity primary key,
  name        text not null unique,
  -- sha256 of the bearer token; the token itself is shown once and never stored.
  token_hash  text not null unique,
  created_at  timestamptz not null default now()
);

alter table campaigns add column vendor_id bigint references vendors (id);

create table batches (
  id           bigint generated always as identity primary key,
  campaign_id  bigint not null references campaigns (id),
  vendor_id    bigint not null references vendors (id),
  status       text not null default 'open' check (status in ('open', 'closing', 'ready', 'printed', 'mailed')),
  size         integer not null default 0,
  exceptions   integer not null default 0,
  created_at   timestamptz not null default now(),
  closed_at    timestamptz,
  printed_at   timestamptz,
  mailed_at    date,
  manifest     jsonb
);
-- One open batch per campaign and vendor: concurrent postal workers all add to it.
create unique index batches_one_open on batches (campaign_id, vendor_id) where status = 'open';
create index batches_vendor_status on batches (vendor_id, status);

create table batch_items (
  batch_id    bigint not null references batches (id),
  notice_id   bigint not null references notices (id),
  -- 1 for the first letter, 2 for the one re-mail after a corrected address.
  mailing     integer not null default 1,
  seq         integer,
  added_at    timestamptz not null default now(),
  primary key (batch_id, notice_id),
  unique (notice_id, mailing)
);
create index batch_items_seq on batch_items (batch_id, seq);

-- Rendered files, in chunks, so any API process can stream them and no file must fit in memory.
create table batch_files (
  batch_id    bigint not null references batches (id),
  name        text not null,
  sha256      text not null,
  bytes       bigint not null,
  content_type text not null,
  primary key (batch_id, name)
);
create table batch_file_chunks (
  batch_id    bigint not null,
  name        text not null,
  seq         integer not null,
  data        bytea not null,
  primary key (batch_id, name, seq)
);

-- Batch-level ledger: downloads, acks, mailed reports (per-person changes go to notice_events).
create table batch_events (
  id          bigint generated always as identity primary key,
  batch_id    bigint not null references batches (id),
  vendor_id   bigint,
  at          timestamptz not null default now(),
  action      text not null,
  detail      jsonb not null default '{}'
);
create trigger batch_events_no_update before update or delete on batch_events
  for each statement execute function notice_events_append_only();

alter table notices
  add column soft_bounces integer not null default 0,
  add column address_error text,
  add column address_corrected_at timestamptz,
  add column mailings integer not null default 0,
  add column batch_id bigint,
  add column mailed_at date,
  add column return_reason text;
