import { AuthenticationError, CivicLoop } from '@civicloop/sdk';

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

const RENEW_BEFORE_SECONDS = 60;

function expiryOf(token: string): number {
  try {
    const payload = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: number };
    return payload.exp ?? 0;
  } catch {
    return 0;
  }
}

/**
 * Who the widget acts for. The host platform's identity when it gives one (token attribute,
 * getToken callback or token URL); otherwise an anonymous identity bound to this browser, so
 * the resident still sees their own reports here.
 */
export class Session {
  readonly public: CivicLoop;
  readonly resident: CivicLoop;
  private cached: { token: string; exp: number } | undefined;

  constructor(private readonly source: () => SessionSource) {
    const { gateway, publishableKey } = source();
    const common = { baseUrl: gateway, apiKey: publishableKey, maxRetries: 2, timeoutMs: 20_000 };
    this.public = new CivicLoop(common);
    this.resident = new CivicLoop({ ...common, token: () => this.token() });
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

  /** Whether there is anyone whose reports could be listed (no anonymous identity is made for that). */
  hasIdentity(): boolean {
    const s = this.source();
    return Boolean(s.token || s.tokenUrl || s.getToken || this.stored());
  }

  async token(): Promise<string> {
    const s = this.source();
    if (s.token) return s.token;
    const now = Date.now() / 1000;
    if (this.cached && this.cached.exp - RENEW_BEFORE_SECONDS > now) return this.cached.token;
    const token = s.getToken ? await s.getToken() : s.tokenUrl ? await this.fetchHostToken(s.tokenUrl) : await this.anonymousToken();
    this.cached = { token, exp: expiryOf(token) };
    return token;
  }

  private async fetchHostToken(url: string): Promise<string> {
    const response = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } });
    const body = (await response.json().catch(() => ({}))) as { token?: string };
    if (!response.ok || !body.token) throw new Error(`token-url ${url} answered ${response.status} without a token`);
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
