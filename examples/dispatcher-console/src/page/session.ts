import { ConnectionError, type CivicLoop, type Staff, type Unit } from '@civicloop/sdk';

// Sign-in: a token from the console's server, renewed before it expires.
let held: { token: string; exp: number; lifetime: number } | undefined;
let asking: Promise<string> | undefined;

function hold(fresh: string): string {
  const claims = JSON.parse(atob(fresh.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { iat: number; exp: number };
  held = { token: fresh, exp: claims.exp, lifetime: claims.exp - claims.iat };
  return fresh;
}
// The first token comes with the page.
if (document.body.dataset.token) hold(document.body.dataset.token);

/** The current token; the requests that need one while it is being fetched share one fetch. */
export function token(): Promise<string> {
  const now = Date.now() / 1000;
  // Renewed once two thirds of its life are gone, so a slow request never carries an expired one.
  if (held && held.exp - now > held.lifetime / 3) return Promise.resolve(held.token);
  asking ??= fetchToken().finally(() => {
    asking = undefined;
  });
  return asking;
}

async function fetchToken(): Promise<string> {
  let response: Response;
  try {
    response = await fetch('/token.json', { cache: 'no-store' });
  } catch (error) {
    // The console's own server is out of reach: not live for now, but not signed out (the SDK
    // retries a ConnectionError; any other getToken failure means "sign in again").
    throw new ConnectionError({ code: 'CL_ERR_NETWORK', message: 'the console\'s sign-in could not be reached', status: 0, retryable: true }, { cause: error });
  }
  if (!response.ok) throw new Error(`the console's sign-in answered ${response.status}`);
  return hold(((await response.json()) as { token: string }).token);
}

/** What the console's server read for this page with the page's own token (see console.ts's bootstrap). */
export interface ConsoleBootstrap {
  me: Awaited<ReturnType<CivicLoop['me']>>;
  catalogue: Awaited<ReturnType<CivicLoop['categories']>>;
  units: Unit[];
  staff: Staff[];
}

/** The lists that came with the page, or undefined when the server could not read them (the page asks itself). */
export function readBootstrap(): ConsoleBootstrap | undefined {
  const script = document.getElementById('bootstrap');
  if (!script?.textContent) return undefined;
  try {
    return JSON.parse(script.textContent) as ConsoleBootstrap;
  } catch {
    return undefined;
  }
}
