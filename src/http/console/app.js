// The operations console: the operator API in a browser page (Preact + htm, no build step).
// Every list is paged by the server; nothing asks for a whole campaign. Writes carry the
// session's CSRF token.
import { html, render, useEffect, useState, useCallback } from '/console/preact.js';

const T = {
  ja: {
    title: '通知運用コンソール', campaigns: 'キャンペーン', newCampaign: '新規作成', signOut: 'サインアウト', lang: 'English',
    name: '名前', state: '状態', progress: '進捗', rate: '送信速度', eta: '完了見込み', deadline: '報告期限', waiting: '待ち', people: '人数',
    active: '進行中・下書き', finished: '完了', cancelledList: '中止済み', none: 'ありません',
    draft: '下書き', running: '送信中', paused: '一時停止', cancelled: '中止', completed: '完了',
    perSec: '件/秒', daysLeft: (d) => `残り${d}日`, overdue: (d) => `${d}日超過`, done: '完了', quiet: '送信停止時間帯',
    overview: '概要', import: '取込', dryRun: '事前確認', preview: 'プレビュー', testSend: 'テスト送信', attention: '要対応', batches: '印刷バッチ', find: '個人検索', report: 'レポート', ledger: '操作履歴',
    launch: '送信開始', pause: '一時停止', resume: '再開', cancel: '中止', reason: '理由', confirm: '実行', back: '戻る',
    confirmLaunch: (n) => `${n}人への通知を開始します。`, confirmPause: (n) => `送信を止めます（未通知 ${n}人）。`, confirmResume: (n) => `送信を再開します（未通知 ${n}人）。`, confirmCancel: (n) => `中止します。まだ通知していない ${n}人は通知されません。`,
    create: '作成', templates: 'テンプレート一式（ファイルをすべて選択）', vendor: '印刷会社', discovered: '発覚日', basis: '根拠', problems: '問題点',
    csv: '受信者CSV', encoding: '文字コード', upload: 'アップロード', dropHere: 'ここにCSVをドロップ、または選択', accepted: '取込', rejected: '除外', duplicates: '重複', warnings: '警告', line: '行', field: '項目', downloadReport: '取込レポートをダウンロード', encodingUsed: '読み取った文字コード',
    segment: 'セグメント', locale: '言語', email: 'メール', post: '郵送', total: '合計', letters: '通知書', 
    who: '顧客ID または 通知ID', show: '表示', subject: '件名', text: 'テキスト', letterPdf: '通知書PDF', to: '宛先', send: '送信', sent: '送信しました',
    addressInvalid: '住所不備', needsReview: '要確認', returned: '返送', unreachable: '到達不能', fix: '修正', more: 'さらに表示', fixed: '修正しました',
    closeNow: '今すぐ締める', files: 'ファイル', status: '状態',
    by: '検索方法', code: '通知番号', customer: '顧客ID', value: '値', search: '検索', channel: '経路', evidence: '証跡', at: '日時', from: '前', toState: '後', actor: '操作者',
    download: 'ダウンロード', reconciliation: '照合', adds: '全員の最終状態が合計と一致しています', unaccounted: (n) => `${n}人が未確定です`,
    imported: '取込人数', accountedFor: '確定', notAccounted: '未確定', settings: '設定', save: '保存', saved: '保存しました', quietFrom: '送信停止 開始', quietTo: '送信停止 終了', hourlyCap: '1時間あたり上限', unmatched: '宛先不明のバウンス', received: '受信', diagnostic: '詳細', readOnly: '閲覧のみ（viewer）', signedInAs: 'サインイン:', loading: '読み込み中…',
    w_quiet_hours: (n, w) => `送信停止時間帯: メール ${n}件は ${w} に再開`, w_not_launched: (n) => `未開始: ${n}人`, w_paused: (n, _w, c) => `一時停止中（${c.pauseReason ?? '理由なし'}）: メール ${n}件`,
    w_reputation: (n) => `評判保護で減速: メール ${n}件`, w_delayed: (n) => `受信側で遅延: ${n}件（確認期限で郵送へ）`, w_routing: (n) => `郵送の準備中: ${n}通`, w_no_vendor: (n) => `印刷会社が未設定: ${n}通`,
    w_address_invalid: (n) => `住所不備: ${n}通（「要対応」で修正）`, w_needs_review: (n) => `要確認: ${n}人`, w_open_batch: (n) => `印刷バッチに蓄積中: ${n}通（満杯・期限で締め、または「今すぐ締める」）`,
    w_stale_sending: (n) => `止まったワーカーが保持中: ${n}件（保持期限後にキューへ戻ります）`, w_ready_batch: (n) => `印刷会社の受領待ち: ${n}通`, w_printed_batch: (n) => `投函報告待ち: ${n}通`,
  },
  en: {
    title: 'Notice operations console', campaigns: 'Campaigns', newCampaign: 'New campaign', signOut: 'Sign out', lang: '日本語',
    name: 'Name', state: 'State', progress: 'Progress', rate: 'Rate', eta: 'ETA', deadline: 'Deadline', waiting: 'Waiting', people: 'People',
    active: 'Running and drafts', finished: 'Completed', cancelledList: 'Cancelled', none: 'None',
    draft: 'draft', running: 'running', paused: 'paused', cancelled: 'cancelled', completed: 'completed',
    perSec: '/s', daysLeft: (d) => `${d} days left`, overdue: (d) => `${d} days overdue`, done: 'done', quiet: 'quiet hours',
    overview: 'Overview', import: 'Import', dryRun: 'Dry run', preview: 'Preview', testSend: 'Test send', attention: 'Needs a hand', batches: 'Print batches', find: 'Find a person', report: 'Report', ledger: 'Ledger',
    launch: 'Launch', pause: 'Pause', resume: 'Resume', cancel: 'Cancel', reason: 'Reason', confirm: 'Confirm', back: 'Back',
    confirmLaunch: (n) => `Start notifying ${n} people.`, confirmPause: (n) => `Stop sending (${n} not yet notified).`, confirmResume: (n) => `Resume sending (${n} not yet notified).`, confirmCancel: (n) => `Cancel: the ${n} people not yet notified will not be.`,
    create: 'Create', templates: 'Template set (select every file)', vendor: 'Printing vendor', discovered: 'Discovered on', basis: 'Basis', problems: 'Problems',
    csv: 'Recipient CSV', encoding: 'Encoding', upload: 'Upload', dropHere: 'Drop the CSV here, or choose it', accepted: 'Accepted', rejected: 'Rejected', duplicates: 'Duplicates', warnings: 'Warnings', line: 'Line', field: 'Field', downloadReport: 'Download the import report', encodingUsed: 'Read as',
    segment: 'Segment', locale: 'Locale', email: 'Email', post: 'Post', total: 'Total', letters: 'Letters',
    who: 'Customer id or notice id', show: 'Show', subject: 'Subject', text: 'Text', letterPdf: 'Letter PDF', to: 'To', send: 'Send', sent: 'Sent',
    addressInvalid: 'Address invalid', needsReview: 'Needs review', returned: 'Returned', unreachable: 'Unreachable', fix: 'Fix', more: 'More', fixed: 'Fixed',
    closeNow: 'Close now', files: 'Files', status: 'Status',
    by: 'By', code: 'Notice code', customer: 'Customer id', value: 'Value', search: 'Search', channel: 'Channel', evidence: 'Evidence', at: 'At', from: 'From', toState: 'To', actor: 'Actor',
    download: 'Download', reconciliation: 'Reconciliation', adds: 'Every person\'s final state adds up to the total', unaccounted: (n) => `${n} people not accounted for`,
    imported: 'Imported', accountedFor: 'Accounted for', notAccounted: 'Not accounted for', settings: 'Settings', save: 'Save', saved: 'Saved', quietFrom: 'Quiet from', quietTo: 'Quiet until', hourlyCap: 'Hourly cap', unmatched: 'Unmatched bounces', received: 'Received', diagnostic: 'Diagnostic', readOnly: 'Read only (viewer)', signedInAs: 'Signed in:', loading: 'Loading…',
    w_quiet_hours: (n, w) => `quiet hours: ${n} emails resume at ${w}`, w_not_launched: (n) => `not launched: ${n} people`, w_paused: (n, _w, c) => `paused (${c.pauseReason ?? 'no reason given'}): ${n} emails`,
    w_reputation: (n) => `slowed by the reputation brakes: ${n} emails`, w_delayed: (n) => `delayed by the receiving server: ${n} (a letter at the confirmation deadline)`, w_routing: (n) => `being prepared for post: ${n} letters`, w_no_vendor: (n) => `no printing vendor named: ${n} letters`,
    w_address_invalid: (n) => `address unusable: ${n} letters (fix them under "Needs a hand")`, w_needs_review: (n) => `needs review: ${n} people`, w_open_batch: (n) => `in an open print batch: ${n} letters (closes when full or old enough, or "Close now")`,
    w_stale_sending: (n) => `held by a worker that stopped: ${n} (back to the queue when the claim runs out)`, w_ready_batch: (n) => `waiting for the vendor to print: ${n} letters`, w_printed_batch: (n) => `waiting for the vendor's mailed report: ${n} letters`,
  },
};

