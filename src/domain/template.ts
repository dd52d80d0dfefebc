// Template sets: one variant per segment × locale, four files each. Validated whole at
// `campaign create`; rendering is plain {{variable}} substitution (no logic), HTML-escaped in HTML.
// A logic-less substitution is all a legal notice needs, and it makes "unknown variable" a check
// we can do before anyone is sent anything.
import { PermanentError } from './errors.ts';

export const TEMPLATE_KINDS = ['subject.txt', 'html', 'txt', 'letter.md'] as const;
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];

export const BASE_VARIABLES = [
  'customer_id', 'name', 'email', 'notice_code', 'postal_code', 'prefecture', 'city', 'address_line1', 'address_line2',
  'locale', 'segment', 'campaign_name',
] as const;

export interface TemplateVariant {
  subject: string;
  html: string;
  text: string;
  letter: string;
}

/**
 * The campaign's letterhead (letterhead.json in the template set): who writes, how the letter is
 * dated, its title, and the contact desk every letter and email points to.
 */
export interface Letterhead {
  company: string;
  /** The representative's title and name: 代表取締役社長 山田 一郎. */
  representative: string;
  /** The company's postal address, one line. */
  address: string;
  /** 西暦 (2026年12月2日) or 和暦 (令和8年12月2日). */
  date_style: 'seireki' | 'wareki';
  /** The letter's title (件名), by locale. */
  title: Record<string, string>;
  contact: {
    /** The desk's name, by locale. */
    desk: Record<string, string>;
    phone: string;
    /** Its hours, by locale. */
    hours: Record<string, string>;
    /** Where a person checks a notice is genuine (the /verify page). */
    verify_url: string;
  };
}

/** Variables every template may use, from the letterhead. */
export const LETTERHEAD_VARIABLES = ['company', 'contact_desk', 'contact_phone', 'contact_hours', 'verify_url'] as const;

export interface TemplateSet {
  /** The letterhead (null: none in the set; `campaign create` refuses such a set). */
  letterhead: Letterhead | null;
  /** key: `${segment}.${locale}` */
  variants: Map<string, TemplateVariant>;
  segments: Set<string>;
  locales: Set<string>;
  /** The public announcement (the substitute notice), by locale: announcement.<locale>.md. */
  announcements: Map<string, string>;
}

/**
 * What a public announcement may say: the organisation's and the campaign's details only. It is
 * published for everyone, so no variable of a person's is allowed in it.
 */
export const ANNOUNCEMENT_VARIABLES = ['organisation', 'campaign_name', 'enquiry_desk', 'verify_url', 'published_on'] as const;
const ANNOUNCEMENT_FILE = /^announcement\.([a-zA-Z]{2}(?:-[a-zA-Z]{2})?)\.md$/;

