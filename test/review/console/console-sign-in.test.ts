import { createHash } from 'node:crypto';
import { request } from 'node:http';
import * as openid from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { silentLogger } from '../../../src/logger.js';
import { routeApiTokens } from '../../../src/review/console/api-tokens.js';
import { routeApiTokensPage } from '../../../src/review/console/api-tokens-page.js';
import { routeConsoleAuth } from '../../../src/review/console/console-auth-routes.js';
import { CONSOLE_CSP } from '../../../src/review/console/console-response.js';
import { createOidcSignIn } from '../../../src/review/console/oidc-client.js';
import { OidcConsoleAuth } from '../../../src/review/console/oidc-console-auth.js';
import { DEMO_IDENTITIES, DEMO_POLICY, createSandboxIdentityProvider, type DemoIdentity, type SandboxIdentityProvider } from '../../../src/sandbox/sandbox-identity-provider.js';
import { HttpServer } from '../../../src/server/http-server.js';
import { routeReviewApi } from '../../../src/server/review-api.js';
import { findAlert } from '../../../src/store/queries/alerts.js';
import { auditTrailFor } from '../../../src/store/queries/audit-trail.js';
import { CookieBrowser } from '../../helpers/cookie-browser.js';
import { createTestStore, storeKinds, type TestStore } from '../../helpers/test-store.js';

const SHARED_TOKEN = 'shared-review-token-0123456789abcdef0123';
const HOUR = 3_600_000;
/** A redirect URI for the test's own client flow (to get an access token); nothing listens there. */
const TEST_REDIRECT = 'http://127.0.0.1:9/test-callback';
/**
 * Accounts claiming a reviewer's or an admin's address with `email_verified` as providers send
 * it: as text (Amazon Cognito's userinfo: "true", "false") or as a number.
 */
const CLAIMED_EMAILS: readonly DemoIdentity[] = [
  { id: 'dana-text-false', email: 'dana@example.com', emailVerified: 'false', name: 'Not Dana', groups: [], role: 'unverified (text)' },
  { id: 'erin-zero', email: 'erin@example.com', emailVerified: 0, name: 'Not Erin', groups: [], role: 'unverified (0)' },
  { id: 'erin-text-zero', email: 'erin@example.com', emailVerified: '0', name: 'Not Erin either', groups: [], role: 'unverified ("0")' },
  { id: 'dana-text-true', email: 'dana@example.com', emailVerified: 'true', name: 'Dana Reviewer', groups: [], role: 'verified (text)' },
];
const PEOPLE = [...DEMO_IDENTITIES, ...CLAIMED_EMAILS];