let lang = localStorage.getItem('console.lang') || (navigator.language?.startsWith('ja') ? 'ja' : 'en');
const t = (k, ...a) => { const v = T[lang][k] ?? T.en[k] ?? k; return typeof v === 'function' ? v(...a) : v; };
let session = null;

async function api(method, url, body, headers = {}) {
  const h = { ...headers };
  if (method !== 'GET' && session) h['x-csrf-token'] = session.csrf_token;
  if (body !== undefined && !(body instanceof Blob) && typeof body !== 'string') { h['content-type'] = 'application/json'; body = JSON.stringify(body); }
  const res = await fetch(url, { method, headers: h, body, credentials: 'same-origin' });
  if (res.status === 401) { location.assign(`/signin?next=${encodeURIComponent(location.pathname + location.hash)}`); throw new Error('signed out'); }
  const type = res.headers.get('content-type') || '';
  const data = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) { const e = new Error(data?.error || data || res.statusText); e.data = data; throw e; }
  return data;
}

const fmtEta = (s) => (s === null || s === undefined ? '—' : s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);
const when = (iso) => (iso ? new Date(iso).toLocaleString(lang === 'ja' ? 'ja-JP' : 'en-GB', { timeZone: 'Asia/Tokyo' }) : '—');
const stateOf = (c) => (c.completed ? 'completed' : c.state);
const canWrite = () => session?.role === 'operator';

