import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The demo's sign-in: a worker picks their name from the staff directory, and a cookie signed
 * with a key derived from the tenant's secret key says who they are. It proves nothing about the
 * person; behind a city's identity provider `identify` comes from the provider's session instead.
 */
export const WORKER_COOKIE = 'cl_worker';

export interface DemoSignIn {
  /** The Set-Cookie value for a worker. */
  cookieFor(sub: string): string;
  /** The worker a request's cookie names, when its signature holds. */
  workerOf(request: IncomingMessage): string | undefined;
  clearCookie: string;
}

export function demoSignIn(secretKey: string, secure: boolean): DemoSignIn {
  // Derived, so the tenant's secret key itself never signs anything a browser holds.
  const key = createHmac('sha256', secretKey).update('civicloop worker-app demo sign-in').digest();
  const sign = (sub: string) => createHmac('sha256', key).update(sub).digest('base64url');
  const attributes = `Path=/; HttpOnly; SameSite=Strict; Max-Age=${12 * 3600}${secure ? '; Secure' : ''}`;
  return {
    cookieFor: (sub) => `${WORKER_COOKIE}=${encodeURIComponent(sub)}.${sign(sub)}; ${attributes}`,
    clearCookie: `${WORKER_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`,
    workerOf(request) {
      const raw = (request.headers.cookie ?? '')
        .split(/;\s*/)
        .find((part) => part.startsWith(`${WORKER_COOKIE}=`))
        ?.slice(WORKER_COOKIE.length + 1);
      if (!raw) return undefined;
      const dot = raw.lastIndexOf('.');
      if (dot <= 0) return undefined;
      let sub: string;
      try {
        sub = decodeURIComponent(raw.slice(0, dot));
      } catch {
        return undefined;
      }
      const given = Buffer.from(raw.slice(dot + 1));
      const expected = Buffer.from(sign(sub));
      return given.length === expected.length && timingSafeEqual(given, expected) ? sub : undefined;
    },
  };
}