describe.each(storeKinds())('review console sign-in (%s)', (kind) => {
  let store: TestStore;
  let idp: HttpServer;
  let server: HttpServer;
  let provider: SandboxIdentityProvider;
  let consoleUrl: string;
  const clock = new ManualClock(new Date());

  beforeAll(async () => {
    store = await createTestStore(kind);
    idp = new HttpServer(silentLogger);
    const idpUrl = await idp.listen(0, '127.0.0.1');
    server = new HttpServer(silentLogger);
    consoleUrl = await server.listen(0, '127.0.0.1');
    provider = createSandboxIdentityProvider({ issuer: `${idpUrl}/oidc`, redirectUris: [`${consoleUrl}/review/callback`, TEST_REDIRECT], people: PEOPLE });
    provider.route(idp);
    const auth = new OidcConsoleAuth({
      db: store.db,
      clock,
      logger: silentLogger,
      publicUrl: consoleUrl,
      oidc: createOidcSignIn(provider.oidc),
      policy: DEMO_POLICY,
      sharedToken: SHARED_TOKEN,
      sessionIdleMs: HOUR,
      sessionMaxAgeMs: 12 * HOUR,
    });
    routeConsoleAuth(server, auth);
    routeApiTokens(server, { db: store.db, clock, auth });
    routeApiTokensPage(server, { db: store.db, clock, auth });
    routeReviewApi(server, { db: store.db, clock, auth, ruleIds: new Set() });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await idp?.close();
    await store?.destroy();
  });

  /** Signs `person` in from /review/login; returns the callback's answer (302 home, or a page). */
  async function signIn(browser: CookieBrowser, person: string, returnTo = '/review'): Promise<Response> {
    const loginPage = await browser.navigate(`${consoleUrl}/review/login?return_to=${encodeURIComponent(returnTo)}`);
    expect(loginPage.status).toBe(200);
    const pageUrl = browser.visited.at(-1) as string;
    const onConsole = (location: URL) => location.origin === consoleUrl && location.pathname !== '/review/callback';
    return browser.submitForm(pageUrl, await loginPage.text(), { account: person }, onConsole);
  }

  async function signedIn(person: string): Promise<CookieBrowser> {
    const browser = new CookieBrowser();
    expect((await signIn(browser, person)).status).toBe(302);
    return browser;
  }

  async function csrfOf(browser: CookieBrowser): Promise<string> {
    const id = browser.cookies(consoleUrl).get('vouch_session') as string;
    const row = await store.db.selectFrom('console_sessions').select('csrf_token').where('id_hash', '=', sha256(id)).executeTakeFirstOrThrow();
    return row.csrf_token;
  }

  async function me(browser: CookieBrowser): Promise<Response> {
    return browser.request(`${consoleUrl}/api/me`);
  }

  it('signs a reviewer in with the code flow and PKCE, and returns to where they started', async () => {
    const browser = new CookieBrowser();
    const callback = await signIn(browser, 'dana', '/review/alerts/al_1?tab=timeline');
    expect(callback.status).toBe(302);
    expect(callback.headers.get('location')).toBe('/review/alerts/al_1?tab=timeline');
    const authorize = new URL(browser.visited.find((url) => url.includes('/oidc/auth?')) as string);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('state')).toBeTruthy();
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${consoleUrl}/review/callback`);
    const setCookie = callback.headers.getSetCookie().find((line) => line.startsWith('vouch_session=')) as string;
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    // Plain http on loopback: Secure would keep the browser from ever sending it back.
    expect(setCookie).not.toMatch(/Secure/);
    expect(callback.headers.get('content-security-policy')).toBe(CONSOLE_CSP);

    const identity = await (await me(browser)).json();
    expect(identity).toEqual({ actor: 'dana@example.com', name: 'Dana Reviewer', reviewer: true, admin: false, kind: 'person' });
    // Only the hash of the cookie's 32-byte id is stored.
    const id = browser.cookies(consoleUrl).get('vouch_session') as string;
    expect(Buffer.from(id, 'base64url')).toHaveLength(32);
    const rows = await store.db.selectFrom('console_sessions').select('id_hash').execute();
    expect(rows.map((row) => row.id_hash)).toContain(sha256(id));
    expect(rows.map((row) => row.id_hash)).not.toContain(id);
  });

  it('refuses a signed-in person who is neither reviewer nor admin with a 403 page', async () => {
    const browser = new CookieBrowser();
    const answer = await signIn(browser, 'mallory');
    expect(answer.status).toBe(403);
    const refusal = await answer.text();
    expect(refusal).toContain('mallory@example.com</strong>, who is neither a reviewer nor an admin');
    expect(browser.cookies(consoleUrl).has('vouch_session')).toBe(false);
    expect((await me(browser)).status).toBe(401);
    // "Sign in as someone else" asks the provider to sign in anew rather than reuse its session.
    expect(refusal).toContain('href="/review/login?switch=1"');
  });

  it('signs in anew on switch=1, even when signed in: the provider is asked to prompt for login', async () => {
    const browser = await signedIn('dana');
    const plain = await browser.request(`${consoleUrl}/review/login`, { redirect: 'manual' });
    expect(plain.headers.get('location')).toBe('/review');
    const switching = await browser.request(`${consoleUrl}/review/login?switch=1`, { redirect: 'manual' });
    expect(switching.status).toBe(302);
    const location = new URL(switching.headers.get('location') as string);
    expect(location.searchParams.get('prompt')).toBe('login');
  });

  it('marks cookies Secure, with the __Host- prefix, when the public URL is https', async () => {
    const secureServer = new HttpServer(silentLogger);
    const secureUrl = await secureServer.listen(0, '127.0.0.1');
    try {
      routeConsoleAuth(secureServer, new OidcConsoleAuth({
        db: store.db, clock, logger: silentLogger, publicUrl: 'https://vouch.example.com', oidc: createOidcSignIn(provider.oidc), policy: DEMO_POLICY,
        sharedToken: SHARED_TOKEN, sessionIdleMs: HOUR, sessionMaxAgeMs: 12 * HOUR,
      }));
      const { port } = new URL(secureUrl);
      const answer = await rawGet(Number(port), '/review/login', 'vouch.example.com');
      expect(answer.status).toBe(302);
      expect(new URL(answer.location).searchParams.get('redirect_uri')).toBe('https://vouch.example.com/review/callback');
      expect(answer.setCookie).toMatch(/^__Host-vouch_sign_in=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax; Secure$/);
      // Another Host is sent to the public URL first, where the cookie belongs.
      const elsewhere = await rawGet(Number(port), '/review/login', `127.0.0.1:${port}`);
      expect(elsewhere.location).toBe('https://vouch.example.com/review/login?return_to=%2Freview');
    } finally {
      await secureServer.close();
    }
  });

  it('refuses a callback that did not start in this browser', async () => {
    const browser = new CookieBrowser();
    const answer = await browser.request(`${consoleUrl}/review/callback?code=stolen&state=guessed`);
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('started in another browser');
  });

  it('sends a return_to outside the console back to /review instead', async () => {
    const answer = await signIn(new CookieBrowser(), 'dana', '//evil.example/phish');
    expect(answer.headers.get('location')).toBe('/review');
  });

  it('refuses a state-changing request without the session\'s CSRF token', async () => {
    const browser = await signedIn('dana');
    const logout = await browser.request(`${consoleUrl}/review/logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf_token=wrong' });
    expect(logout.status).toBe(403);
    const review = await browser.request(`${consoleUrl}/api/alerts/al_none/review`, { method: 'POST', body: '{}' });
    expect(review.status).toBe(403);
    expect(((await review.json()) as { error: string }).error).toMatch(/CSRF/);
    expect((await me(browser)).status).toBe(200);
  });

  it('ends the session at logout, on the server too', async () => {
    const browser = await signedIn('dana');
    const id = browser.cookies(consoleUrl).get('vouch_session') as string;
    const csrf = await csrfOf(browser);
    // The sign-out page (every console page links to it) has a button posting the token.
    const ask = await browser.request(`${consoleUrl}/review/logout`);
    expect(ask.status).toBe(200);
    expect(await ask.text()).toContain(`name="csrf_token" value="${csrf}"`);
    const logout = await browser.request(`${consoleUrl}/review/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf_token: csrf }).toString(),
    });
    expect(logout.status).toBe(200);
    expect(await logout.text()).toContain('Signed out');
    expect(browser.cookies(consoleUrl).has('vouch_session')).toBe(false);
    expect(await store.db.selectFrom('console_sessions').selectAll().where('id_hash', '=', sha256(id)).execute()).toEqual([]);
    // The old cookie, replayed, is worth nothing.
    const replay = await fetch(`${consoleUrl}/api/me`, { headers: { cookie: `vouch_session=${id}` } });
    expect(replay.status).toBe(401);
  });

  it('ends a session idle longer than the idle timeout, and any session at its absolute end', async () => {
    const idle = await signedIn('dana');
    clock.advance(HOUR - 60_000);
    expect((await me(idle)).status).toBe(200);
    clock.advance(HOUR - 60_000);
    expect((await me(idle)).status).toBe(200);
    clock.advance(HOUR + 1);
    expect((await me(idle)).status).toBe(401);

    const busy = await signedIn('dana');
    for (let elapsed = 0; elapsed < 12 * HOUR - HOUR; elapsed += HOUR / 2) {
      clock.advance(HOUR / 2);
      expect((await me(busy)).status).toBe(200);
    }
    clock.advance(HOUR);
    expect((await me(busy)).status).toBe(401);
  });

  it('lets an admin create, list and revoke API tokens; a token acts as token:<name>', async () => {
    const erin = await signedIn('erin');
    const csrf = await csrfOf(erin);
    const post = (path: string, body: unknown) =>
      erin.request(`${consoleUrl}${path}`, { method: 'POST', headers: { 'x-csrf-token': csrf, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const created = await post('/api/tokens', { name: 'ci-export' });
    expect(created.status).toBe(201);
    const { token, actor, created_by } = (await created.json()) as { token: string; actor: string; created_by: string };
    expect(actor).toBe('token:ci-export');
    expect(created_by).toBe('erin@example.com');
    expect(token).toMatch(/^vouch_[A-Za-z0-9_-]{43}$/);
    expect((await post('/api/tokens', { name: 'ci-export' })).status).toBe(409);
    expect((await post('/api/tokens', { name: 'review.token' })).status).toBe(400);

    const listed = (await (await erin.request(`${consoleUrl}/api/tokens`)).json()) as Array<Record<string, unknown>>;
    expect(listed.map((row) => row.name)).toContain('ci-export');
    expect(JSON.stringify(listed)).not.toContain(token);
    const stored = await store.db.selectFrom('api_tokens').select('hash').where('name', '=', 'ci-export').executeTakeFirstOrThrow();
    expect(stored.hash).toBe(sha256(token));

    const asToken = await fetch(`${consoleUrl}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(await asToken.json()).toMatchObject({ actor: 'token:ci-export', kind: 'token', admin: false });
    // Machines cannot mint machines, and reviewers who are not admins cannot either.
    expect((await fetch(`${consoleUrl}/api/tokens`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(403);
    expect((await fetch(`${consoleUrl}/api/tokens`, { headers: { authorization: `Bearer ${SHARED_TOKEN}` } })).status).toBe(403);
    const dana = await signedIn('dana');
    expect((await dana.request(`${consoleUrl}/api/tokens`)).status).toBe(403);

    expect((await post('/api/tokens/ci-export/revoke', {})).status).toBe(200);
    expect((await post('/api/tokens/ci-export/revoke', {})).status).toBe(409);
    expect((await post('/api/tokens/nobody/revoke', {})).status).toBe(404);
    expect((await fetch(`${consoleUrl}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    const trail = await store.db.selectFrom('audit_trail').selectAll().where('chain', '=', 'system').execute();
    expect(trail.map((step) => [step.action, step.actor])).toEqual(
      expect.arrayContaining([['api_token_created', 'erin@example.com'], ['api_token_revoked', 'erin@example.com']]),
    );
  });

  it('has a tokens page for admins: create (shown once), refuse a taken name, revoke; CSRF-checked', async () => {
    const erin = await signedIn('erin');
    const csrf = await csrfOf(erin);
    const form = (path: string, fields: Record<string, string>) =>
      erin.request(`${consoleUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
    const page = await erin.request(`${consoleUrl}/review/tokens`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(await page.text()).toContain(`name="csrf_token" value="${csrf}"`);

    expect((await form('/review/tokens', { name: 'nightly' })).status).toBe(403);
    const created = await form('/review/tokens', { name: 'nightly', csrf_token: csrf });
    expect(created.status).toBe(201);
    const token = /<code>(vouch_[A-Za-z0-9_-]{43})<\/code>/.exec(await created.text())?.[1] as string;
    expect(await (await fetch(`${consoleUrl}/api/me`, { headers: { authorization: `Bearer ${token}` } })).json()).toMatchObject({ actor: 'token:nightly' });
    const again = await form('/review/tokens', { name: 'nightly', csrf_token: csrf });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('exists already');
    expect(await (await erin.request(`${consoleUrl}/review/tokens`)).text()).not.toContain(token);

    const revoked = await form('/review/tokens/nightly/revoke', { csrf_token: csrf });
    expect(revoked.status).toBe(303);
    expect((await fetch(`${consoleUrl}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);

    const dana = await signedIn('dana');
    const refused = await dana.request(`${consoleUrl}/review/tokens`);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('not an admin');
    const anonymous = await fetch(`${consoleUrl}/review/tokens`, { redirect: 'manual' });
    expect(anonymous.status).toBe(302);
  });

  it('records reviews under the caller\'s identity, ignoring a reviewer in the body, and appends them', async () => {
    const alertId = await insertFinishedAlert(store);
    const review = (authorization: string, body: unknown) =>
      fetch(`${consoleUrl}/api/alerts/${alertId}/review`, { method: 'POST', headers: { authorization }, body: JSON.stringify(body) });
    const first = await review(`Bearer ${SHARED_TOKEN}`, { reviewer: 'the-ceo', note: 'Checked with alice.' });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ reviewed_by: 'token:review.token', review_note: 'Checked with alice.' });

    const accessToken = await accessTokenFor('dana');
    clock.advance(60_000);
    const second = await review(`Bearer ${accessToken}`, { reviewer: 'erin@example.com', note: 'Second look: fine.' });
    expect(second.status).toBe(200);
    const body = (await second.json()) as { reviewed_by: string; reviews: Array<{ actor: string; note: string }> };
    expect(body.reviewed_by).toBe('dana@example.com');
    expect(body.reviews.map((row) => [row.actor, row.note])).toEqual([
      ['token:review.token', 'Checked with alice.'],
      ['dana@example.com', 'Second look: fine.'],
    ]);
    expect((await findAlert(store.db, alertId))?.review_note).toBe('Second look: fine.');
    const trail = await auditTrailFor(store.db, alertId);
    expect(trail.filter((step) => step.action === 'reviewed').map((step) => step.actor)).toEqual(['token:review.token', 'dana@example.com']);
  });

  it('lets only admins create and revoke suppressions through the API; reviewers and machine tokens get 403', async () => {
    const spec = JSON.stringify({ reason: 'Password migration this week', for: '1d', command: 'cat /etc/shadow', user: 'alice' });
    const json = { 'content-type': 'application/json' };
    const count = async () => (await store.db.selectFrom('suppressions').select('id').execute()).length;
    const before = await count();

    const dana = await signedIn('dana');
    const danaCsrf = await csrfOf(dana);
    const asDana = (path: string) => dana.request(`${consoleUrl}${path}`, { method: 'POST', headers: { ...json, 'x-csrf-token': danaCsrf }, body: spec });
    const danaToken = await accessTokenFor('dana');
    const erin = await signedIn('erin');
    const erinCsrf = await csrfOf(erin);
    const created = await erin.request(`${consoleUrl}/api/suppressions`, { method: 'POST', headers: { ...json, 'x-csrf-token': erinCsrf }, body: spec });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect(await count()).toBe(before + 1);

    const bearer = (token: string, path: string) => fetch(`${consoleUrl}${path}`, { method: 'POST', headers: { ...json, authorization: `Bearer ${token}` }, body: spec });
    for (const path of ['/api/suppressions', `/api/suppressions/${id}/revoke`]) {
      const refusals = [await asDana(path), await bearer(SHARED_TOKEN, path), await bearer(danaToken, path)];
      for (const refusal of refusals) {
        expect(refusal.status, path).toBe(403);
        expect(((await refusal.json()) as { error: string }).error).toMatch(/only admins/);
      }
    }
    expect(await count()).toBe(before + 1);
    const live = await store.db.selectFrom('suppressions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(live.revoked_at).toBeNull();

    // An admin's OIDC access token may: a script run by an admin, recorded under their email.
    const revoked = await bearer(await accessTokenFor('erin'), `/api/suppressions/${id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toMatchObject({ id, created_by: 'erin@example.com', revoked_by: 'erin@example.com' });
  });

  it('takes an email as identity only when email_verified is true or "true", at sign-in and for a bearer', async () => {
    for (const person of ['dana-text-false', 'erin-zero', 'erin-text-zero']) {
      const answer = await signIn(new CookieBrowser(), person);
      expect(answer.status, person).toBe(403);
      expect(await answer.text()).toContain(`signed in as <strong>${person}</strong>`);
      const bearer = await fetch(`${consoleUrl}/api/me`, { headers: { authorization: `Bearer ${await accessTokenFor(person)}` } });
      expect(bearer.status, person).toBe(403);
      expect(((await bearer.json()) as { error: string }).error).toMatch(new RegExp(`^${person} is neither`));
    }
    const verified = await signedIn('dana-text-true');
    expect(await (await me(verified)).json()).toMatchObject({ actor: 'dana@example.com', reviewer: true });
    const bearer = await fetch(`${consoleUrl}/api/me`, { headers: { authorization: `Bearer ${await accessTokenFor('dana-text-true')}` } });
    expect(await bearer.json()).toMatchObject({ actor: 'dana@example.com', reviewer: true });
  });

  it('takes an OIDC access token as bearer, and refuses one of a person who may not review', async () => {
    const dana = await fetch(`${consoleUrl}/api/me`, { headers: { authorization: `Bearer ${await accessTokenFor('dana')}` } });
    expect(await dana.json()).toMatchObject({ actor: 'dana@example.com', kind: 'person', reviewer: true });
    const mallory = await fetch(`${consoleUrl}/api/me`, { headers: { authorization: `Bearer ${await accessTokenFor('mallory')}` } });
    expect(mallory.status).toBe(403);
    expect((await fetch(`${consoleUrl}/api/me`, { headers: { authorization: 'Bearer not-a-token-anyone-issued' } })).status).toBe(401);
    expect((await fetch(`${consoleUrl}/api/me`, { headers: { authorization: 'Basic x' } })).status).toBe(401);
  });

  /** An access token from the test's own code flow at the provider, as a script with SSO would get one. */
  async function accessTokenFor(person: string): Promise<string> {
    const config = await openid.discovery(new URL(provider.oidc.issuer), provider.oidc.clientId, provider.oidc.clientSecret, openid.ClientSecretBasic(provider.oidc.clientSecret), {
      execute: [openid.allowInsecureRequests],
    });
    const verifier = openid.randomPKCECodeVerifier();
    const state = openid.randomState();
    const url = openid.buildAuthorizationUrl(config, {
      redirect_uri: TEST_REDIRECT,
      scope: 'openid email profile',
      state,
      code_challenge: await openid.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const browser = new CookieBrowser();
    const loginPage = await browser.navigate(url.href);
    const atRedirect = (location: URL) => location.href.startsWith(TEST_REDIRECT);
    const back = await browser.submitForm(browser.visited.at(-1) as string, await loginPage.text(), { account: person }, atRedirect);
    const callback = new URL(back.headers.get('location') as string);
    const tokens = await openid.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    return tokens.access_token;
  }
});

/** A provider that sends its claims in the ID token alone (no userinfo endpoint): what sign-in reads of the ID token. */
describe('console sign-in reading the ID token\'s claims', () => {
  let idp: HttpServer;
  let provider: SandboxIdentityProvider;

  beforeAll(async () => {
    idp = new HttpServer(silentLogger);
    const idpUrl = await idp.listen(0, '127.0.0.1');
    provider = createSandboxIdentityProvider({ issuer: `${idpUrl}/oidc`, redirectUris: [TEST_REDIRECT], people: PEOPLE, claimsIn: 'id_token' });
    provider.route(idp);
  }, 60_000);

  afterAll(async () => {
    await idp?.close();
  });

  /** The claims a sign-in of `person` ends with, through the console's own OidcSignIn. */
  async function claimsAtSignIn(person: string) {
    const oidc = createOidcSignIn(provider.oidc);
    const { url, checks } = await oidc.start(TEST_REDIRECT);
    const browser = new CookieBrowser();
    const loginPage = await browser.navigate(url.href);
    const back = await browser.submitForm(browser.visited.at(-1) as string, await loginPage.text(), { account: person }, (location) => location.href.startsWith(TEST_REDIRECT));
    return oidc.finish(new URL(back.headers.get('location') as string), checks);
  }

  it.each([
    ['erin', 'erin@example.com'],
    ['dana-text-true', 'dana@example.com'],
    ['dana-text-false', null],
    ['erin-zero', null],
    ['erin-text-zero', null],
  ])('%s signs in with the email %s', async (person, email) => {
    expect(await claimsAtSignIn(person)).toMatchObject({ sub: person, email });
  });
});

/** A GET with a chosen Host header (fetch will not send one of its own choosing). */
function rawGet(port: number, path: string, host: string): Promise<{ status: number; location: string; setCookie: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      res.resume();
      const cookie = res.headers['set-cookie']?.[0] ?? '';
      resolve({ status: res.statusCode ?? 0, location: res.headers.location ?? '', setCookie: cookie });
    });
    req.on('error', reject);
    req.end();
  });
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

async function insertFinishedAlert(store: TestStore): Promise<string> {
  const id = `al_${Math.random().toString(36).slice(2, 10)}`;
  const at = new Date('2026-11-24T09:00:00Z');
  await store.db
    .insertInto('alerts')
    .values({
      id, event_id: null, status: 'verified', owner: 'alice', host: 'db-1', command: 'cat /etc/shadow', run_as: 'root', cwd: '/',
      occurred_at: at, rule_id: 'shadow-read', rule_name: 'Read of password hashes', severity: 'high', attack: JSON.stringify(['T1003.008']),
      dedupe_key: id, chat_user_id: null, dm_channel: null, dm_ts: null, asked_at: at, reminded_at: null, answered_at: at,
      justification: 'rotating', second_factor_user: 'alice', push_txid: null, push_started_at: null, second_factor: 'allow', escalation_reason: null,
      escalation_detail: null, escalation_channel: null, escalation_ts: null, resolved_at: at, reviewed_by: null, reviewed_at: null,
      review_note: null, created_at: at, updated_at: at, conversation_id: id,
    })
    .execute();
  return id;
}