function useHash() {
  const [h, setH] = useState(location.hash || '#/');
  useEffect(() => { const f = () => setH(location.hash || '#/'); addEventListener('hashchange', f); return () => removeEventListener('hashchange', f); }, []);
  return h;
}

function Err({ error }) { return error ? html`<div class="error" role="alert">${error}</div>` : null; }

function Deadline({ d }) {
  if (!d) return '—';
  const days = d.daysLeft ?? d.days_left;
  if (days === undefined) return d.due ?? '—';
  return days >= 0 ? t('daysLeft', days) : html`<span style="color:var(--bad)">${t('overdue', -days)}</span>`;
}

function Progress({ c }) {
  return html`<span class="bar"><span style=${`width:${c.progress}%`}></span></span> ${c.progress}%`;
}

/** What waits and why, in the page's language (times in Japan's time). */
function waitingText(c) {
  const w = (c.waiting || []).map((x) => (T[lang][`w_${x.code}`] ? t(`w_${x.code}`, x.count, when(c.pacing?.windowOpensAt), c) : x.why));
  return w.join(' / ') || '—';
}
/** The rate and ETA only while something is being sent (not in quiet hours, not 0 with people waiting on ops). */
const sending = (c) => c.state === 'running' && !c.pacing?.inQuietHours && c.ratePerSec > 0 && (c.counts.queued + c.counts.sending) > 0;

function CampaignTable({ rows }) {
  if (!rows.length) return html`<p class="muted">${t('none')}</p>`;
  return html`<table><thead><tr><th>#</th><th>${t('name')}</th><th>${t('state')}</th><th class="num">${t('people')}</th><th>${t('progress')}</th><th class="num">${t('rate')}</th><th>${t('eta')}</th><th>${t('deadline')}</th><th>${t('waiting')}</th></tr></thead>
  <tbody>${rows.map((c) => html`<tr>
    <td>${c.id}</td><td><a href=${`#/c/${c.id}`}>${c.name}</a></td><td><span class=${`badge ${stateOf(c)}`}>${t(stateOf(c))}</span>${c.pauseReason ? html` <span class="muted">${c.pauseReason}</span>` : ''}</td>
    <td class="num">${c.total.toLocaleString()}</td><td><${Progress} c=${c} /></td>
    <td class="num">${sending(c) ? `${c.ratePerSec} ${t('perSec')}` : '—'}</td><td>${c.completed ? t('done') : sending(c) ? fmtEta(c.etaSeconds) : '—'}</td>
    <td><${Deadline} d=${c.deadline} /></td><td class="muted">${waitingText(c)}</td></tr>`)}</tbody></table>`;
}

function CampaignList() {
  const [rows, setRows] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let stop = false;
    const load = () => api('GET', '/api/v1/console/campaigns').then((r) => !stop && setRows(r.campaigns)).catch((e) => setError(e.message));
    load();
    const timer = setInterval(load, 5000);
    return () => { stop = true; clearInterval(timer); };
  }, []);
  if (!rows) return html`<${Err} error=${error} /><p class="muted">${t('loading')}</p>`;
  const active = rows.filter((c) => !c.completed && c.state !== 'cancelled');
  return html`<h2>${t('campaigns')}</h2><${Err} error=${error} />
    ${canWrite() ? html`<p><a class="button" href="#/new">${t('newCampaign')}</a></p>` : ''}
    <section class="card"><h3>${t('active')}</h3><${CampaignTable} rows=${active} /></section>
    <section class="card"><h3>${t('finished')}</h3><${CampaignTable} rows=${rows.filter((c) => c.completed && c.state !== 'cancelled')} /></section>
    <details class="card"><summary>${t('cancelledList')} (${rows.filter((c) => c.state === 'cancelled').length})</summary><${CampaignTable} rows=${rows.filter((c) => c.state === 'cancelled')} /></details>`;
}

function NewCampaign() {
  const [error, setError] = useState(null);
  const [problems, setProblems] = useState([]);
  const [busy, setBusy] = useState(false);
  const submit = async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    setBusy(true); setError(null); setProblems([]);
    try {
      const templates = {};
      for (const file of f.templates.files) templates[file.name] = await file.text();
      const body = { name: f.name.value, templates };
      if (f.vendor.value) body.vendor = f.vendor.value;
      if (f.discovered.value) { body.discovered_on = f.discovered.value; body.deadline_basis = f.basis.value; }
      if (f.quiet_from.value && f.quiet_to.value) body.pacing = { quiet_hours: { from: f.quiet_from.value, to: f.quiet_to.value, time_zone: 'Asia/Tokyo' } };
      if (f.hourly_cap.value) body.pacing = { ...(body.pacing ?? {}), hourly_cap: Number(f.hourly_cap.value) };
      const r = await api('POST', '/api/v1/campaigns', body);
      location.hash = `#/c/${r.id}`;
    } catch (e) {
      setError(e.message.split('\n')[0]);
      setProblems(e.data?.issues?.map((i) => `${i.field}: ${i.message}`) ?? e.message.split('\n').slice(1).map((x) => x.trim()).filter(Boolean));
    } finally { setBusy(false); }
  };
  return html`<h2>${t('newCampaign')}</h2><form class="card" onSubmit=${submit}>
    <div class="row"><label>${t('name')}<input name="name" required maxlength="200" size="40" /></label>
    <label>${t('vendor')}<input name="vendor" maxlength="200" /></label>
    <label>${t('discovered')}<input name="discovered" type="date" /></label>
    <label>${t('basis')}<select name="basis"><option value="unauthorized_access">unauthorized_access (60)</option><option value="other">other (30)</option></select></label>
    <label>${t('quietFrom')}<input name="quiet_from" type="time" /></label><label>${t('quietTo')}<input name="quiet_to" type="time" /></label><label>${t('hourlyCap')}<input name="hourly_cap" type="number" min="1" /></label></div>
    <label>${t('templates')}<input name="templates" type="file" multiple required accept=".txt,.html,.md,.json" /></label>
    <div><button class="primary" disabled=${busy}>${t('create')}</button></div>
    <${Err} error=${error} />${problems.length ? html`<h3>${t('problems')} (${problems.length})</h3><ul class="problems">${problems.map((p) => html`<li>${p}</li>`)}</ul>` : ''}
  </form>`;
}

