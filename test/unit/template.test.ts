import { describe, expect, it } from 'vitest';
import { parseTemplateSet, renderVariant, TemplateError, unbalancedTags } from '../../src/domain/template.ts';

const full = (over: Record<string, string> = {}) =>
  new Map(Object.entries({
    'card.ja.subject.txt': '【重要】{{name}} 様',
    'card.ja.html': '<p>{{name}} 様 <b>{{notice_code}}</b></p>',
    'card.ja.txt': '{{name}} 様 {{notice_code}}',
    'card.ja.letter.md': '{{name}} 様',
    ...over,
  }));

describe('template sets', () => {
  it('render with HTML escaping in HTML only, and one-line headers', () => {
    const set = parseTemplateSet(full());
    const m = renderVariant(set, 'card', 'ja', { name: '<b>x</b> & "y"\r\nBcc: z', notice_code: 'ABCD' });
    expect(m.html).toBe('<p>&lt;b&gt;x&lt;/b&gt; &amp; &quot;y&quot;\r\nBcc: z 様 <b>ABCD</b></p>');
    expect(m.text).toContain('<b>x</b>');
    expect(m.subject).toBe('【重要】<b>x</b> & "y" Bcc: z 様');
  });

  it('list every problem at once', () => {
    const files = full({ 'card.ja.html': '<p>{{nmae}} <b>x</p>', 'personal.ja.txt': '{{name}', 'card.en.subject.txt': 'x' });
    try {
      parseTemplateSet(files);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TemplateError);
      const p = (err as TemplateError).problems;
      expect(p).toEqual(expect.arrayContaining([
        'card.ja.html: unknown variable {{nmae}}',
        'card.ja.html: <b> is not closed before </p>',
        'personal.ja.txt: unbalanced or malformed {{ }}',
        'missing personal.ja.html',
        'missing card.en.html',
      ]));
    }
  });

  it('accepts declared extra variables', () => {
    expect(() => parseTemplateSet(full({ 'card.ja.txt': '{{rank}}' }))).toThrow(/unknown variable/);
    expect(() => parseTemplateSet(full({ 'card.ja.txt': '{{rank}}' }), ['rank'])).not.toThrow();
  });

  it('checks tags', () => {
    expect(unbalancedTags('<!doctype html><html><body><p>a<br>b<img src="x"/></p></body></html>')).toEqual([]);
    expect(unbalancedTags('<div><p></div>')).toEqual(['<p> is not closed before </div>']);
    expect(unbalancedTags('</span>')).toEqual(['</span> closes nothing']);
  });
});
