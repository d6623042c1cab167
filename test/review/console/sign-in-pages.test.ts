import { describe, expect, it } from 'vitest';
import { notReviewerPage, signInFailedPage } from '../../../src/review/console/sign-in-pages.js';

describe('sign-in pages', () => {
  it('show text from the identity provider inertly: escaped, invisible characters made visible', () => {
    const hostile = '<script>alert(1)</script>\u202e@example.com';
    const page = notReviewerPage({ actor: hostile, name: hostile, reviewer: false, admin: false, kind: 'person' });
    expect(page).not.toContain('<script>alert');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;\\u202e@example.com');
    expect(signInFailedPage('refused: "><img src=x onerror=alert(1)>')).toContain('refused: &quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
  });

  it('carry no script and no inline style, which the console CSP would refuse anyway', () => {
    const page = notReviewerPage({ actor: 'mallory@example.com', name: 'Mallory', reviewer: false, admin: false, kind: 'person' });
    expect(page).not.toMatch(/<script|<style| style=/i);
  });
});