function Confirm({ text, withReason, onOk, onCancel }) {
  const [reason, setReason] = useState('');
  return html`<div class="dialog" role="dialog"><div><p>${text}</p>${withReason ? html`<label>${t('reason')}<input name="reason" value=${reason} onInput=${(e) => setReason(e.target.value)} size="40" /></label>` : ''}
    <div class="row"><button class="primary" onClick=${() => onOk(reason)}>${t('confirm')}</button><button onClick=${onCancel}>${t('back')}</button></div></div></div>`;
}

function Overview({ c, reload }) {
  const [ask, setAsk] = useState(null);
  const [msg, setMsg] = useState(null);
  const [error, setError] = useState(null);
  const notNotified = c.total - c.notified;
  const act = async (verb, reason) => {
    setAsk(null); setError(null);
    try { const r = await api('POST', `/api/v1/campaigns/${c.id}/${verb}`, reason ? { reason } : {}); setMsg(r.message); reload(); } catch (e) { setError(e.message); }
  };
  const button = (verb, cls, text) => html`<button class=${cls} onClick=${() => setAsk({ verb, text })}>${t(verb)}</button>`;
  return html`<section class="card">
    <dl class="kv"><dt>${t('state')}</dt><dd><span class=${`badge ${stateOf(c)}`}>${t(stateOf(c))}</span> ${c.pauseReason ? `(${c.pauseReason})` : ''}</dd>
    <dt>${t('people')}</dt><dd>${c.total.toLocaleString()}</dd><dt>${t('progress')}</dt><dd><${Progress} c=${c} /></dd>
    <dt>${t('rate')}</dt><dd>${sending(c) ? `${c.ratePerSec} ${t('perSec')}` : '—'}</dd><dt>${t('eta')}</dt><dd>${c.completed ? t('done') : sending(c) ? fmtEta(c.etaSeconds) : '—'}</dd>
    <dt>${t('deadline')}</dt><dd><${Deadline} d=${c.deadline} /></dd><dt>${t('vendor')}</dt><dd>${c.vendor ?? '—'}</dd><dt>${t('waiting')}</dt><dd>${waitingText(c)}</dd></dl>
    <table class="counts"><tbody><tr>${Object.entries(c.counts).filter(([, n]) => n).map(([k, n]) => html`<td><span class="muted">${k}</span><br/><b>${n.toLocaleString()}</b></td>`)}</tr></tbody></table>
    ${canWrite() ? html`<p class="row">${c.state === 'draft' ? button('launch', 'primary', t('confirmLaunch', c.total)) : ''}${c.state === 'running' ? button('pause', '', t('confirmPause', notNotified)) : ''}${c.state === 'paused' ? button('resume', 'primary', t('confirmResume', notNotified)) : ''}${c.state !== 'cancelled' ? button('cancel', 'danger', t('confirmCancel', notNotified)) : ''}</p>` : html`<p class="muted">${t('readOnly')}</p>`}
    ${msg ? html`<div class="ok">${msg}</div>` : ''}<${Err} error=${error} />
    ${canWrite() && c.state !== 'cancelled' ? html`<${Settings} c=${c} reload=${reload} />` : ''}
    ${ask ? html`<${Confirm} text=${ask.text} withReason=${ask.verb === 'pause' || ask.verb === 'cancel'} onOk=${(r) => act(ask.verb, r)} onCancel=${() => setAsk(null)} />` : ''}
  </section>`;
}

function Settings({ c, reload }) {
  const [msg, setMsg] = useState(null);
  const [error, setError] = useState(null);
  const save = async (e) => {
    e.preventDefault();
    const f = e.target;
    setMsg(null); setError(null);
    try {
      if (f.vendor.value && f.vendor.value !== c.vendor) await api('PUT', `/api/v1/campaigns/${c.id}/vendor`, { vendor: f.vendor.value });
      if (f.discovered.value) await api('PUT', `/api/v1/campaigns/${c.id}/deadline`, { discovered_on: f.discovered.value, basis: f.basis.value });
      await api('PUT', `/api/v1/campaigns/${c.id}/pacing`, { quiet_hours: f.quiet_from.value && f.quiet_to.value ? { from: f.quiet_from.value, to: f.quiet_to.value, time_zone: c.pacing?.timeZone ?? 'Asia/Tokyo' } : null, hourly_cap: f.hourly_cap.value ? Number(f.hourly_cap.value) : null });
      setMsg(t('saved')); reload();
    } catch (err) { setError(err.message); }
  };
  return html`<details><summary>${t('settings')}</summary><form class="row settings" onSubmit=${save}>
    <label>${t('vendor')}<input name="vendor" value=${c.vendor ?? ''} /></label>
    <label>${t('discovered')}<input name="discovered" type="date" value=${c.deadline?.discoveredOn ?? ''} /></label>
    <label>${t('basis')}<select name="basis" value=${c.deadline?.basis ?? 'unauthorized_access'}><option value="unauthorized_access">unauthorized_access (60)</option><option value="other">other (30)</option></select></label>
    <label>${t('quietFrom')}<input name="quiet_from" type="time" value=${c.pacing?.quietFrom ?? ''} /></label><label>${t('quietTo')}<input name="quiet_to" type="time" value=${c.pacing?.quietTo ?? ''} /></label>
    <label>${t('hourlyCap')}<input name="hourly_cap" type="number" min="1" value=${c.pacing?.hourlyCap ?? ''} /></label><button class="primary">${t('save')}</button></form>
    ${msg ? html`<div class="ok">${msg}</div>` : ''}<${Err} error=${error} /></details>`;
}

