// The operator's live page: polls /api/v1/dashboard and redraws. No personal data reaches it:
// counts, states, reasons and ids only. Japanese and English labels.
'use strict';

const T = {
  ja: {
    title: '通知配信ダッシュボード', findTitle: '対象者を探す', findButton: '検索', findNone: '該当なし', findCols: ['通知ID', '状態', '経路', '証跡'], queues: 'キュー', workersAlive: 'ワーカー稼働 {n}', noWorkers: 'ワーカー停止中',
    updated: '更新 {t}', lang: 'English', none: 'キャンペーンはありません',
    state: { draft: '下書き', running: '配信中', paused: '一時停止', cancelled: '中止', completed: '完了' },
    pausedBy: '{by} が一時停止: {reason}',
    funnel: '進捗', rate: '送信レート (通/秒, 直近1時間)', depth: '未送信のメール (このキャンペーン, 直近1時間)', progressLine: '{p}% 完了 · {r} 通/秒 · 残り {eta}', progressIdle: '{p}% 完了', etaDone: '完了', etaQuiet: '送信停止時間帯', reasons: '理由別', waiting: '待機中', bounces: 'バウンス',
    stage: { imported: '取り込み', emailed: 'メール送信済み', delivered: '配達確認済み', delayed: '配送遅延（未通知）', bounced: 'バウンス', toPost: '郵送へ', printed: '印刷済み', mailed: '郵送済み', unreachable: '到達不能', needsReview: '要確認', cancelled: '中止' },
    deadline: '報告期限まで', daysLeft: 'あと {n} 日', overdue: '{n} 日超過', due: '期限 {due}（発覚 {from}、{basis}）', basis: { unauthorized_access: '不正アクセス: 60日', other: '30日' }, noDeadline: '発覚日未設定',
    why: {
      stale_sending: '{n} 通: 止まったワーカーが保持中（保持期限が切れるとキューに戻ります。二重送信はありません）',
      delayed: '{n} 通: 受信側で配送遅延（期限までに結果がなければ郵送）', not_launched: '{n} 人: 未開始（launch で開始）', paused: '{n} 通: 一時停止中', no_vendor: '{n} 通: 印刷業者が未指定',
      routing: '{n} 通: 住所確認・印刷バッチへ追加中', address_invalid: '{n} 通: 住所不備（修正待ち）', needs_review: '{n} 人: 内容の確認待ち',
      open_batch: '{n} 通: 未締めの印刷バッチ内', ready_batch: '{n} 通: 業者の受領待ち（{b} バッチ、未ダウンロード {u}）', printed_batch: '{n} 通: 印刷済み、投函報告待ち',
    },
    job: { waiting: '待機', active: '処理中', delayed: '遅延' }, queueName: 'キュー', nothingWaits: '待機なし',
    reason: {
      'post:no_email': '郵送: メールアドレスなし', 'post:suppressed': '郵送: 配信停止アドレス', 'post:hard_bounce': '郵送: 宛先不明 (ハードバウンス)',
      'post:soft_exhausted': '郵送: 一時エラーの再試行上限', 'post:address_invalid': '住所不備', 'post:returned': '郵便の返戻',
      'post:address_corrected': '郵送: 住所修正後', 'post:remail_corrected_address': '郵送: 住所修正後の再送',
      'retry:transient_recipient': '再試行: 受信側の一時エラー', 'retry:transient_infra': '再試行: 送信基盤の障害', 'retry:throttled': '再試行: 送信制限',
      'retry:config': '再試行: 当方の設定エラー', 'review:message': '要確認: 内容・ポリシー', 'review:template': '要確認: テンプレート',
      'post:user_unknown': '郵送: 宛先不明', 'post:host_unknown': '郵送: ドメインなし', 'post:filtered': '郵送: 受信拒否設定', 'post:mailbox_disabled': '郵送: アカウント停止',
      user_unknown: '宛先不明', host_unknown: 'ドメインなし', filtered: '受信拒否設定', mailbox_disabled: 'アカウント停止', mailbox_full: '容量超過', expired: '配送期限切れ',
      temporary: '一時エラー', rate_limited: '流量制限', rejected: '拒否', too_large: 'サイズ超過', content: '内容', policy: 'ポリシー', blocked: '当方IPのブロック',
      our_authentication: '当方の認証 (SPF/DKIM/DMARC)', our_setup: '当方の設定', unknown_failure: '不明な失敗', complaint: '苦情', delivered: '配達', auto_reply: '自動返信', delayed: '遅延通知', not_bounce: 'バウンス以外',
    },
  },
  en: {
    title: 'Notice dispatch', findTitle: 'Find a person', findButton: 'Find', findNone: 'nobody found', findCols: ['notice', 'state', 'channel', 'evidence'], queues: 'Queues', workersAlive: 'workers alive: {n}', noWorkers: 'no worker alive',
    updated: 'updated {t}', lang: '日本語', none: 'No campaigns yet',
    state: { draft: 'draft', running: 'running', paused: 'paused', cancelled: 'cancelled', completed: 'completed' },
    pausedBy: 'paused by {by}: {reason}',
    funnel: 'Funnel', rate: 'Send rate (emails/s, last hour)', depth: 'Email still to send (this campaign, last hour)', progressLine: '{p}% done · {r}/s · {eta} to go', progressIdle: '{p}% done', etaDone: 'done', etaQuiet: 'quiet hours', reasons: 'By reason', waiting: 'Waiting', bounces: 'Bounces',
    stage: { imported: 'imported', emailed: 'emailed', delivered: 'delivery confirmed', delayed: 'delayed (not notified)', bounced: 'bounced', toPost: 'to post', printed: 'printed', mailed: 'mailed', unreachable: 'unreachable', needsReview: 'needs review', cancelled: 'cancelled' },
    deadline: 'Report deadline', daysLeft: '{n} days left', overdue: '{n} days overdue', due: 'due {due} (discovered {from}, {basis})', basis: { unauthorized_access: 'unauthorised access: 60 days', other: '30 days' }, noDeadline: 'discovery date not set',
    why: {
      stale_sending: '{n} emails: held by a worker that stopped (they go back to the queue when its claim runs out; nobody is sent twice)',
      delayed: '{n} emails: delayed by the receiving server (a letter goes if no final answer by the deadline)', not_launched: '{n} people: not launched yet', paused: '{n} emails: campaign paused', no_vendor: '{n} letters: no printing vendor named',
      routing: '{n} letters: being checked and batched', address_invalid: '{n} letters: address to fix', needs_review: '{n} people: content to review',
      open_batch: '{n} letters: in an open print batch', ready_batch: '{n} letters: waiting for the vendor ({b} batches, {u} not downloaded)', printed_batch: '{n} letters: printed, mailed report pending',
    },
    job: { waiting: 'waiting', active: 'active', delayed: 'delayed' }, queueName: 'queue', nothingWaits: 'nothing waiting',
    reason: {
      'post:no_email': 'post: no email address', 'post:suppressed': 'post: suppressed address', 'post:hard_bounce': 'post: address does not exist (hard bounce)',
      'post:soft_exhausted': 'post: temporary failures exhausted', 'post:address_invalid': 'address to fix', 'post:returned': 'letter returned',
      'post:address_corrected': 'post: after an address fix', 'post:remail_corrected_address': 'post: re-mailed to a corrected address',
      'retry:transient_recipient': 'retried: receiver said try later', 'retry:transient_infra': 'retried: relay or network problem', 'retry:throttled': 'retried: throttled',
      'retry:config': 'retried: our configuration refused', 'review:message': 'review: content or policy', 'review:template': 'review: template',
      'post:user_unknown': 'post: address does not exist', 'post:host_unknown': 'post: domain takes no mail', 'post:filtered': 'post: reception filter', 'post:mailbox_disabled': 'post: mailbox disabled',
      user_unknown: 'address does not exist', host_unknown: 'domain takes no mail', filtered: 'reception filter', mailbox_disabled: 'mailbox disabled', mailbox_full: 'mailbox full', expired: 'gave up (expired)',
      temporary: 'temporary', rate_limited: 'rate limited', rejected: 'refused', too_large: 'too large', content: 'content', policy: 'policy', blocked: 'our IP blocked',
      our_authentication: 'our authentication (SPF/DKIM/DMARC)', our_setup: 'our setup', unknown_failure: 'unknown failure', complaint: 'complaints', delivered: 'deliveries', auto_reply: 'auto-replies', delayed: 'delay warnings', not_bounce: 'not bounces',
    },
  },
};

