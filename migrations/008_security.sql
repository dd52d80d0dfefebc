-- 008: tokens that can be revoked, rotated and expire; browser sessions for operators; an
-- append-only ledger of administrative actions (tokens, queue UI) that belong to no campaign.

alter table operators add column expires_at timestamptz, add column revoked_at timestamptz, add column rotated_at timestamptz;
alter table vendors add column expires_at timestamptz, add column revoked_at timestamptz, add column rotated_at timestamptz;

-- A signed-in browser. The cookie carries a random id; only its sha256 is stored. csrf_token is
-- sent back by the page in X-CSRF-Token on every write (a page on another origin cannot read it).
create table operator_sessions (
  id            bigint generated always as identity primary key,
  operator_id   bigint not null references operators (id),
  session_hash  text not null unique,
  csrf_token    text not null,
  created_at    timestamptz not null default now(),
  expires_at    timestamptz not null,
  ended_at      timestamptz
);
create index operator_sessions_operator on operator_sessions (operator_id);

create table admin_events (
  id       bigint generated always as identity primary key,
  at       timestamptz not null default now(),
  actor    text not null,
  verb     text not null,
  subject  text not null,
  detail   jsonb not null default '{}'
);
create trigger admin_events_no_update before update or delete on admin_events
  for each statement execute function notice_events_append_only();