function Unmatched() {
  const [rows, setRows] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => { api('GET', '/api/v1/bounces/unmatched?limit=100').then((r) => setRows(r.bounces)).catch((e) => setError(e.message)); }, []);
  return html`<h2>${t('unmatched')}</h2><${Err} error=${error} /><section class="card">${rows?.length ? html`<table class="unmatched"><thead><tr><th>#</th><th>${t('received')}</th><th></th><th>${t('reason')}</th><th>${t('diagnostic')}</th></tr></thead>
    <tbody>${rows.map((b) => html`<tr><td>${b.id}</td><td>${when(b.received_at)}</td><td>${b.source}</td><td>${b.reason ?? b.class}</td><td class="muted">${(b.diagnostic ?? '').slice(0, 160)}</td></tr>`)}</tbody></table>` : html`<p class="muted">${rows ? t('none') : t('loading')}</p>`}</section>`;
}

function Import({ c, reload }) {
  const [file, setFile] = useState(null);
  const [pct, setPct] = useState(null);
  const [report, setReport] = useState(null);
  const [error, setError] = useState(null);
  const [over, setOver] = useState(false);
  const upload = () => {
    setError(null); setReport(null); setPct(0);
    const enc = document.querySelector('select[name=encoding]').value;
    const x = new XMLHttpRequest();
    x.open('POST', `/api/v1/campaigns/${c.id}/recipients?encoding=${enc}&file_name=${encodeURIComponent(file.name)}`);
    x.setRequestHeader('content-type', 'text/csv');
    x.setRequestHeader('x-csrf-token', session.csrf_token);
    x.upload.onprogress = (e) => e.lengthComputable && setPct(Math.round((100 * e.loaded) / e.total));
    x.onload = () => { setPct(null); const r = JSON.parse(x.responseText); if (x.status === 200) { setReport(r); reload(); } else setError(r.error); };
    x.onerror = () => { setPct(null); setError('network error'); };
    x.send(file);
  };
  const issues = report ? [...report.rejected.map((r) => ({ ...r, kind: t('rejected') })), ...report.duplicates.map((r) => ({ ...r, kind: t('duplicates') })), ...report.warnings.map((r) => ({ ...r, kind: t('warnings') }))].sort((a, b) => a.line - b.line) : [];
  const dl = () => { const a = document.createElement('a'); a.href = URL.createObjectURL(new Blob([JSON.stringify(report, null, 2)], { type: 'application/json' })); a.download = `import-report-${c.id}.json`; a.click(); };
  return html`<section class="card">
    <div class=${`drop${over ? ' over' : ''}`} onDragOver=${(e) => { e.preventDefault(); setOver(true); }} onDragLeave=${() => setOver(false)} onDrop=${(e) => { e.preventDefault(); setOver(false); setFile(e.dataTransfer.files[0]); }}>
      ${t('dropHere')}<br/><input type="file" name="csv" accept=".csv,text/csv" onChange=${(e) => setFile(e.target.files[0])} />
      ${file ? html`<p>${file.name} (${file.size.toLocaleString()} B)</p>` : ''}</div>
    <div class="row"><label>${t('encoding')}<select name="encoding"><option value="auto">auto</option><option value="utf8">UTF-8</option><option value="shift_jis">Shift_JIS</option></select></label>
    <button class="primary" disabled=${!file || pct !== null || !canWrite()} onClick=${upload}>${t('upload')}</button>${pct !== null ? html`<progress max="100" value=${pct}></progress> ${pct}%` : ''}</div>
    <${Err} error=${error} />
    ${report ? html`<div class="ok import-summary">${t('accepted')} ${report.accepted} · ${t('rejected')} ${report.rejected.length} · ${t('duplicates')} ${report.duplicates.length} · ${t('warnings')} ${report.warnings.length} · ${t('encodingUsed')} ${report.encoding}${report.encodingDetected ? ' (auto)' : ''}</div>
      ${issues.length ? html`<table class="import-report"><thead><tr><th class="num">${t('line')}</th><th></th><th>${t('field')}</th><th>${t('reason')}</th></tr></thead><tbody>${issues.map((i) => html`<tr><td class="num">${i.line}</td><td class="nowrap">${i.kind}</td><td>${i.field}</td><td>${i.reason}</td></tr>`)}</tbody></table>` : ''}
      <p><button onClick=${dl}>${t('downloadReport')}</button></p>` : ''}
  </section>`;
}