let lang = localStorage.getItem('notice-lang') || ((navigator.language || 'ja').startsWith('ja') ? 'ja' : 'en');
let last = null;
const charts = new Map();

const fmt = (s, p = {}) => s.replace(/\{(\w+)\}/g, (_, k) => (p[k] ?? ''));
const num = (n) => Number(n).toLocaleString(lang === 'ja' ? 'ja-JP' : 'en-US');
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k) e.append(k);
  return e;
};

function render(d) {
  const t = T[lang];
  document.documentElement.lang = lang;
  document.title = t.title;
  for (const n of document.querySelectorAll('[data-t]')) n.textContent = t[n.dataset.t];
  document.getElementById('lang').textContent = t.lang;
  const w = document.getElementById('workers');
  w.textContent = d.workers.alive ? fmt(t.workersAlive, { n: d.workers.alive }) : t.noWorkers;
  w.className = d.workers.alive ? 'pill' : 'pill bad';
  w.dataset.alive = d.workers.alive;
  document.getElementById('updated').textContent = fmt(t.updated, { t: `${new Date(d.generatedAt).toLocaleTimeString(lang === 'ja' ? 'ja-JP' : 'en-GB', { timeZone: 'Asia/Tokyo' })} JST` });

  const main = document.getElementById('campaigns');
  const seen = new Set();
  if (!d.campaigns.length) main.replaceChildren(el('div', { class: 'empty', text: t.none }));
  const order = [...d.campaigns].sort((a, b) => (a.state === 'cancelled') - (b.state === 'cancelled') || b.id - a.id);
  for (const c of order) {
    seen.add(c.id);
    let card = document.getElementById(`campaign-${c.id}`);
    if (!card) {
      card = el('section', { class: 'card', id: `campaign-${c.id}` });
    }
    main.append(card); // in order: live ones first, cancelled ones last
    renderCampaign(card, c, t);
  }
  for (const card of [...main.querySelectorAll('section.card')]) if (!seen.has(Number(card.id.slice(9)))) card.remove();
  if (d.campaigns.length) main.querySelector('.empty')?.remove();

  const q = document.getElementById('queues');
  q.replaceChildren(el('tr', {}, el('th', { text: t.queueName }), el('th', { class: 'n', text: t.job.waiting }), el('th', { class: 'n', text: t.job.active }), el('th', { class: 'n', text: t.job.delayed })));
  for (const [name, c] of Object.entries(d.queues)) {
    q.append(el('tr', { 'data-queue': name }, el('td', { text: name }), el('td', { class: 'n', text: num(c.waiting) }), el('td', { class: 'n', text: num(c.active) }), el('td', { class: 'n', text: num(c.delayed) })));
  }
}

