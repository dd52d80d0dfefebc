-- 007: steering without a shell. Send windows and pacing per campaign; who imported a file; the
-- organisation a notice is from (for the public verify page) is configuration.
alter table campaigns
  add column quiet_from time,
  add column quiet_to time,
  add column time_zone text not null default 'Asia/Tokyo',
  add column hourly_cap integer check (hourly_cap is null or hourly_cap > 0);
alter table import_runs add column actor text;