function DryRun({ c }) {
  const [d, setD] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => { api('GET', `/api/v1/campaigns/${c.id}/dry-run`).then(setD).catch((e) => setError(e.message)); }, [c.id]);
  if (!d) return html`<${Err} error=${error} />`;
  return html`<section class="card"><table class="dry-run"><thead><tr><th>${t('segment')}</th><th>${t('locale')}</th><th class="num">${t('email')}</th><th class="num">${t('post')}</th></tr></thead>
    <tbody>${d.rows.map((r) => html`<tr><td>${r.segment}</td><td>${r.locale}</td><td class="num">${r.email}</td><td class="num">${r.post}</td></tr>`)}
    <tr><th colspan="2">${t('total')}</th><th class="num">${d.total.email}</th><th class="num">${d.total.post}</th></tr></tbody></table>
    <p class="muted">${t('rejected')} ${d.rejected} · ${t('duplicates')} ${d.duplicates} · ${t('letters')}: ${d.letters.map((l) => `${l.vendor ?? '—'} ${l.letters}`).join(', ') || 0}</p></section>`;
}

function Preview({ c }) {
  const [who, setWho] = useState('');
  const [m, setM] = useState(null);
  const [error, setError] = useState(null);
  const q = () => (/^\d+$/.test(who) ? `notice_id=${who}` : `customer_id=${encodeURIComponent(who)}`);
  const show = async (e) => { e.preventDefault(); setError(null); try { setM(await api('GET', `/api/v1/campaigns/${c.id}/preview?${q()}`)); } catch (err) { setError(err.message); } };
  return html`<section class="card"><form class="row" onSubmit=${show}><label>${t('who')}<input name="who" value=${who} onInput=${(e) => setWho(e.target.value)} required /></label><button>${t('show')}</button></form>
    <${Err} error=${error} />
    ${m ? html`<dl class="kv"><dt>${t('to')}</dt><dd>${m.to ?? '—'}</dd><dt>${t('subject')}</dt><dd class="subject">${m.subject}</dd></dl>
      <h3>HTML</h3><iframe class="mail" sandbox="" srcdoc=${m.html} title="email"></iframe>
      <h3>${t('text')}</h3><pre class="text">${m.text}</pre>
      <p><a class="letter-pdf" href=${`/api/v1/campaigns/${c.id}/preview/letter.pdf?${q()}`} target="_blank" rel="noopener">${t('letterPdf')}</a></p>` : ''}</section>`;
}

function TestSend({ c }) {
  const [r, setR] = useState(null);
  const [error, setError] = useState(null);
  const send = async (e) => { e.preventDefault(); const f = e.target; setError(null); setR(null); try { setR(await api('POST', `/api/v1/campaigns/${c.id}/test-send`, { to: f.to.value, segment: f.segment.value, locale: f.locale.value })); } catch (err) { setError(err.message); } };
  return html`<section class="card"><form class="row" onSubmit=${send}><label>${t('to')}<input name="to" type="email" required /></label>
    <label>${t('segment')}<input name="segment" value="card" /></label><label>${t('locale')}<input name="locale" value="ja" /></label><button class="primary" disabled=${!canWrite()}>${t('send')}</button></form>
    <${Err} error=${error} />${r ? html`<div class="ok">${t('sent')}: ${r.messageId} — ${r.reply}</div>` : ''}</section>`;
}

function FixForm({ p, onDone }) {
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const f = e.target;
    const body = {};
    for (const k of ['postal_code', 'prefecture', 'city', 'address_line1', 'address_line2']) if (f[k].value !== (p[k] ?? '')) body[k] = f[k].value;
    try { await api('POST', `/api/v1/notices/${p.notice_id}/address`, body); onDone(); } catch (err) { setError(err.message); }
  };
  return html`<form class="row fix" onSubmit=${submit}>${['postal_code', 'prefecture', 'city', 'address_line1', 'address_line2'].map((k) => html`<label>${k}<input name=${k} value=${p[k] ?? ''} size=${k.startsWith('address') ? 24 : 10} /></label>`)}
    <button class="primary">${t('fix')}</button><${Err} error=${error} /></form>`;
}

