-- 010: a tamper-evident ledger. Every row of notice_events, campaign_events and batch_events
-- carries `hash = sha256(prev_hash || canonical row)`, where prev_hash is the hash of the row
-- before it in its chain (32 zero bytes for the first). Chains are per person (notice), per
-- campaign and per batch:
--   - per person, so one person's evidence can be re-checked on its own, and so the relay's and
--     the workers' inserts for different people never wait on each other (a person's rows are
--     already written one at a time: every writer holds the notice row's lock);
--   - the campaign and batch ledgers are small; their writers take an advisory lock per chain
--     (inside the trigger) so two transactions cannot both extend the same row.
-- The canonical row is the columns below joined by U+001F, NULL written as \N, `at` as UTC with
-- microseconds, jsonb in PostgreSQL's own (sorted, normalised) text. `notice ledger verify`
-- recomputes every chain from the plain columns in Node (src/db/ledger-chain.ts), independent of
-- this function.

alter table notice_events add column prev_hash bytea, add column hash bytea;
alter table campaign_events add column prev_hash bytea, add column hash bytea;
alter table batch_events add column prev_hash bytea, add column hash bytea;

create function ledger_at(t timestamptz) returns text language sql immutable as $$
  select to_char(t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

create function ledger_genesis() returns bytea language sql immutable as $$
  select decode(repeat('00', 32), 'hex')
$$;

-- A person's ledger starts with the move out of `pending` (creation is import_runs' record, and no
-- move leads back to pending), so that row starts the chain without looking: the launch of a
-- million people writes a million of them. Any other row follows the person's last one.
create function notice_events_chain() returns trigger language plpgsql as $$
begin
  if new.from_state = 'pending' and new.to_state <> 'pending' then
    new.prev_hash := ledger_genesis();
  else
    select e.hash into new.prev_hash from notice_events e where e.notice_id = new.notice_id order by e.id desc limit 1;
    new.prev_hash := coalesce(new.prev_hash, ledger_genesis());
  end if;
  new.hash := sha256(new.prev_hash || convert_to(concat_ws(chr(31), 'n1', new.id, new.notice_id, new.campaign_id, ledger_at(new.at),
    coalesce(new.from_state, '\N'), new.to_state, coalesce(new.channel, '\N'), new.detail::text), 'UTF8'));
  return new;
end $$;
create trigger notice_events_chain before insert on notice_events for each row execute function notice_events_chain();

create function campaign_events_chain() returns trigger language plpgsql as $$
begin
  perform pg_advisory_xact_lock(8101, new.campaign_id::int);
  select e.hash into new.prev_hash from campaign_events e where e.campaign_id = new.campaign_id order by e.id desc limit 1;
  new.prev_hash := coalesce(new.prev_hash, ledger_genesis());
  new.hash := sha256(new.prev_hash || convert_to(concat_ws(chr(31), 'c1', new.id, new.campaign_id, ledger_at(new.at), new.verb,
    new.from_state, new.to_state, new.actor, coalesce(new.reason, '\N')), 'UTF8'));
  return new;
end $$;
create trigger campaign_events_chain before insert on campaign_events for each row execute function campaign_events_chain();

create index batch_events_batch on batch_events (batch_id, id);
create function batch_events_chain() returns trigger language plpgsql as $$
begin
  perform pg_advisory_xact_lock(8102, new.batch_id::int);
  select e.hash into new.prev_hash from batch_events e where e.batch_id = new.batch_id order by e.id desc limit 1;
  new.prev_hash := coalesce(new.prev_hash, ledger_genesis());
  new.hash := sha256(new.prev_hash || convert_to(concat_ws(chr(31), 'b1', new.id, new.batch_id, coalesce(new.vendor_id::text, '\N'), ledger_at(new.at),
    new.action, new.detail::text), 'UTF8'));
  return new;
end $$;
create trigger batch_events_chain before insert on batch_events for each row execute function batch_events_chain();

-- Rows written before this migration are chained now, in id order (the append-only triggers are
-- lifted for this statement only, inside the migration's transaction).
alter table notice_events disable trigger notice_events_no_update;
alter table campaign_events disable trigger campaign_events_no_update;
alter table batch_events disable trigger batch_events_no_update;
do $$
declare r record; prev bytea; last_key bigint := -1;
begin
  for r in select * from notice_events order by notice_id, id loop
    if r.notice_id <> last_key then prev := ledger_genesis(); last_key := r.notice_id; end if;
    update notice_events set prev_hash = prev, hash = sha256(prev || convert_to(concat_ws(chr(31), 'n1', r.id, r.notice_id, r.campaign_id, ledger_at(r.at),
      coalesce(r.from_state, '\N'), r.to_state, coalesce(r.channel, '\N'), r.detail::text), 'UTF8')) where id = r.id returning hash into prev;
  end loop;
  last_key := -1;
  for r in select * from campaign_events order by campaign_id, id loop
    if r.campaign_id <> last_key then prev := ledger_genesis(); last_key := r.campaign_id; end if;
    update campaign_events set prev_hash = prev, hash = sha256(prev || convert_to(concat_ws(chr(31), 'c1', r.id, r.campaign_id, ledger_at(r.at), r.verb,
      r.from_state, r.to_state, r.actor, coalesce(r.reason, '\N')), 'UTF8')) where id = r.id returning hash into prev;
  end loop;
  last_key := -1;
  for r in select * from batch_events order by batch_id, id loop
    if r.batch_id <> last_key then prev := ledger_genesis(); last_key := r.batch_id; end if;
    update batch_events set prev_hash = prev, hash = sha256(prev || convert_to(concat_ws(chr(31), 'b1', r.id, r.batch_id, coalesce(r.vendor_id::text, '\N'), ledger_at(r.at),
      r.action, r.detail::text), 'UTF8')) where id = r.id returning hash into prev;
  end loop;
end $$;
alter table notice_events enable trigger notice_events_no_update;
alter table campaign_events enable trigger campaign_events_no_update;
alter table batch_events enable trigger batch_events_no_update;
