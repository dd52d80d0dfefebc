-- 011: what a person's evidence needs that was not kept: the imported file's sha256, the mail
-- server that reported a bounce or delivery, the sha256 of each letter as rendered, and the
-- campaign's public announcement (the substitute notice for people nobody could reach).
alter table import_runs add column file_sha256 text;
alter table bounce_events add column reporting_mta text;
alter table batch_items add column letter_sha256 text;

-- One row per publication of a campaign's announcement (republishing a corrected text adds a
-- row; the newest is the one shown). The text holds no personal data: it is rendered from the
-- campaign's template set with the organisation's details only.
create table announcements (
  id           bigint generated always as identity primary key,
  campaign_id  bigint not null references campaigns (id),
  published_at timestamptz not null default now(),
  actor        text not null,
  sha256       text not null,
  content      jsonb not null
);
create index announcements_campaign on announcements (campaign_id, id);
create trigger announcements_no_update before update or delete on announcements
  for each statement execute function notice_events_append_only();