function Attention({ c }) {
  const [kind, setKind] = useState('address_invalid');
  const [rows, setRows] = useState([]);
  const [next, setNext] = useState(0);
  const [fixing, setFixing] = useState(null);
  const [error, setError] = useState(null);
  const [msg, setMsg] = useState(null);
  const load = useCallback(async (after = 0) => {
    try { const r = await api('GET', `/api/v1/campaigns/${c.id}/attention?kind=${kind}&after=${after}&limit=50`); setRows((old) => (after ? [...old, ...r.people] : r.people)); setNext(r.next); } catch (e) { setError(e.message); }
  }, [c.id, kind]);
  useEffect(() => { load(0); }, [load]);
  const kinds = [['address_invalid', 'addressInvalid'], ['needs_review', 'needsReview'], ['returned', 'returned'], ['unreachable', 'unreachable']];
  return html`<section class="card"><div class="tabs">${kinds.map(([k, label]) => html`<button class=${k === kind ? 'on' : ''} onClick=${() => { setKind(k); setFixing(null); }}>${t(label)}</button>`)}</div>
    <${Err} error=${error} />${msg ? html`<div class="ok">${msg}</div>` : ''}
    ${rows.length ? html`<table class="attention"><thead><tr><th>#</th><th>${t('code')}</th><th>${t('name')}</th><th>${t('reason')}</th><th></th></tr></thead><tbody>${rows.map((p) => html`<tr>
      <td>${p.notice_id}</td><td>${p.notice_code}</td><td>${p.name ?? ''}</td><td>${p.reason ?? ''}</td>
      <td>${kind === 'address_invalid' && canWrite() ? html`<button onClick=${() => setFixing(fixing === p.notice_id ? null : p.notice_id)}>${t('fix')}</button>` : ''}</td></tr>
      ${fixing === p.notice_id ? html`<tr><td colspan="5"><${FixForm} p=${p} onDone=${() => { setFixing(null); setMsg(`${t('fixed')}: ${p.notice_id}`); load(0); }} /></td></tr>` : ''}`)}</tbody></table>` : html`<p class="muted">${t('none')}</p>`}
    ${next ? html`<p><button onClick=${() => load(next)}>${t('more')}</button></p>` : ''}</section>`;
}

function Batches({ c }) {
  const [rows, setRows] = useState(null);
  const [error, setError] = useState(null);
  const [msg, setMsg] = useState(null);
  const load = () => api('GET', `/api/v1/campaigns/${c.id}/batches`).then((r) => setRows(r.batches)).catch((e) => setError(e.message));
  useEffect(() => { load(); }, [c.id]);
  const close = async () => { setError(null); try { const r = await api('POST', `/api/v1/campaigns/${c.id}/batches/close`, {}); setMsg(r.closed.map((b) => `#${b.batch_id}: ${b.letters}`).join(', ') || t('none')); load(); } catch (e) { setError(e.message); } };
  return html`<section class="card">${canWrite() ? html`<p><button class="primary close-now" onClick=${close}>${t('closeNow')}</button></p>` : ''}<${Err} error=${error} />${msg ? html`<div class="ok">${msg}</div>` : ''}
    ${rows?.length ? html`<table class="batches"><thead><tr><th>#</th><th>${t('status')}</th><th class="num">${t('letters')}</th><th>${t('vendor')}</th><th>${t('files')}</th></tr></thead><tbody>${rows.map((b) => html`<tr>
      <td>${b.id}</td><td>${b.status}</td><td class="num">${b.size}</td><td>${b.vendor ?? '—'}</td><td>${b.files.map((f) => html`<a href=${`/api/v1/batches/${b.id}/files/${f.name}`}>${f.name}</a> `)}</td></tr>`)}</tbody></table>` : html`<p class="muted">${t('none')}</p>`}</section>`;
}

function Find({ c }) {
  const [by, setBy] = useState('code');
  const [found, setFound] = useState(null);
  const [ledger, setLedger] = useState({});
  const [error, setError] = useState(null);
  const search = async (e) => {
    e.preventDefault(); setError(null); setFound(null); setLedger({});
    try {
      const r = await api('GET', `/api/v1/campaigns/${c.id}/people?${by}=${encodeURIComponent(e.target.value.value.trim())}`);
      setFound(r.people);
      for (const p of r.people) api('GET', `/api/v1/notices/${p.notice_id}`).then((n) => setLedger((l) => ({ ...l, [p.notice_id]: n }))).catch(() => {});
    } catch (err) { setError(err.message); }
  };
  return html`<section class="card"><form class="row" onSubmit=${search}><label>${t('by')}<select value=${by} onChange=${(e) => setBy(e.target.value)}><option value="code">${t('code')}</option><option value="customer_id">${t('customer')}</option><option value="email">${t('email')}</option></select></label>
    <label>${t('value')}<input name="value" required maxlength="320" /></label><button>${t('search')}</button></form><${Err} error=${error} />
    ${found ? (found.length ? found.map((p) => html`<div class="person"><dl class="kv"><dt>#</dt><dd>${p.notice_id}</dd><dt>${t('state')}</dt><dd class="person-state">${p.state}</dd><dt>${t('channel')}</dt><dd>${p.channel ?? '—'}</dd>${p.level ? html`<dt>${t('evidence')}</dt><dd>${p.level}</dd>` : ''}</dl>
      ${ledger[p.notice_id] ? html`<table class="ledger"><thead><tr><th>${t('at')}</th><th>${t('from')}</th><th>${t('toState')}</th><th></th></tr></thead><tbody>${ledger[p.notice_id].events.map((e) => html`<tr><td>${when(e.at)}</td><td>${e.from_state ?? ''}</td><td>${e.to_state}</td><td class="muted">${e.detail?.note ?? e.detail?.reason ?? ''}</td></tr>`)}</tbody></table>` : ''}</div>`) : html`<p class="muted">${t('none')}</p>`) : ''}</section>`;
}

function Report({ c }) {
  const [r, setR] = useState(null);
  const [error, setError] = useState(null);
  const check = async () => { setError(null); try { const res = await fetch(`/api/v1/campaigns/${c.id}/report.json`, { credentials: 'same-origin' }); const body = await res.json(); setR({ header: res.headers.get('x-reconciliation'), body }); } catch (e) { setError(e.message); } };
  useEffect(() => { check(); }, [c.id]);
  const rec = r?.body?.reconciliation ?? r?.body?.at?.(-1) ?? null;
  return html`<section class="card"><p class="row"><a class="button report-csv" href=${`/api/v1/campaigns/${c.id}/report.csv`} download>report.csv</a> <a class="button" href=${`/api/v1/campaigns/${c.id}/report.json`} download>report.json</a></p>
    <${Err} error=${error} />${r ? html`<h3>${t('reconciliation')}</h3><div class=${r.header === 'ok' ? 'ok reconciliation' : 'error reconciliation'}>${r.header === 'ok' ? t('adds') : t('unaccounted', (r.header || '').split('=')[1])}</div>
      ${rec ? html`<div class="row recon">
        <table><tbody><tr><th>${t('imported')}</th><td class="num">${rec.imported}</td></tr><tr><th>${t('accountedFor')}</th><td class="num">${rec.accounted}</td></tr><tr><th>${t('notAccounted')}</th><td class="num">${rec.unaccountedTotal}</td></tr></tbody></table>
        <table><thead><tr><th>${t('state')}</th><th class="num">${t('people')}</th></tr></thead><tbody>${Object.entries(rec.byState ?? {}).map(([k, n]) => html`<tr><td>${k}</td><td class="num">${n}</td></tr>`)}</tbody></table>
        <table><thead><tr><th>${t('channel')}</th><th class="num">${t('people')}</th></tr></thead><tbody>${Object.entries(rec.byChannel ?? {}).map(([k, n]) => html`<tr><td>${k}</td><td class="num">${n}</td></tr>`)}</tbody></table></div>
        ${rec.unaccounted?.length ? html`<h3>${t('notAccounted')}</h3><table class="unaccounted"><thead><tr><th>#</th><th>${t('customer')}</th><th>${t('state')}</th><th>${t('reason')}</th></tr></thead><tbody>${rec.unaccounted.slice(0, 50).map((u) => html`<tr><td>${u.notice_id}</td><td>${u.customer_id}</td><td>${u.state}</td><td class="muted">${u.why}</td></tr>`)}</tbody></table>` : ''}` : ''}` : ''}</section>`;
}

function Ledger({ c }) {
  const [rows, setRows] = useState([]);
  useEffect(() => { api('GET', `/api/v1/campaigns/${c.id}/events`).then((r) => setRows(r.events)); }, [c.id]);
  return html`<section class="card"><table class="campaign-ledger"><thead><tr><th>${t('at')}</th><th></th><th>${t('from')}</th><th>${t('toState')}</th><th>${t('actor')}</th><th>${t('reason')}</th></tr></thead><tbody>${rows.map((e) => html`<tr><td>${when(e.at)}</td><td>${e.verb}</td><td>${e.from_state}</td><td>${e.to_state}</td><td>${e.actor}</td><td class="muted">${e.reason ?? ''}</td></tr>`)}</tbody></table></section>`;
}

const TABS = [['overview', Overview], ['import', Import], ['dryRun', DryRun], ['preview', Preview], ['testSend', TestSend], ['attention', Attention], ['batches', Batches], ['find', Find], ['report', Report], ['ledger', Ledger]];

function Campaign({ id, tab }) {
  const [c, setC] = useState(null);
  const [error, setError] = useState(null);
  const reload = useCallback(() => api('GET', `/api/v1/console/campaigns/${id}`).then(setC).catch((e) => setError(e.message)), [id]);
  useEffect(() => { reload(); const timer = setInterval(reload, 4000); return () => clearInterval(timer); }, [reload]);
  if (!c) return html`<${Err} error=${error} /><p class="muted">${t('loading')}</p>`;
  const [, View] = TABS.find(([k]) => k === tab) ?? TABS[0];
  return html`<h2>${c.name} <span class="muted">#${c.id}</span></h2>
    <div class="tabs">${TABS.map(([k]) => html`<button class=${k === (tab || 'overview') ? 'on' : ''} data-tab=${k} onClick=${() => { location.hash = `#/c/${id}/${k}`; }}>${t(k)}</button>`)}</div>
    <${View} c=${c} reload=${reload} />`;
}

function App() {
  const hash = useHash();
  const [, force] = useState(0);
  const m = /^#\/c\/(\d+)(?:\/(\w+))?/.exec(hash);
  const page = m ? html`<${Campaign} id=${Number(m[1])} tab=${m[2] || 'overview'} />` : hash.startsWith('#/new') ? html`<${NewCampaign} />` : hash.startsWith('#/unmatched') ? html`<${Unmatched} />` : html`<${CampaignList} />`;
  const signOut = async () => { await api('DELETE', '/api/v1/session'); location.assign('/signin?next=/console'); };
  const toggle = () => { lang = lang === 'ja' ? 'en' : 'ja'; localStorage.setItem('console.lang', lang); document.documentElement.lang = lang; force((x) => x + 1); };
  return html`<header><h1>${t('title')}</h1><nav><a href="#/">${t('campaigns')}</a>${canWrite() ? html`<a href="#/unmatched">${t('unmatched')}</a>` : ''}</nav>
    <span class="muted">${t('signedInAs')} ${session.operator} (${session.role})</span><button id="lang" onClick=${toggle}>${t('lang')}</button><button onClick=${signOut}>${t('signOut')}</button></header>
    <main>${page}</main>`;
}

(async () => {
  try { session = await api('GET', '/api/v1/session'); } catch { return; }
  document.documentElement.lang = lang;
  const root = document.getElementById('app');
  root.textContent = '';
  render(html`<${App} />`, root);
})();
