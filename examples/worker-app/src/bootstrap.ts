import { CivicLoop, type Staff, type Ticket } from '@civicloop/sdk';

/** What the page needs to draw the worker's jobs at once, without asking anything first. */
export interface Bootstrap {
  token: string;
  worker: { id: string; name: string; unitId: string | null; skills: string[] };
  tenant?: { timeZone: string; names: Record<string, { 'zh-CN': string; en: string }> };
  jobs?: Ticket[];
}

/** The states a job is the worker's to work in (the page's list). */
const WORKING = ['dispatched', 'accepted', 'on_site', 'rework'];

/**
 * Reads, with the worker's own token, what the first screen shows: their jobs (and their unit's
 * unclaimed ones) and the tenant's category names and time zone. On a slow phone network each
 * round trip the page does not make is half a second: the page gets these with its HTML.
 */
export function bootstrapper(gatewayUrl: string, publishableKey: string, tenantClient: CivicLoop) {
  let tenant: { at: number; value: Promise<Bootstrap['tenant']> } | undefined;
  const tenantInfo = () => {
    if (!tenant || Date.now() - tenant.at > 60_000) {
      const value = Promise.all([tenantClient.me(), tenantClient.catalogue.list({ all: true })]).then(([me, catalogue]) => ({
        timeZone: me.tenant.policy.timeZone ?? 'Asia/Shanghai',
        names: Object.fromEntries(catalogue.categories.map((c) => [c.code, c.name])),
      }));
      tenant = { at: Date.now(), value };
      value.catch(() => (tenant = undefined));
    }
    return tenant.value;
  };

  return async (token: string, worker: Staff): Promise<Bootstrap> => {
    const session: Bootstrap = { token, worker: { id: worker.id, name: worker.name, unitId: worker.unitId ?? null, skills: worker.skills } };
    const asWorker = new CivicLoop({ baseUrl: gatewayUrl, apiKey: publishableKey, token, maxRetries: 0, timeoutMs: 3000 });
    try {
      const [info, assigned, claimable] = await Promise.all([
        tenantInfo(),
        asWorker.tickets.list({ assigneeId: worker.id, status: WORKING, limit: 200 }),
        worker.unitId ? asWorker.tickets.list({ unitId: worker.unitId, status: 'dispatched', limit: 200 }) : Promise.resolve({ items: [] as Ticket[] }),
      ]);
      return { ...session, ...(info ? { tenant: info } : {}), jobs: [...assigned.items, ...claimable.items.filter((t) => !t.assigneeId)] };
    } catch {
      // The gateway is slow or away: the page asks for itself, or shows the jobs it kept.
      return session;
    }
  };
}

/** JSON safe inside a <script type="application/json"> element. */
export function embedJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
