import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { CivicLoopError } from '@civicloop/model';
import { subscribeOrExplain } from './subscribe.js';

/** Where mosquitto's dynamic security plugin takes its commands, and where it answers. */
export const DYNSEC_TOPIC = '$CONTROL/dynamic-security/v1';
export const DYNSEC_RESPONSE_TOPIC = `${DYNSEC_TOPIC}/response`;

/** One command of the plugin's JSON API (https://mosquitto.org/documentation/dynamic-security/). */
export interface DynsecCommand {
  command: string;
  [field: string]: unknown;
}

/** The plugin's answer to one command: `error` is its own text ("Client already exists", "Client not found"...). */
export interface DynsecResponse {
  command: string;
  error?: string;
  data?: unknown;
}

interface Pending {
  resolve(responses: DynsecResponse[]): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * A client of mosquitto's dynamic security plugin over an MQTT connection the gateway holds: it
 * publishes `{"commands": [...]}` to `$CONTROL/dynamic-security/v1` and matches the answers on
 * `.../response` by the `correlationData` it put on each command (every gateway subscribed there
 * sees every answer; each takes only its own).
 */
export class DynsecClient {
  private readonly pending = new Map<string, Pending>();
  private readonly onMessage = (topic: string, payload: Buffer) => {
    if (topic === DYNSEC_RESPONSE_TOPIC) this.answer(payload);
  };

  private constructor(
    private readonly client: MqttClient,
    private readonly timeoutMs: number,
  ) {
    client.on('message', this.onMessage);
  }

  /** Subscribes to the plugin's answers on `client`; refused unless the account is a dynamic security admin. */
  static async attach(client: MqttClient, timeoutMs = 5000): Promise<DynsecClient> {
    await subscribeOrExplain(
      client,
      [DYNSEC_RESPONSE_TOPIC],
      () =>
        `The MQTT broker refused MQTT_BROKER_USERNAME a subscription to ${DYNSEC_RESPONSE_TOPIC}: ` +
        `with MQTT_BROKER_DYNSEC=true that account must have the dynamic security admin role.`,
    );
    return new DynsecClient(client, timeoutMs);
  }

  /** Runs the commands in one request, in order, and returns the plugin's answer to each. */
  run(commands: DynsecCommand[]): Promise<DynsecResponse[]> {
    if (!this.client.connected)
      return Promise.reject(new CivicLoopError('CL_ERR_BROKER_UNAVAILABLE', 'The gateway is not connected to the MQTT broker (MQTT_BROKER_URL) right now.'));
    const id = randomUUID();
    const tagged = commands.map((command, index) => ({ ...command, correlationData: `${id}:${index}` }));
    return new Promise<DynsecResponse[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new CivicLoopError('CL_ERR_BROKER_UNAVAILABLE', `mosquitto's dynamic security plugin did not answer within ${this.timeoutMs} ms.`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.client.publish(DYNSEC_TOPIC, JSON.stringify({ commands: tagged }), { qos: 1 }, (error) => {
        if (!error) return;
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new CivicLoopError('CL_ERR_BROKER_UNAVAILABLE', `Could not send a command to mosquitto's dynamic security plugin: ${error.message}.`));
      });
    });
  }

  /** Runs the commands and fails on any error the plugin answers, except those `tolerated` allows. */
  async runAll(commands: DynsecCommand[], tolerated: (response: DynsecResponse) => boolean = () => false): Promise<DynsecResponse[]> {
    const responses = await this.run(commands);
    const failed = responses.find((r) => r.error && !tolerated(r));
    if (failed) throw new CivicLoopError('CL_ERR_BROKER_UNAVAILABLE', `mosquitto's dynamic security plugin refused ${failed.command}: ${failed.error}.`);
    return responses;
  }

  /**
   * Runs commands that change the roles of the account this client is connected as: mosquitto
   * then closes that account's connections (so that the new rules apply), often before it has
   * sent its answer. Resolves once the connection is back (mqtt.js reconnects and subscribes
   * again); the caller reads back what it needs to know.
   */
  async runOnOwnAccount(commands: DynsecCommand[]): Promise<void> {
    const dropped = new Promise<void>((resolve) => this.client.once('close', () => resolve()));
    await Promise.race([this.run(commands).catch(() => undefined), dropped]);
    if (!this.client.connected) await new Promise<void>((resolve) => this.client.once('connect', () => resolve()));
  }

  close(): void {
    this.client.off('message', this.onMessage);
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new CivicLoopError('CL_ERR_BROKER_UNAVAILABLE', 'The connection to the MQTT broker was closed.'));
      this.pending.delete(id);
    }
  }

  private answer(payload: Buffer): void {
    let responses: (DynsecResponse & { correlationData?: unknown })[];
    try {
      responses = (JSON.parse(payload.toString()) as { responses?: (DynsecResponse & { correlationData?: unknown })[] }).responses ?? [];
    } catch {
      return;
    }
    const first = responses[0]?.correlationData;
    if (typeof first !== 'string') return;
    const id = first.slice(0, first.lastIndexOf(':'));
    const pending = this.pending.get(id);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.pending.delete(id);
    pending.resolve(responses.map(({ correlationData: _, ...response }) => response));
  }
}
