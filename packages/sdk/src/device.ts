import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { nativeTopic, type BadgeCommand, type BadgeEventType, type DeviceKind } from '@civicloop/model';

export interface DeviceClientOptions {
  /** mqtt://host:1883, or ws://host:8083 in a browser. */
  url: string;
  tenantId: string;
  kind: DeviceKind;
  /** The device id. */
  deviceId: string;
  /**
   * The MQTT username: `credential.username` as POST /v1/devices returned it. Default: the device
   * id, which is what the gateway's own broker takes; on an external broker whose accounts the
   * gateway manages (mosquitto, MQTT_BROKER_DYNSEC) it is `<tenant>.<device>`.
   */
  username?: string;
  /** The password POST /v1/devices returned. */
  password: string;
  /** Messages kept while offline; the oldest are dropped beyond this. Default 10 000. */
  bufferLimit?: number;
  /** Extra mqtt.js options (keepalive, reconnectPeriod, ...). */
  mqtt?: IClientOptions;
}

export interface PositionFix {
  /** Fix time, epoch ms. Default: now. */
  ts?: number;
  lat: number;
  lon: number;
  accuracy?: number;
  altitude?: number;
  /** km/h */
  speed?: number;
  course?: number;
  battery?: number;
}

export interface DeviceEventInput {
  type: BadgeEventType;
  ts?: number;
  lat?: number;
  lon?: number;
  battery?: number;
  note?: string;
}

type Listener<A extends unknown[]> = (...args: A) => void;

/** A minimal typed emitter: no Node built-ins, so the device client bundles for browsers too. */
class Emitter<E extends Record<string, unknown[]>> {
  private readonly listeners = new Map<keyof E, Set<Listener<never>>>();

  on<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event)!.add(listener as Listener<never>);
    return this;
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    this.listeners.get(event)?.delete(listener as Listener<never>);
    return this;
  }

  once<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    const wrapped: Listener<E[K]> = (...args) => {
      this.off(event, wrapped);
      listener(...args);
    };
    return this.on(event, wrapped);
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) (listener as Listener<E[K]>)(...args);
  }
}

interface Queued {
  topic: string;
  payload: string;
  resolve: () => void;
  reject: (error: Error) => void;
}

export type DeviceClientEvents = {
  command: [BadgeCommand];
  connect: [];
  offline: [];
  dropped: [number];
  error: [Error];
};

/**
 * A vehicle or badge as an MQTT client: publishes positions and events (QoS 1; each promise
 * resolves when the gateway has stored it, or, on an external broker, when the broker has it), keeps what it could not send while offline and
 * sends it in order on reconnect, and emits the commands its badge receives.
 */
export class DeviceClient extends Emitter<DeviceClientEvents> {
  private readonly client: MqttClient;
  private readonly buffer: Queued[] = [];
  private flushing = false;
  /** Messages dropped because the offline buffer was full. */
  dropped = 0;

  constructor(private readonly options: DeviceClientOptions) {
    super();
    const topic = (channel: 'status' | 'cmd') => nativeTopic(options.tenantId, options.kind, options.deviceId, channel);
    this.client = mqtt.connect(options.url, {
      protocolVersion: 4,
      clientId: `${options.kind}-${options.deviceId}`,
      username: options.username ?? options.deviceId,
      password: options.password,
      clean: false,
      reconnectPeriod: 1000,
      // Let the gateway mark the device offline at once if the connection drops.
      // A string, not a Buffer: browsers have no Buffer, and this client runs in a worker's phone app too.
      will: { topic: topic('status'), payload: JSON.stringify({ state: 'offline' }), qos: 1, retain: false },
      ...options.mqtt,
    });
    this.client.on('connect', () => {
      this.client.subscribe(topic('cmd'), { qos: 1 });
      this.emit('connect');
      void this.flush();
    });
    this.client.on('offline', () => this.emit('offline'));
    this.client.on('error', (error) => this.emit('error', error));
    this.client.on('message', (_topic, payload) => {
      try {
        this.emit('command', JSON.parse(payload.toString()) as BadgeCommand);
      } catch {
        // Not JSON: not a CivicLoop command; ignore it.
      }
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Resolves when connected (the first time, or again after a drop). */
  ready(): Promise<void> {
    if (this.client.connected) return Promise.resolve();
    return new Promise((resolve) => this.once('connect', () => resolve()));
  }

  publishPosition(fix: PositionFix): Promise<void> {
    return this.send('position', { ts: Date.now(), ...fix });
  }

  publishEvent(event: DeviceEventInput): Promise<void> {
    return this.send('event', { ts: Date.now(), ...event });
  }

  private send(channel: 'position' | 'event', body: object): Promise<void> {
    const topic = nativeTopic(this.options.tenantId, this.options.kind, this.options.deviceId, channel);
    return new Promise((resolve, reject) => {
      this.buffer.push({ topic, payload: JSON.stringify(body), resolve, reject });
      const limit = this.options.bufferLimit ?? 10_000;
      while (this.buffer.length > limit) {
        this.buffer.shift()!.reject(new Error('dropped: the offline buffer is full (bufferLimit)'));
        this.dropped++;
        this.emit('dropped', this.dropped);
      }
      void this.flush();
    });
  }

  /** Sends buffered messages in order while connected; stops (keeping the rest) on a drop. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.buffer.length > 0 && this.client.connected) {
        const next = this.buffer[0]!;
        try {
          await this.client.publishAsync(next.topic, next.payload, { qos: 1 });
        } catch {
          break;
        }
        this.buffer.shift();
        next.resolve();
      }
    } finally {
      this.flushing = false;
    }
  }

  /** How many messages wait to be sent. */
  get pending(): number {
    return this.buffer.length;
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

export function connectDevice(options: DeviceClientOptions): DeviceClient {
  return new DeviceClient(options);
}