function renderCampaign(card, c, t) {
  const head = el('h2', {}, el('span', { text: `#${c.id} ${c.name}` }), el('span', { class: `state ${c.completed ? 'completed' : c.state}`, 'data-state': c.completed ? 'completed' : c.state, text: t.state[c.completed ? 'completed' : c.state] ?? c.state }));
  const reason = c.state === 'paused' ? el('div', { class: 'reason', 'data-role': 'pause-reason', text: fmt(t.pausedBy, { by: c.pausedBy ?? '?', reason: c.pauseReason ?? '' }) }) : null;
  // Progress: the share of people settled, and while something is sent the rate and what is left.
  const pct = c.total ? Math.round((1000 * (c.total - c.open)) / c.total) / 10 : 0;
  const sending = c.state === 'running' && !c.pacing?.inQuietHours && c.ratePerSec > 0 && c.open > 0;
  const eta = c.completed || c.open === 0 ? t.etaDone : c.pacing?.inQuietHours ? t.etaQuiet : c.etaSeconds === null ? '—' : c.etaSeconds < 90 ? `${c.etaSeconds} s` : c.etaSeconds < 5400 ? `${Math.round(c.etaSeconds / 60)} min` : `${(c.etaSeconds / 3600).toFixed(1)} h`;
  const progress = el('div', { class: 'progress', 'data-role': 'progress', 'data-pct': String(pct), text: fmt(sending ? t.progressLine : t.progressIdle, { p: pct, r: c.ratePerSec, eta }) });

  // Funnel
  const funnel = el('div', { class: 'funnel', 'data-role': 'funnel' }, el('h3', { text: t.funnel }));
  const max = Math.max(1, c.funnel.imported);
  for (const [k, cls] of [['imported', ''], ['emailed', ''], ['delivered', ''], ['delayed', 'bad'], ['bounced', 'bad'], ['toPost', 'post'], ['printed', 'post'], ['mailed', 'post'], ['unreachable', 'bad'], ['needsReview', 'bad'], ['cancelled', 'bad']]) {
    const n = c.funnel[k];
    const bar = el('div', { class: 'bar' }, el('span', { style: `width:${Math.min(100, (100 * n) / max).toFixed(1)}%` }));
    funnel.append(el('div', { class: `row ${cls}`, 'data-stage': k }, el('span', { text: t.stage[k] }), bar, el('span', { class: 'n', 'data-count': String(n), text: num(n) })));
  }

  // Deadline
  const d = c.deadline;
  const deadline = el('div', { class: `deadline ${d ? (d.daysLeft < 0 ? 'over' : d.daysLeft <= 7 ? 'soon' : '') : ''}`, 'data-role': 'deadline' },
    el('div', { class: 'sub', text: t.deadline }),
    el('div', { class: 'days', text: d ? fmt(d.daysLeft >= 0 ? t.daysLeft : t.overdue, { n: Math.abs(d.daysLeft) }) : '—' }),
    el('div', { class: 'sub', text: d ? fmt(t.due, { due: d.due, from: d.discoveredOn, basis: t.basis[d.basis] }) : t.noDeadline }));

  // Charts (kept between refreshes: only their data changes)
  const charts1 = el('div', {}, el('h3', { 'data-label': 'rate' }), chartDiv(c.id, 'rate'), el('h3', { 'data-label': 'depth' }), chartDiv(c.id, 'queue'));

  // Waiting, reasons, bounces
  const waiting = el('ul', { class: 'waiting', 'data-role': 'waiting' });
  for (const w of c.waiting) waiting.append(el('li', { 'data-code': w.code, text: fmt(t.why[w.code] ?? w.why, { n: num(w.count), b: w.batches ?? '', u: w.undownloaded ?? 0 }) }));
  if (!c.waiting.length) waiting.append(el('li', { class: 'muted', text: t.nothingWaits }));
  const reasons = el('table', { 'data-role': 'reasons' });
  for (const [r, n] of Object.entries(c.reasons)) reasons.append(el('tr', { 'data-reason': r }, el('td', { text: t.reason[r] ?? r }), el('td', { class: 'n', text: num(n) })));
  for (const [cls, n] of Object.entries(c.bounces)) reasons.append(el('tr', { 'data-bounce': cls }, el('td', { text: `${t.bounces}: ${t.reason[cls] ?? cls}` }), el('td', { class: 'n', text: num(n) })));
  const side = el('div', {}, deadline, el('h3', { text: t.waiting }), waiting, el('h3', { text: t.reasons }), reasons);

  const grid = card.querySelector('.grid');
  const chartBox = grid?.children[1];
  if (c.state === 'cancelled') {
    // A cancelled campaign: one line, below the live ones.
    card.className = 'card cancelled';
    card.replaceChildren(head, el('div', { class: 'muted', text: fmt(t.progressIdle, { p: pct }) }));
    return;
  }
  card.replaceChildren(head, ...(reason ? [reason] : []), progress, el('div', { class: 'grid' }, funnel, chartBox && chartBox.dataset.campaign === String(c.id) ? chartBox : charts1, side));
  const box = card.querySelector('.grid').children[1];
  box.dataset.campaign = String(c.id);
  for (const h of box.querySelectorAll('h3[data-label]')) h.textContent = t[h.dataset.label];
  drawChart(c, 'rate', c.series.rate);
  drawChart(c, 'queue', c.series.queue);
}

