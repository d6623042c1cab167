import type { VouchConfig } from '../../config/config.js';
import { coerceError } from '../../errors.js';
import { checkIssuer } from './oidc-client.js';

/** One line of `vouch doctor`. */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/**
 * `vouch doctor`'s line on console sign-in: with SSO configured, whether the issuer answers
 * discovery (and offers userinfo and PKCE S256), the redirect URI to register, and who may review;
 * without it, what to set.
 */
export async function consoleSignInCheck(config: VouchConfig): Promise<DoctorCheck> {
  const review = config.review;
  if (!review.oidc) {
    return {
      name: 'sso',
      ok: true,
      detail: config.sandbox
        ? 'sandbox: the review console signs in at the built-in OpenID provider (dana@example.com reviews, erin@example.com administers)'
        : 'not configured: nobody can sign in to the review console; set review.oidc.issuer, client_id, client_secret (VOUCH_OIDC_ISSUER, VOUCH_OIDC_CLIENT_ID, VOUCH_OIDC_CLIENT_SECRET) and review.public_url',
    };
  }
  const redirect = `register the redirect URI ${review.publicUrl ?? '<review.public_url>'}/review/callback`;
  if (review.reviewers.length === 0 && review.admins.length === 0) {
    return { name: 'sso', ok: false, detail: `nobody may review: list emails or group:<name> in review.reviewers (and review.admins); ${redirect}` };
  }
  try {
    const offers = await checkIssuer(review.oidc);
    if (!offers.pkceS256) return { name: 'sso', ok: false, detail: `${review.oidc.issuer} does not offer PKCE with S256, which the console requires` };
    const bearer = offers.userInfo ? '' : '; no userinfo endpoint, so OIDC access tokens are not accepted by the review API';
    return {
      name: 'sso',
      ok: true,
      detail: `${review.oidc.issuer} answers discovery; ${redirect}; ${review.reviewers.length} reviewer and ${review.admins.length} admin entries${bearer}`,
    };
  } catch (error) {
    return { name: 'sso', ok: false, detail: `${review.oidc.issuer} did not answer discovery: ${coerceError(error).message}` };
  }
}
