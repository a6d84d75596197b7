import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as oidc from 'openid-client';

/** Staff roles the console serves; the identity provider says which one a person has. */
export type ConsoleRole = 'dispatcher' | 'supervisor' | 'admin';
const ROLES: readonly string[] = ['dispatcher', 'supervisor', 'admin'];

export interface OidcOptions {
  /** The city's identity provider (its discovery document is at `<issuer>/.well-known/openid-configuration`). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The claim that carries the person's console role (`dispatcher`, `supervisor` or `admin`). Default `civicloop_role`. */
  roleClaim?: string;
  /** Scopes asked for. Default `openid profile offline_access`, plus `civicloop` when the role claim is the default one. */
  scope?: string;
  /** Talk to an identity provider over plain http (a test or a provider on this machine). Default false. */
  allowHttp?: boolean;
}

export interface OidcOperator {
  sub: string;
  role: ConsoleRole;
  name?: string;
}

interface Session {
  operator: OidcOperator;
  refreshToken: string | undefined;
  /** When the provider's access token expires: past it, the session is renewed with the refresh token. */
  expiresAt: number;
}

const SESSION_COOKIE = 'cl_console_session';
const STATE_COOKIE = 'cl_console_login';
/** A login not finished in this time starts again. */
const FLOW_TTL_MS = 10 * 60_000;

const cookieOf = (request: IncomingMessage, name: string) =>
  (request.headers.cookie ?? '')
    .split(/;\s*/)
    .find((c) => c.startsWith(`${name}=`))
    ?.slice(name.length + 1);

/**
 * Staff sign-in with the city's identity provider over OpenID Connect: authorization code with
 * PKCE, the person's id and name from the ID token and their console role from a claim. The
 * session lives on this server (the browser holds only a random id); while the page asks for
 * tokens it is renewed with the provider's refresh token once the provider's access token runs
 * out, so a person disabled at the provider is signed out at the next renewal.
 */
export class OidcSignIn {
  private readonly sessions = new Map<string, Session>();
  private readonly flows = new Map<string, { verifier: string; at: number }>();
  private readonly roleClaim: string;
  private readonly scope: string;

  private constructor(
    private readonly config: oidc.Configuration,
    options: OidcOptions,
    private readonly callbackUrl: string,
  ) {
    this.roleClaim = options.roleClaim ?? 'civicloop_role';
    this.scope = options.scope ?? `openid profile offline_access${options.roleClaim ? '' : ' civicloop'}`;
  }

  /** Reads the provider's discovery document; `consoleUrl` is where the console is reached (its callback is under it). */
  static async discover(options: OidcOptions, consoleUrl: string): Promise<OidcSignIn> {
    const config = await oidc.discovery(
      new URL(options.issuer),
      options.clientId,
      options.clientSecret,
      undefined,
      options.allowHttp ? { execute: [oidc.allowInsecureRequests] } : undefined,
    );
    return new OidcSignIn(config, options, new URL('/oidc/callback', consoleUrl).href);
  }

  /** Sends the browser to the provider, remembering (for this browser) how to finish. */
  async login(response: ServerResponse): Promise<void> {
    for (const [state, flow] of this.flows) if (Date.now() - flow.at > FLOW_TTL_MS) this.flows.delete(state);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    this.flows.set(state, { verifier, at: Date.now() });
    const url = oidc.buildAuthorizationUrl(this.config, {
      redirect_uri: this.callbackUrl,
      scope: this.scope,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      // A refresh token (offline_access) is issued only on consent.
      prompt: 'consent',
    });
    response
      .writeHead(302, {
        location: url.href,
        'set-cookie': `${STATE_COOKIE}=${state}; Path=/oidc; HttpOnly; SameSite=Lax; Max-Age=600`,
        'cache-control': 'no-store',
      })
      .end();
  }

  /** The provider sends the browser back here: the code becomes a session, or the reason it cannot. */
  async callback(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const current = new URL(request.url ?? '/', this.callbackUrl);
    const state = current.searchParams.get('state') ?? '';
    const flow = this.flows.get(state);
    // The login must have started in this browser, from this server, not long ago.
    if (!flow || cookieOf(request, STATE_COOKIE) !== state || Date.now() - flow.at > FLOW_TTL_MS)
      return refuse(response, 400, 'This sign-in was not started here or took too long; start again.');
    this.flows.delete(state);
    let tokens;
    try {
      tokens = await oidc.authorizationCodeGrant(this.config, current, { pkceCodeVerifier: flow.verifier, expectedState: state });
    } catch (error) {
      return refuse(response, 401, `The identity provider did not sign you in: ${error instanceof Error ? error.message : String(error)}`);
    }
    const idClaims = tokens.claims();
    if (!idClaims) return refuse(response, 401, 'The identity provider sent no ID token; the console needs one (scope openid).');
    // Many providers put profile and custom claims only at the userinfo endpoint, not in the ID token.
    let claims: Record<string, unknown> = idClaims;
    if (claims[this.roleClaim] === undefined) {
      try {
        claims = { ...(await oidc.fetchUserInfo(this.config, tokens.access_token, idClaims.sub)), ...idClaims };
      } catch (error) {
        return refuse(response, 502, `The identity provider's userinfo could not be read: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const role = claims[this.roleClaim];
    if (typeof role !== 'string' || !ROLES.includes(role))
      return refuse(
        response,
        403,
        `Your account has no console role (claim ${this.roleClaim}: dispatcher, supervisor or admin); ask the command centre's administrator.`,
      );
    const id = randomBytes(24).toString('base64url');
    this.sessions.set(id, {
      operator: { sub: idClaims.sub, role: role as ConsoleRole, ...(typeof claims.name === 'string' ? { name: claims.name } : {}) },
      refreshToken: tokens.refresh_token,
      expiresAt: Date.now() + (tokens.expires_in ?? 300) * 1000,
    });
    response
      .writeHead(302, {
        location: '/',
        'set-cookie': [`${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax`, `${STATE_COOKIE}=; Path=/oidc; Max-Age=0`],
        'cache-control': 'no-store',
      })
      .end();
  }

  /** Who a request's session is; renewed at the provider when its access token has run out; undefined when signed out. */
  async operatorOf(request: IncomingMessage): Promise<OidcOperator | undefined> {
    const id = cookieOf(request, SESSION_COOKIE);
    const session = id ? this.sessions.get(id) : undefined;
    if (!id || !session) return undefined;
    if (Date.now() < session.expiresAt - 5_000) return session.operator;
    if (!session.refreshToken) {
      this.sessions.delete(id);
      return undefined;
    }
    try {
      const renewed = await oidc.refreshTokenGrant(this.config, session.refreshToken);
      session.refreshToken = renewed.refresh_token ?? session.refreshToken;
      session.expiresAt = Date.now() + (renewed.expires_in ?? 300) * 1000;
      return session.operator;
    } catch {
      // Refused (disabled, signed out at the provider, token revoked): signed out here too.
      this.sessions.delete(id);
      return undefined;
    }
  }

  /** Forgets the session and clears its cookie. */
  signOut(request: IncomingMessage, response: ServerResponse): void {
    const id = cookieOf(request, SESSION_COOKIE);
    if (id) this.sessions.delete(id);
    response.writeHead(302, { location: '/', 'set-cookie': `${SESSION_COOKIE}=; Path=/; Max-Age=0`, 'cache-control': 'no-store' }).end();
  }
}

function refuse(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(`${message}\n`);
}
