import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load-config.js';
import { silentLogger } from '../../../src/logger.js';
import { consoleSignInCheck } from '../../../src/review/console/console-doctor.js';
import { createSandboxIdentityProvider } from '../../../src/sandbox/sandbox-identity-provider.js';
import { HttpServer } from '../../../src/server/http-server.js';

describe('vouch doctor on console sign-in', () => {
  let idp: HttpServer;
  let issuer: string;

  beforeAll(async () => {
    idp = new HttpServer(silentLogger);
    issuer = `${await idp.listen(0, '127.0.0.1')}/oidc`;
    createSandboxIdentityProvider({ issuer, redirectUris: ['http://127.0.0.1:8080/review/callback'] }).route(idp);
  });

  afterAll(async () => {
    await idp?.close();
  });

  const sso = (issuerUrl: string) => ({ VOUCH_OIDC_ISSUER: issuerUrl, VOUCH_OIDC_CLIENT_ID: 'vouch-console', VOUCH_OIDC_CLIENT_SECRET: 'x', VOUCH_PUBLIC_URL: 'http://127.0.0.1:8080' });

  it('says the issuer answers, and which redirect URI to register', async () => {
    const config = loadConfig({ env: sso(issuer) });
    config.review.reviewers = ['dana@example.com'];
    const check = await consoleSignInCheck(config);
    expect(check).toEqual({
      name: 'sso',
      ok: true,
      detail: `${issuer} answers discovery; register the redirect URI http://127.0.0.1:8080/review/callback; 1 reviewer and 0 admin entries`,
    });
  });

  it('fails when the issuer does not answer, or nobody may review', async () => {
    const down = loadConfig({ env: sso('http://127.0.0.1:1/oidc') });
    down.review.admins = ['erin@example.com'];
    expect(await consoleSignInCheck(down)).toMatchObject({ ok: false, detail: expect.stringMatching(/^http:\/\/127\.0\.0\.1:1\/oidc did not answer discovery: /) });
    expect(await consoleSignInCheck(loadConfig({ env: sso(issuer) }))).toMatchObject({ ok: false, detail: expect.stringMatching(/^nobody may review: list emails or group:<name> in review\.reviewers/) });
  });

  it('says what to set when no SSO is configured', async () => {
    const live = loadConfig({ env: { DATABASE_URL: 'postgres://x@127.0.0.1/none' } });
    expect((await consoleSignInCheck(live)).detail).toMatch(/^not configured: .*review\.oidc\.issuer, client_id, client_secret \(VOUCH_OIDC_ISSUER/);
    expect((await consoleSignInCheck(loadConfig({ env: {} }))).detail).toMatch(/^sandbox: .*built-in OpenID provider/);
  });
});
