import { ConnectionError } from '@civicloop/sdk';
import type { FirstScreen } from '../first-screen.js';

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
    throw new ConnectionError({ code: 'CL_ERR_NETWORK', message: "the console's sign-in could not be reached", status: 0, retryable: true }, { cause: error });
  }
  if (!response.ok) throw new Error(`the console's sign-in answered ${response.status}`);
  return hold(((await response.json()) as { token: string }).token);
}

/**
 * The first screen the console's server reads for this page (named in the page as a preload, so
 * it is on its way before this script runs), or undefined when the server does not read it or
 * could not (the page then reads it from the gateway itself).
 */
export async function serverFirstScreen(): Promise<FirstScreen | undefined> {
  // Its URL carries the id of the read the server started with the page.
  const preload = document.querySelector<HTMLLinkElement>('link[rel="preload"][href^="/first-screen.json"]');
  if (!preload) return undefined;
  try {
    const response = await fetch(preload.getAttribute('href')!);
    return response.status === 200 ? ((await response.json()) as FirstScreen) : undefined;
  } catch {
    return undefined;
  }
}