function chartDiv(id, kind) {
  return el('div', { class: 'chart', id: `chart-${id}-${kind}`, 'data-chart': kind });
}

function drawChart(c, kind, values) {
  const key = `${c.id}-${kind}`;
  const div = document.getElementById(`chart-${key}`);
  if (!div) return;
  const data = [c.series.t, values];
  div.dataset.points = String(values.length);
  div.dataset.last = values.length ? String(values[values.length - 1]) : '';
  let chart = charts.get(key);
  if (chart && chart.root.parentNode !== div) chart = null;
  if (!chart) {
    div.replaceChildren();
    const width = Math.max(260, div.clientWidth || 360);
    chart = new uPlot({
      width, height: 140, legend: { show: false }, cursor: { show: true },
      scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(1, max * 1.15)] } },
      series: [{}, { stroke: kind === 'rate' ? '#2563eb' : '#7c3aed', fill: kind === 'rate' ? 'rgba(37,99,235,.12)' : 'rgba(124,58,237,.12)', width: 2 }],
      axes: [{ size: 30, values: (_u, ticks) => ticks.map((v) => new Date(v * 1000).toLocaleTimeString(lang === 'ja' ? 'ja-JP' : 'en-GB', { hour: '2-digit', minute: '2-digit', second: ticks.length > 1 && ticks[1] - ticks[0] < 60 ? '2-digit' : undefined, timeZone: 'Asia/Tokyo' })) }, { size: 50 }],
    }, data, div);
    charts.set(key, chart);
  } else chart.setData(data);
}

