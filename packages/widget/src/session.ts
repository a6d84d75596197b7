import { tenantOfKey } from '@civicloop/model/report';
import { AuthenticationError, CivicLoop, ConnectionError } from '@civicloop/sdk';

export interface SessionSource {
  gateway: string;
  publishableKey: string;
  /** A resident token signed by the host platform (attribute `token`). */
  token: string | null;
  /** Same-origin URL on the host platform that returns {"token": "..."} (attribute `token-url`). */
  tokenUrl: string | null;
  /** The host page's callback (property `getToken`). */
  getToken: (() => string | Promise<string>) | undefined;
}

interface StoredIdentity {
  residentId: string;
  deviceSecret: string;
}

interface Claims {
  iss?: string;
  sub?: string;
  exp?: number;
}

const RENEW_BEFORE_SECONDS = 60;

function claimsOf(token: string): Claims {
  try {
    return JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as Claims;
  } catch {
    return {};
  }
}

/** Who a token speaks for: `<tenant>|<sub>`. The offline queue is kept per owner. */
export function ownerOf(token: string): string | undefined {
  const { iss, sub } = claimsOf(token);
  return iss && sub ? `${iss}|${sub}` : undefined;
}

const signedOut = (message: string, cause?: unknown) =>
  new AuthenticationError({ code: 'CL_ERR_TOKEN_UNAVAILABLE', message, status: 0 }, cause === undefined ? undefined : { cause });

/**
 * Who the widget acts for. The host platform's identity when it gives one (token attribute,
 * getToken callback or token URL); otherwise an anonymous identity bound to this browser, so
 * the resident still sees their own reports here.
 */
export class Session {
  readonly public: CivicLoop;
  readonly resident: CivicLoop;
  private cached: { token: string; exp: number } | undefined;
  private readonly common: { baseUrl: string; apiKey: string; maxRetries: number; timeoutMs: number };

  constructor(private readonly source: () => SessionSource) {
    const { gateway, publishableKey } = source();
    this.common = { baseUrl: gateway, apiKey: publishableKey, maxRetries: 2, timeoutMs: 20_000 };
    this.public = new CivicLoop(this.common);
    this.resident = new CivicLoop({ ...this.common, token: () => this.token() });
  }

  private get storageKey(): string {
    return `civicloop:resident:${this.source().publishableKey}`;
  }

  private stored(): StoredIdentity | undefined {
    try {
      return JSON.parse(localStorage.getItem(this.storageKey) ?? 'null') ?? undefined;
    } catch {
      return undefined;
    }
  }

  private get hostIdentity(): boolean {
    const s = this.source();
    return Boolean(s.token || s.tokenUrl || s.getToken);
  }

  /** The subject of the token last used, if any: whose reports "My reports" shows. */
  subject(): string | undefined {
    const held = this.source().token ?? this.cached?.token;
    return held ? claimsOf(held).sub : undefined;
  }

  /** Whether there is anyone whose reports could be listed (no anonymous identity is made for that). */
  hasIdentity(): boolean {
    return this.hostIdentity || Boolean(this.stored());
  }

  async token(options: { fresh?: boolean } = {}): Promise<string> {
    const s = this.source();
    if (s.token) return s.token;
    const now = Date.now() / 1000;
    if (!options.fresh && this.cached && this.cached.exp - RENEW_BEFORE_SECONDS > now) return this.cached.token;
    const token = s.getToken ? await s.getToken() : s.tokenUrl ? await this.fetchHostToken(s.tokenUrl) : await this.anonymousToken();
    this.cached = { token, exp: claimsOf(token).exp ?? 0 };
    return token;
  }

  /**
   * The signed-in resident right now: a fresh token, who it speaks for, and a client bound to
   * exactly that token (so what is sent for one resident cannot go out under another's token
   * if the host signs someone else in meanwhile). Throws AuthenticationError when no one is
   * signed in, ConnectionError when the host's token URL cannot be reached.
   */
  async current(): Promise<{ owner: string; client: CivicLoop }> {
    let token: string;
    try {
      // Asked afresh from the host, not from the cache: whoever is signed in on the portal at this
      // moment (another resident may have signed in since the cached token was fetched).
      token = await this.token({ fresh: this.hostIdentity });
    } catch (error) {
      if (error instanceof AuthenticationError || error instanceof ConnectionError) throw error;
      throw signedOut(`Could not get a resident token (${(error as Error)?.message ?? String(error)}); sign in again.`, error);
    }
    const owner = ownerOf(token);
    if (!owner) throw signedOut('The resident token carries no tenant and subject; sign in again.');
    return { owner, client: new CivicLoop({ ...this.common, token }) };
  }

  /**
   * Who is signed in as far as this browser knows without asking anyone (offline): the token it
   * holds while that has not expired, or this browser's anonymous identity. Undefined when that
   * cannot be known: then a report is not queued, since it could not be told whose it is.
   */
  knownOwner(): string | undefined {
    const s = this.source();
    const now = Date.now() / 1000;
    const held = s.token ?? (this.cached && this.cached.exp > now ? this.cached.token : undefined);
    if (held && (claimsOf(held).exp ?? 0) > now) return ownerOf(held);
    if (this.hostIdentity) return undefined;
    const anonymous = this.stored();
    const tenant = tenantOfKey(s.publishableKey);
    return anonymous && tenant ? `${tenant}|${anonymous.residentId}` : undefined;
  }

  private async fetchHostToken(url: string): Promise<string> {
    let response: Response;
    try {
      response = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } });
    } catch (error) {
      // The host's own server could not be reached: offline, not signed out.
      throw new ConnectionError({ code: 'CL_ERR_NETWORK', message: `token-url ${url} could not be reached`, status: 0, retryable: true }, { cause: error });
    }
    const body = (await response.json().catch(() => ({}))) as { token?: string };
    if (!response.ok || !body.token) throw signedOut(`token-url ${url} answered ${response.status} without a token: the resident is not signed in`);
    return body.token;
  }

  private async anonymousToken(): Promise<string> {
    const known = this.stored();
    if (known) {
      try {
        return (await this.public.residents.renewAnonymous(known)).token;
      } catch (error) {
        // Expired or revoked identity: start a new one rather than leave the resident stuck.
        if (!(error instanceof AuthenticationError)) throw error;
      }
    }
    const created = await this.public.residents.createAnonymous();
    localStorage.setItem(this.storageKey, JSON.stringify({ residentId: created.residentId, deviceSecret: created.deviceSecret } satisfies StoredIdentity));
    return created.token;
  }
}
