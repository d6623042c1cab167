import { describe, expect, it } from 'vitest';
import { html, queryString, trustedHtml } from '../../../src/review/console/html.js';

describe('html template', () => {
  it('escapes every interpolated value, in content and in attributes', () => {
    const hostile = `"><img src=x onerror=alert(1)><script>alert(2)</script>'&`;
    const out = html`<a title="${hostile}">${hostile}</a>`.markup;
    expect(out).toBe('<a title="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;&#39;&amp;">&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;&#39;&amp;</a>');
  });

  it('shows control, bidi and zero-width characters as visible escapes, keeping line breaks', () => {
    expect(html`${'a\u202eb\u200bc\u001b[2J\nd'}`.markup).toBe('a\\u202eb\\u200bc\\x1b[2J\nd');
  });

  it('nests built HTML and arrays without escaping them twice; trusted markup only from code', () => {
    const items = ['<1>', '<2>'].map((item) => html`<li>${item}</li>`);
    expect(html`<ul>${items}</ul>`.markup).toBe('<ul><li>&lt;1&gt;</li><li>&lt;2&gt;</li></ul>');
    expect(html`${trustedHtml('<b>x</b>')}${null}${undefined}${false}${0}`.markup).toBe('<b>x</b>0');
  });

  it('builds query strings without empty parameters', () => {
    expect(queryString({ host: 'web-*', rule: '', page: 2, q: null })).toBe('?host=web-*&page=2');
    expect(queryString({})).toBe('');
  });
});