async function refresh() {
  try {
    const res = await fetch('/api/v1/dashboard', { credentials: 'same-origin', cache: 'no-store' });
    if (res.status === 401) {
      location.assign('/signin?next=/dashboard');
      return;
    }
    if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
    last = await res.json();
    document.getElementById('error').hidden = true;
    render(last);
    fillCampaigns(last);
    document.body.dataset.generatedAt = last.generatedAt;
  } catch (err) {
    const e = document.getElementById('error');
    e.textContent = String(err);
    e.hidden = false;
  }
  setTimeout(refresh, (last && last.refreshMs) || 3000);
}

document.getElementById('lang').addEventListener('click', () => {
  lang = lang === 'ja' ? 'en' : 'ja';
  localStorage.setItem('notice-lang', lang);
  if (last) render(last);
});

refresh();

// Finding a person the way callers ask (customer id, notice code, email): their state; operators
// also see the evidence level (the evidence itself is one click away in the API, operators only).
function fillCampaigns(d) {
  const sel = document.getElementById('find-campaign');
  const ids = d.campaigns.map((c) => String(c.id));
  if (sel.dataset.ids === ids.join(',')) return;
  sel.dataset.ids = ids.join(',');
  sel.replaceChildren(...d.campaigns.map((c) => Object.assign(document.createElement('option'), { value: String(c.id), textContent: `${c.id} ${c.name}` })));
}

document.getElementById('find').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const t = T[lang];
  const id = document.getElementById('find-campaign').value;
  const by = document.getElementById('find-by').value;
  const value = document.getElementById('find-value').value.trim();
  const out = document.getElementById('find-result');
  if (!id || !value) return;
  const res = await fetch(`/api/v1/campaigns/${encodeURIComponent(id)}/people?${by}=${encodeURIComponent(value)}`, { credentials: 'same-origin', cache: 'no-store' });
  const body = await res.json().catch(() => ({}));
  const rows = res.ok ? body.people : [];
  const head = document.createElement('tr');
  head.replaceChildren(...t.findCols.map((c) => Object.assign(document.createElement('th'), { textContent: c })));
  const lines = rows.map((p) => {
    const tr = document.createElement('tr');
    tr.replaceChildren(...[p.notice_id, p.state, p.channel || '—', p.level || '—'].map((v) => Object.assign(document.createElement('td'), { textContent: String(v) })));
    return tr;
  });
  if (!res.ok) lines.push(Object.assign(document.createElement('tr'), { textContent: body.error || `${res.status}` }));
  else if (!rows.length) lines.push(Object.assign(document.createElement('tr'), { textContent: t.findNone }));
  out.replaceChildren(head, ...lines);
  out.hidden = false;
});
