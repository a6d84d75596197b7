import type { TelemetryRejection } from '@civicloop/model';

/** What the broker accepted and refused, by reason; exposed at GET /v1/telemetry/counters. */
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
