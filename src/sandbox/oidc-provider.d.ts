/**
 * The part of oidc-provider (which ships no types) that the sandbox's identity provider uses.
 * Deliberately narrow: only what sandbox-identity-provider.ts calls, typed loosely where the
 * library passes its own Koa context.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface OidcAccount {
    accountId: string;
    claims(use: string, scope: string): Promise<Record<string, unknown>> | Record<string, unknown>;
  }

  export interface OidcInteraction {
    uid: string;
    prompt: { name: string };
    params: Record<string, unknown>;
  }

  export interface OidcGrant {
    addOIDCScope(scope: string): void;
    save(): Promise<string>;
  }

  export interface OidcContext {
    oidc: {
      client?: { clientId: string };
      session?: { accountId?: string; grantIdFor(clientId: string): string | undefined };
      result?: { consent?: { grantId?: string } };
      provider: Provider;
    };
    type: string;
    body: unknown;
  }

  export interface ProviderConfiguration {
    clients: Array<Record<string, unknown>>;
    findAccount(ctx: OidcContext, id: string): Promise<OidcAccount | undefined>;
    claims?: Record<string, string[]>;
    /** true (the default): a code flow's ID token holds only `sub`, the rest is at userinfo. */
    conformIdTokenClaims?: boolean;
    scopes?: string[];
    features?: Record<string, { enabled: boolean }>;
    interactions?: { url(ctx: OidcContext, interaction: OidcInteraction): Promise<string> | string };
    jwks?: { keys: Array<Record<string, unknown>> };
    cookies?: { keys: string[] };
    pkce?: { required(): boolean };
    loadExistingGrant?(ctx: OidcContext): Promise<OidcGrant | undefined>;
    renderError?(ctx: OidcContext, out: Record<string, unknown>, error: unknown): Promise<void>;
    clientBasedCORS?(): boolean;
    adapter?: new (model: string) => unknown;
    ttl?: Record<string, number>;
  }

  export default class Provider {
    constructor(issuer: string, configuration: ProviderConfiguration);
    readonly issuer: string;
    Grant: { new (init: { accountId: string; clientId: string }): OidcGrant; find(id: string): Promise<OidcGrant | undefined> };
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<OidcInteraction>;
    interactionFinished(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
  }
}
