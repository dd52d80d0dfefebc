-- 001: campaigns, template versions, notices (one row per person per campaign), the append-only
-- event ledger, suppressions and import runs.

create table campaigns (
  id            bigint generated always as identity primary key,
  name          text not null,
  state         text not null default 'draft'
                check (state in ('draft', 'running', 'paused', 'cancelled')),
  pause_reason  text,
  template_version text not null,
  extra_vars    text[] not null default '{}',
  message_errors integer not null default 0,
  outage_since  timestamptz,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now()
);

-- Template sets are stored whole, addressed by the sha256 of their files, so every send can name
-- the exact text it used.
create table template_versions (
  version      text primary key,
  files        jsonb not null,
  created_at   timestamptz not null default now()
);
alter table campaigns add foreign key (template_version) references template_versions (version);

create table notices (
  id              bigint generated always as identity primary key,
  campaign_id     bigint not null references campaigns (id),
  customer_id     text not null,
  notice_code     text not null unique,
  name            text not null,
  email           text,
  email_normalized text,
  postal_code     text,
  prefecture      text,
  city            text,
  address_line1   text,
  address_line2   text,
  locale          text not null,
  segment         text not null,
  extra           jsonb not null default '{}',
  import_line     integer,
  import_run_id   bigint,
  state           text not null default 'pending' check (state in (
                    'pending', 'queued', 'sending', 'sent', 'delivered', 'postal_queued', 'address_invalid',
                    'batched', 'printed', 'mailed', 'returned', 'unreachable', 'cancelled', 'needs_review')),
  channel         text check (channel in ('email', 'postal')),
  attempts        integer not null default 0,
  claimed_at      timestamptz,
  message_id      text,
  provider_message_id text,
  smtp_reply      text,
  template_version text,
  last_error      text,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  sent_at         timestamptz,
  unique (campaign_id, customer_id)
);
create unique index notices_campaign_email on notices (campaign_id, email_normalized) where email_normalized is not null;
-- No index mentions `state` or any other column a send updates: every transition is then a HOT
-- update (no index writes), which is most of what a send costs the database. Paging by campaign
-- and id, filtering on state, serves the relay, the reconciler and the status counts.
create index notices_campaign_id on notices (campaign_id, id);
alter table notices set (fillfactor = 80);

-- The ledger: one row per transition. Never updated, never deleted (a trigger enforces it).
create table notice_events (
  id          bigint generated always as identity primary key,
  notice_id   bigint not null references notices (id),
  campaign_id bigint not null,
  at          timestamptz not null default now(),
  from_state  text,
  to_state    text not null,
  channel     text,
  detail      jsonb not null default '{}'
);
create index notice_events_notice on notice_events (notice_id, id);
create index notice_events_campaign_at on notice_events (campaign_id, at);

create function notice_events_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'notice_events is append-only (% refused)', tg_op;
end $$;
create trigger notice_events_no_update before update or delete on notice_events
  for each statement execute function notice_events_append_only();
create trigger notice_events_no_truncate before truncate on notice_events
  for each statement execute function notice_events_append_only();

-- Addresses the email channel must not use: hard bounces, complaints, ops exclusions.
-- Marketing unsubscribes do not belong here: a breach notice is a legal notice.
create table suppressions (
  email_normalized text primary key,
  reason      text not null check (reason in ('hard_bounce', 'complaint', 'ops')),
  detail      text,
  created_at  timestamptz not null default now()
);

create table import_runs (
  id          bigint generated always as identity primary key,
  campaign_id bigint not null references campaigns (id),
  file_name   text not null,
  accepted    integer not null,
  duplicates  integer not null,
  rejected    integer not null,
  report      jsonb not null,
  created_at  timestamptz not null default now()
);
