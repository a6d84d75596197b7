import type { TelemetryIgnored, TelemetryRejection } from '@civicloop/model';

/**
 * Why a publish was refused, from the decoder's reasons and the broker's own: a topic the
 * device may not publish to, a message the store cannot hold, or one a later step refused.
 */
export type RefusalReason =
  | TelemetryRejection
  | 'denied_topic'
  | 'unstorable'
  | 'refused_by_loop'
  | 'decoder_error'
  | 'bad_frame'
  | 'not_authenticated'
  | 'device_disabled';

/** What the broker accepted, set aside and refused for one tenant, by reason. */
export class TelemetryCounters {
  connections = 0;
  refusedConnects = 0;
  messages = 0;
  positionsStored = 0;
  duplicates = 0;
  events = 0;
  deniedPublishes = 0;
  deniedSubscriptions = 0;
  /** Commands an external broker had no subscriber for (PUBACK 16): kept in the outbox until the device is back. */
  commandsKept = 0;
  /** Commands an external broker took for their device (PUBACK 0), each then taken out of the outbox. */
  commandsSent = 0;
  rejected: Partial<Record<RefusalReason, number>> = {};
  ignored: Partial<Record<TelemetryIgnored, number>> = {};

  reject(reason: RefusalReason): void {
    this.rejected[reason] = (this.rejected[reason] ?? 0) + 1;
  }

  ignore(reason: TelemetryIgnored): void {
    this.ignored[reason] = (this.ignored[reason] ?? 0) + 1;
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
      commandsKept: this.commandsKept,
      commandsSent: this.commandsSent,
      rejected: { ...this.rejected },
      ignored: { ...this.ignored },
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
  /**
   * Connections the listeners closed themselves: too slow to authenticate, too many pending from
   * one address, a packet over its limit, not CONNECT first, or not MQTT at all.
   */
  readonly closedByGuard = { tooLarge: 0, timedOut: 0, tooManyPending: 0, notConnectFirst: 0, malformed: 0 };
  /**
   * JT/T 808 frames and terminals refused before any tenant was known: frames that are not JT/T
   * 808 (bad escape, checksum, header, or over the size limit), messages from terminals that have
   * not authenticated, registrations and authentications refused, idle or slow connections closed.
   */
  readonly jt808Unattributed = { badFrames: 0, unauthenticated: 0, refusedRegistrations: 0, refusedAuthentications: 0, timedOut: 0, tooLarge: 0 };
  /**
   * Messages taken from an external broker (MQTT_BROKER_URL) that name no device: a topic that is
   * not a native device topic, or a native topic of a device the registry does not know. Both mean
   * the broker let through what its rules should have refused.
   */
  readonly externalUnattributed = { notNative: 0, unknownDevice: 0 };

  of(tenantId: string): TelemetryCounters {
    let counters = this.byTenant.get(tenantId);
    if (!counters) {
      counters = new TelemetryCounters();
      this.byTenant.set(tenantId, counters);
    }
    return counters;
  }
}
