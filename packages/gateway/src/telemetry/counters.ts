import type { TelemetryRejection } from '@civicloop/model';

/** What the broker accepted and refused for one tenant, by reason. */
export class TelemetryCounters {
  connections = 0;
  refusedConnects = 0;
  messages = 0;
  positionsStored = 0;
  duplicates = 0;
  events = 0;
  deniedPublishes = 0;
  deniedSubscriptions = 0;
  rejected: Partial<Record<TelemetryRejection, number>> = {};

  reject(reason: TelemetryRejection): void {
    this.rejected[reason] = (this.rejected[reason] ?? 0) + 1;
  }

  snapshot() {
    return {
      connections: this.connections,
      refusedConnects: this.refusedConnects,
      messages: this.messages,
      positionsStored: this.positionsStored,
      duplicates: this.duplicates,
      events: this.events,
      deniedPublishes: this.deniedPublishes,
      deniedSubscriptions: this.deniedSubscriptions,
      rejected: { ...this.rejected },
    };
  }
}

/**
 * Counters per tenant, so a tenant's admin sees only their own devices' figures
 * (GET /v1/telemetry/counters); refusals before a device is known are counted apart.
 */
export class TenantCounters {
  private readonly byTenant = new Map<string, TelemetryCounters>();
  /** CONNECTs refused before any tenant was known (unknown credential). */
  unattributedRefusedConnects = 0;

  of(tenantId: string): TelemetryCounters {
    let counters = this.byTenant.get(tenantId);
    if (!counters) {
      counters = new TelemetryCounters();
      this.byTenant.set(tenantId, counters);
    }
    return counters;
  }
}
