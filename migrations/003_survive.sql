-- 003: people who share an email address are different people; the campaign ledger (who
-- launched, paused, resumed or cancelled, and why); the SES message-id lookup index.

-- A family or a shared mailbox: the same email under different customer_ids is imported and each
-- person notified. Duplicate customer_ids stay refused (unique (campaign_id, customer_id)).
drop index notices_campaign_email;
create index notices_campaign_email on notices (campaign_id, email_normalized) where email_normalized is not null;

-- The SES webhook finds a notice by the MessageId SES gave it: an index lookup, not a scan per
-- event. (Set once per notice, when it is sent; the update that sets it is not HOT, once.)
create index notices_provider_message_id on notices (provider_message_id) where provider_message_id is not null;

-- Every change of a campaign's state, by whom and why. Never updated, never deleted.
create table campaign_events (
  id          bigint generated always as identity primary key,
  campaign_id bigint not null references campaigns (id),
  at          timestamptz not null default now(),
  verb        text not null,
  from_state  text not null,
  to_state    text not null,
  actor       text not null,
  reason      text
);
create index campaign_events_campaign on campaign_events (campaign_id, id);
create trigger campaign_events_no_update before update or delete on campaign_events
  for each statement execute function notice_events_append_only();

alter table campaigns add column paused_by text;

-- Bounces that blame our own setup are counted per campaign over a recent window.
create index bounce_events_config on bounce_events (received_at) where class = 'config';
