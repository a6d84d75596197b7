import type { MqttClient } from 'mqtt';
import { CivicLoopError } from '@civicloop/model';

/**
 * Subscribes at QoS 1, and turns a broker's refusal (a SUBACK reason code of 0x80 or more) into
 * CL_ERR_CONFIG with `explain`'s words: what the gateway's broker account lacks. mqtt.js rejects
 * such a SUBACK, with the packet on the error; any other failure is thrown as it is.
 */
export async function subscribeOrExplain(client: MqttClient, topics: string[], explain: (refused: string[]) => string): Promise<void> {
  const codes = await client.subscribeAsync(topics, { qos: 1 }).then(
    (granted) => granted.map((g) => g.qos),
    (error: unknown) => {
      const granted = (error as { packet?: { granted?: number[] } }).packet?.granted;
      if (!granted) throw error;
      return granted;
    },
  );
  const refused = topics.filter((_, i) => (codes[i] ?? 0x80) >= 0x80);
  if (refused.length > 0) throw new CivicLoopError('CL_ERR_CONFIG', explain(refused));
}
