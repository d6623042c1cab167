import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/logger.js';
import { startService, type RunningService } from '../../src/service.js';
import { CookieBrowser } from '../helpers/cookie-browser.js';
import { createTestStore, type TestStore } from '../helpers/test-store.js';

/** The sandbox without SSO configured: its own OpenID provider under /sandbox/oidc signs the demo reviewers in. */
describe('sandbox sign-in to the review console', () => {
  let dir: string;
  let store: TestStore;
  let service: RunningService;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vouch-sandbox-sign-in-'));
    store = await createTestStore();
    service = await startService({ config: loadConfig({ env: { VOUCH_PORT: '0', VOUCH_DATA_DIR: dir } }), store, autoRun: false, logger: silentLogger });
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await store?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  async function signIn(person: string): Promise<{ browser: CookieBrowser; answer: Response }> {
    const browser = new CookieBrowser();
    const login = await browser.navigate(`${service.url}/review/login`);
    expect(login.status).toBe(200);
    const loginUrl = browser.visited.at(-1) as string;
    expect(loginUrl.startsWith(`${service.url}/sandbox/oidc/interaction/`)).toBe(true);
    const html = await login.text();
    expect(html).toContain('Sign in as Dana Reviewer');
    const home = (location: URL) => location.origin === service.url && location.pathname === '/review';
    return { browser, answer: await browser.submitForm(loginUrl, html, { account: person }, home) };
  }

  it('signs dana in as a reviewer and erin as an admin', async () => {
    const dana = await signIn('dana');
    expect(dana.answer.headers.get('location')).toBe('/review');
    expect(await (await dana.browser.request(`${service.url}/api/me`)).json()).toMatchObject({ actor: 'dana@example.com', reviewer: true, admin: false });
    const erin = await signIn('erin');
    expect(await (await erin.browser.request(`${service.url}/api/me`)).json()).toMatchObject({ actor: 'erin@example.com', reviewer: true, admin: true });
  });

  it('refuses mallory, who is not a reviewer', async () => {
    const { answer } = await signIn('mallory');
    expect(answer.status).toBe(403);
    expect(await answer.text()).toContain('neither a reviewer nor an admin');
  });

  it('sends a browser that came by another loopback name to the public URL first, so the cookies land where the callback is', async () => {
    const port = new URL(service.url).port;
    const answer = await fetch(`http://localhost:${port}/review/login?return_to=%2Freview%2Falerts%2Fal_1`, { redirect: 'manual' });
    expect(answer.status).toBe(302);
    expect(answer.headers.get('location')).toBe(`${service.url}/review/login?return_to=%2Freview%2Falerts%2Fal_1`);
  });
});
