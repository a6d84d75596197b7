// The worker app's service worker: keeps the app's own files so it opens with no network, and
// opens a job from a tapped notification. The gateway's API is never cached here: jobs are kept
// by the page (IndexedDB), where it knows whose they are.
declare const __PRECACHE__: string[];
declare const __VERSION__: string;

interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  request: Request;
  respondWith(response: Promise<Response>): void;
}
interface NotificationEvent extends ExtendableEvent {
  notification: Notification & { data?: { ticket?: string } };
}
interface WindowClient {
  url: string;
  focus(): Promise<WindowClient>;
  postMessage(message: unknown): void;
}
interface ServiceWorkerScope {
  location: Location;
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void>; matchAll(options: { type: 'window' }): Promise<WindowClient[]>; openWindow(url: string): Promise<unknown> };
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;
  addEventListener(type: 'notificationclick', listener: (event: NotificationEvent) => void): void;
}

const scope = self as unknown as ServiceWorkerScope;
const CACHE = `civicloop-worker-${__VERSION__}`;
/** Asked of the network every time: who is signed in, and the sign-in itself. */
const NETWORK_ONLY = new Set(['/session.json', '/sign-in', '/sign-out', '/phone-badge']);

scope.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(__PRECACHE__))
      .then(() => scope.skipWaiting()),
  );
});

scope.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(names.filter((name) => name.startsWith('civicloop-worker-') && name !== CACHE && name !== PHOTOS).map((name) => caches.delete(name))),
      )
      .then(() => scope.clients.claim()),
  );
});

/** The jobs' photos as last seen, so a worker heading out of coverage still sees what to look for. */
const PHOTOS = 'civicloop-worker-photos';
const PHOTOS_KEPT = 200;

async function photo(request: Request): Promise<Response> {
  const cache = await caches.open(PHOTOS);
  try {
    const response = await fetch(request);
    if (response.ok || response.type === 'opaque') {
      await cache.put(request, response.clone());
      const kept = await cache.keys();
      // Oldest first out: the cache keeps insertion order.
      for (const old of kept.slice(0, Math.max(0, kept.length - PHOTOS_KEPT))) await cache.delete(old);
    }
    return response;
  } catch (error) {
    const kept = await cache.match(request);
    if (kept) return kept;
    throw error;
  }
}

scope.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method === 'GET' && event.request.destination === 'image' && url.origin !== scope.location.origin)
    return event.respondWith(photo(event.request));
  if (event.request.method !== 'GET' || url.origin !== scope.location.origin || NETWORK_ONLY.has(url.pathname)) return;
  if (event.request.mode === 'navigate' || url.pathname === '/') {
    // The page from the server when online (it brings the worker's jobs; it is never kept here);
    // offline, the kept shell without anyone's data, and the app starts from what it kept itself.
    event.respondWith(fetch(event.request).catch(async () => (await caches.match('/shell')) ?? Response.error()));
    return;
  }
  event.respondWith(caches.match(event.request, { ignoreSearch: true }).then((kept) => kept ?? fetch(event.request)));
});

scope.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const ticket = event.notification.data?.ticket;
  event.waitUntil(
    scope.clients.matchAll({ type: 'window' }).then((windows) => {
      const open = windows[0];
      if (open) {
        if (ticket) open.postMessage({ open: ticket });
        return open.focus();
      }
      return scope.clients.openWindow(ticket ? `/?job=${encodeURIComponent(ticket)}` : '/');
    }),
  );
});