export class TemplateError extends PermanentError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super('invalid', `template set is not usable:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

const FILE = /^([a-z0-9_-]+)\.([a-zA-Z]{2}(?:-[a-zA-Z]{2})?)\.(subject\.txt|html|txt|letter\.md)$/;
const VAR = /\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g;
const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);

/** Tags that are opened and not closed, or closed and not opened, in order. */
export function unbalancedTags(html: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  const body = html.replace(/<!--[\s\S]*?-->/g, '').replace(/<!doctype[^>]*>/gi, '');
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9-]*)\b[^>]*?(\/?)>/g)) {
    const [, closing, rawName, selfClosing] = m;
    const name = rawName.toLowerCase();
    if (VOID.has(name) || selfClosing) continue;
    if (!closing) stack.push(name);
    else if (!stack.includes(name)) problems.push(`</${name}> closes nothing`);
    else {
      for (let open = stack.pop(); open !== name; open = stack.pop()) problems.push(`<${open}> is not closed before </${name}>`);
    }
  }
  for (const open of stack) problems.push(`<${open}> is never closed`);
  return problems;
}

export function variablesOf(text: string): string[] {
  return [...text.matchAll(VAR)].map((m) => m[1]);
}

/**
 * What a new template set may not do, beyond being well formed: put the notice code in the subject.
 * The code proves a notice genuine only while it stays where the person reads it; a subject is a
 * header, and every mail server on the way logs headers. (Checked when a campaign is created, so
 * template versions stored before this rule still render.)
 */
export function headerProblems(files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const [file, content] of files) {
    if (file.endsWith('.subject.txt') && variablesOf(content).includes('notice_code')) {
      problems.push(`${file}: {{notice_code}} may not be in the subject (mail servers log headers); put it in the body`);
    }
  }
  return problems;
}

/** Build and check a template set from file name → content. Every problem is listed. */
export function parseTemplateSet(files: ReadonlyMap<string, string>, extraVariables: readonly string[] = []): TemplateSet {
  const problems: string[] = [];
  const known = new Set<string>([...BASE_VARIABLES, ...LETTERHEAD_VARIABLES, ...extraVariables]);
  const found = new Map<string, Partial<Record<TemplateKind, string>>>();
  const announcements = new Map<string, string>();
  let letterhead: Letterhead | null = null;
  for (const [file, content] of files) {
    if (file === LETTERHEAD_FILE) {
      const r = parseLetterhead(content);
      if (Array.isArray(r)) problems.push(...r.map((x) => `${file}: ${x}`));
      else letterhead = r;
      continue;
    }
    const a = ANNOUNCEMENT_FILE.exec(file);
    if (a) {
      const vars = variablesOf(content);
      for (const v of new Set(vars)) {
        if (!(ANNOUNCEMENT_VARIABLES as readonly string[]).includes(v)) problems.push(`${file}: {{${v}}} cannot be in a public announcement (only ${ANNOUNCEMENT_VARIABLES.join(', ')}: it is published for everyone)`);
      }
      if (content.trim() === '') problems.push(`${file}: is empty`);
      announcements.set(a[1], content);
      continue;
    }
    const m = FILE.exec(file);
    if (!m) {
      if (!file.startsWith('.') && !/^readme/i.test(file)) problems.push(`${file}: not a template file name (<segment>.<locale>.subject.txt|html|txt|letter.md, or announcement.<locale>.md)`);
      continue;
    }
    const key = `${m[1]}.${m[2]}`;
    const entry = found.get(key) ?? {};
    entry[m[3] as TemplateKind] = content;
    found.set(key, entry);
    const opens = (content.match(/\{\{/g) ?? []).length;
    const closes = (content.match(/\}\}/g) ?? []).length;
    const vars = variablesOf(content);
    if (opens !== vars.length || closes !== vars.length) problems.push(`${file}: unbalanced or malformed {{ }}`);
    for (const v of new Set(vars)) if (!known.has(v)) problems.push(`${file}: unknown variable {{${v}}}`);
    if (m[3] === 'html') for (const p of unbalancedTags(content)) problems.push(`${file}: ${p}`);
    if (m[3] === 'subject.txt' && content.trim().includes('\n')) problems.push(`${file}: subject must be one line`);
    if (content.trim() === '') problems.push(`${file}: is empty`);
  }
  const segments = new Set([...found.keys()].map((k) => k.split('.')[0]));
  const locales = new Set([...found.keys()].map((k) => k.split('.')[1]));
  if (found.size === 0) problems.push('no template files found');
  for (const s of segments) {
    for (const l of locales) {
      const entry = found.get(`${s}.${l}`);
      for (const kind of TEMPLATE_KINDS) if (!entry?.[kind]) problems.push(`missing ${s}.${l}.${kind}`);
    }
  }
  if (problems.length) throw new TemplateError(problems);
  const variants = new Map<string, TemplateVariant>();
  for (const [key, e] of found) {
    variants.set(key, { subject: e['subject.txt']!.trim(), html: e.html!, text: e.txt!, letter: e['letter.md']! });
  }
  return { letterhead, variants, segments, locales, announcements };
}

export const LETTERHEAD_FILE = 'letterhead.json';

function parseLetterhead(text: string): Letterhead | string[] {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (err) {
    return [`not JSON (${(err as Error).message})`];
  }
  const problems: string[] = [];
  const o = (j ?? {}) as Record<string, unknown>;
  const str = (v: unknown, what: string) => (typeof v === 'string' && v.trim() ? v.trim() : (problems.push(`${what} is missing`), ''));
  const byLocale = (v: unknown, what: string): Record<string, string> => {
    if (typeof v === 'string' && v.trim()) return { ja: v.trim() };
    if (v && typeof v === 'object' && Object.values(v).every((x) => typeof x === 'string' && x.trim())) return v as Record<string, string>;
    problems.push(`${what} is missing (a text, or one per locale: {"ja": "…", "en": "…"})`);
    return {};
  };
  const contact = (o.contact ?? {}) as Record<string, unknown>;
  const style = o.date_style ?? 'seireki';
  if (style !== 'seireki' && style !== 'wareki') problems.push(`date_style must be "seireki" (2026年) or "wareki" (令和8年), not ${JSON.stringify(style)}`);
  const l: Letterhead = {
    company: str(o.company, 'company'),
    representative: str(o.representative, 'representative (title and name)'),
    address: str(o.address, 'address'),
    date_style: style as Letterhead['date_style'],
    title: byLocale(o.title, 'title'),
    contact: {
      desk: byLocale(contact.desk, 'contact.desk'),
      phone: str(contact.phone, 'contact.phone'),
      hours: byLocale(contact.hours, 'contact.hours'),
      verify_url: str(contact.verify_url, 'contact.verify_url'),
    },
  };
  if (l.contact.verify_url && !/^https?:\/\/\S+$/.test(l.contact.verify_url)) problems.push(`contact.verify_url must be an http(s) address, not ${JSON.stringify(l.contact.verify_url)}`);
  return problems.length ? problems : l;
}

/**
 * What a set needs before a campaign may use it for letters: a letterhead whose title and contact
 * desk speak every locale of the set. Every problem listed.
 */
export function letterheadProblems(set: TemplateSet): string[] {
  const l = set.letterhead;
  if (!l) return [`${LETTERHEAD_FILE} is missing: every letter needs the sender, a title and the contact desk (phone, hours, verify_url)`];
  const problems: string[] = [];
  for (const locale of set.locales) {
    for (const [what, v] of [['title', l.title], ['contact.desk', l.contact.desk], ['contact.hours', l.contact.hours]] as const) {
      if (!v[locale] && !v.ja) problems.push(`${LETTERHEAD_FILE}: ${what} has no ${locale} text`);
    }
  }
  return problems;
}

/** The letterhead's variables for a locale ('' when the set has none). */
export function letterheadVariables(l: Letterhead | null, locale: string): Record<(typeof LETTERHEAD_VARIABLES)[number], string> {
  const pick = (v: Record<string, string> | undefined) => v?.[locale] ?? v?.ja ?? Object.values(v ?? {})[0] ?? '';
  return { company: l?.company ?? '', contact_desk: pick(l?.contact.desk), contact_phone: l?.contact.phone ?? '', contact_hours: pick(l?.contact.hours), verify_url: l?.contact.verify_url ?? '' };
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function renderText(template: string, vars: Readonly<Record<string, string>>): string {
  return template.replace(VAR, (_, name: string) => vars[name] ?? '');
}

export function renderHtml(template: string, vars: Readonly<Record<string, string>>): string {
  return template.replace(VAR, (_, name: string) => escapeHtml(vars[name] ?? ''));
}

/** Headers get one line, no controls: a CRLF in a name must never start a new header. */
export function renderHeader(template: string, vars: Readonly<Record<string, string>>): string {
  // eslint-disable-next-line no-control-regex
  return renderText(template, vars).replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

export interface RenderedMessage {
  subject: string;
  html: string;
  text: string;
}

export function renderVariant(set: TemplateSet, segment: string, locale: string, vars: Readonly<Record<string, string>>): RenderedMessage {
  const v = set.variants.get(`${segment}.${locale}`);
  if (!v) throw new TemplateError([`no template for ${segment}.${locale}`]);
  return { subject: renderHeader(v.subject, vars), html: renderHtml(v.html, vars), text: renderText(v.text, vars) };
}
