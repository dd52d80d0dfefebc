-- 014: letters a printer can post. A vendor's envelope window (null: the 長形3号 default), the
-- letter class per campaign segment (普通 / 特定記録), the tracking number a vendor reports per
-- letter, and each batch's postal-code data version and 区分 counts (in the manifest too).
alter table vendors add column window_mm jsonb;
alter table campaigns add column letter_classes jsonb not null default '{}'::jsonb;
alter table batch_items add column tracking_number text;
-- The console and dashboard: people a worker claimed and then stopped answering for (state
-- 'sending' past their lease), found without scanning the campaign.
create index notices_sending_claimed on notices (campaign_id, claimed_at) where state = 'sending';
