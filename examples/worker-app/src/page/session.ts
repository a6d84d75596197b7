import { ConnectionError } from '@civicloop/sdk';

/** The signed-in worker, as the app's server tells it. */
export interface Worker {
  id: string;
  name: string;
  unitId: string | null;
  skills: string[];
}

const REMEMBERED = 'civicloop-worker-me';
let held: { token: string; exp: number; lifetime: number } | undefined;
let asking: Promise<Worker> | undefined;

export class SignedOut extends Error {
  /** Where to sign in, when the app's server has its own sign-in page. */
  constructor(readonly signIn: string | undefined) {
    super('signed out');
  }
}

/** The session that came with the page (its first token and the worker). */
export function adopt(token: string, worker: Worker): Worker {
  return remember(token, worker);
}

function remember(token: string, worker: Worker): Worker {
  const claims = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { iat: number; exp: number };
  held = { token, exp: claims.exp, lifetime: claims.exp - claims.iat };
  localStorage.setItem(REMEMBERED, JSON.stringify(worker));
  return worker;
}

/** Asks the app's server who is signed in (and gets a fresh token); requests in flight share one ask. */
export function refreshSession(): Promise<Worker> {
  asking ??= (async () => {
    let response: Response;
    try {
      response = await fetch('/session.json', { cache: 'no-store', credentials: 'same-origin' });
    } catch (error) {
      // Offline: not signed out. The SDK retries a ConnectionError; the outbox keeps its items.
      throw new ConnectionError(
        { code: 'CL_ERR_NETWORK', message: "the worker app's server could not be reached", status: 0, retryable: true },
        { cause: error },
      );
    }
    if (response.status === 401) {
      localStorage.removeItem(REMEMBERED);
      held = undefined;
      const answer = (await response.json().catch(() => ({}))) as { signIn?: string };
      throw new SignedOut(answer.signIn);
    }
    if (!response.ok)
      throw new ConnectionError({ code: 'CL_ERR_NETWORK', message: `the worker app's server answered ${response.status}`, status: 0, retryable: true });
    const session = (await response.json()) as { token: string; worker: Worker };
    return remember(session.token, session.worker);
  })().finally(() => {
    asking = undefined;
  });
  return asking;
}

/** Who was signed in last on this phone: lets the app open offline with their jobs. */
export function rememberedWorker(): Worker | undefined {
  const raw = localStorage.getItem(REMEMBERED);
  return raw ? (JSON.parse(raw) as Worker) : undefined;
}

/** The current token for the SDK, renewed once two thirds of its life are gone. */
export async function token(): Promise<string> {
  if (held && held.exp - Date.now() / 1000 > held.lifetime / 3) return held.token;
  await refreshSession();
  return held!.token;
}
