import { CivicLoopError, nativeTopic, type Device } from '@civicloop/model';
import type { DeviceAccounts } from '../../store/device-accounts.js';
import { brokerAccountName, OWNTRACKS_SUBTOPICS, ownTracksCommandTopic } from './account-name.js';
import type { DynsecClient, DynsecCommand, DynsecResponse } from './mosquitto-dynsec.js';

/** The role every gateway gives its own broker account: it publishes commands and reads devices' topics. */
export const GATEWAY_ROLE = 'civicloop-gateway';

const CHANNELS_SENT = ['position', 'event', 'status'] as const;
const isError = (text: string) => (r: DynsecResponse) => r.error === text;

/**
 * Device accounts in mosquitto 2's dynamic security plugin. Each MQTT device is a client named
 * `<tenant>.<device>` (tenant and device ids hold no dot, so names never collide across tenants)
 * with a role of its own that allows exactly its own topics: publishing to its native position,
 * event and status topics and subscribing to its native cmd topic, and, for the OwnTracks app,
 * publishing under `owntracks/<account>/<Device ID>` and subscribing to
 * `owntracks/<account>/<device>/cmd`. The plugin's default access (no publishing, no
 * subscribing) refuses everything else, in the broker, before the gateway sees it.
 *
 * Every change is written so that running it again is harmless (a retried HTTP request): an
 * account or role that is already there is brought up to date instead of failing.
 */
export class MosquittoDeviceAccounts implements DeviceAccounts {
  constructor(private readonly dynsec: DynsecClient) {}

  username(tenantId: string, deviceId: string): string {
    return brokerAccountName(tenantId, deviceId);
  }

  private rolename(tenantId: string, deviceId: string): string {
    return `civicloop.${tenantId}.${deviceId}`;
  }

  private acls(tenantId: string, device: Device) {
    const ownTracks = `owntracks/${this.username(tenantId, device.id)}/+`;
    return [
      ...CHANNELS_SENT.map((channel) => ({ acltype: 'publishClientSend', topic: nativeTopic(tenantId, device.kind, device.id, channel), allow: true })),
      { acltype: 'subscribeLiteral', topic: nativeTopic(tenantId, device.kind, device.id, 'cmd'), allow: true },
      { acltype: 'publishClientSend', topic: ownTracks, allow: true },
      ...OWNTRACKS_SUBTOPICS.map((sub) => ({ acltype: 'publishClientSend', topic: `${ownTracks}/${sub}`, allow: true })),
      { acltype: 'subscribeLiteral', topic: ownTracksCommandTopic(tenantId, device.id), allow: true },
    ];
  }

  async create(tenantId: string, device: Device, secret: string): Promise<void> {
    const username = this.username(tenantId, device.id);
    const rolename = this.rolename(tenantId, device.id);
    const [role, client] = await this.dynsec.runAll(
      [
        { command: 'createRole', rolename, textname: `CivicLoop device ${device.id}`, acls: this.acls(tenantId, device) },
        { command: 'createClient', username, password: secret, textname: device.name.slice(0, 200), roles: [{ rolename }] },
      ],
      (r) => r.error === 'Role already exists' || r.error === 'Client already exists',
    );
    // Left over from an earlier attempt (or a registration undone half-way): make them what they should be.
    const repairs: DynsecCommand[] = [];
    if (role?.error) repairs.push({ command: 'modifyRole', rolename, acls: this.acls(tenantId, device) });
    if (client?.error) repairs.push({ command: 'modifyClient', username, password: secret, roles: [{ rolename }] }, { command: 'enableClient', username });
    if (repairs.length > 0) await this.dynsec.runAll(repairs);
  }

  async remove(tenantId: string, deviceId: string): Promise<void> {
    await this.dynsec.runAll(
      [
        { command: 'deleteClient', username: this.username(tenantId, deviceId) },
        { command: 'deleteRole', rolename: this.rolename(tenantId, deviceId) },
      ],
      (r) => r.error === 'Client not found' || r.error === 'Role not found',
    );
  }

  async setSecret(tenantId: string, device: Device, secret: string): Promise<void> {
    const [response] = await this.dynsec.runAll(
      [{ command: 'setClientPassword', username: this.username(tenantId, device.id), password: secret }],
      isError('Client not found'),
    );
    // A device registered before the gateway managed the broker has no account yet: rotating gives it one.
    if (response?.error) return this.create(tenantId, device, secret);
    // One registered by an older version gets the topics this one allows (its OwnTracks topics).
    await this.dynsec.runAll([{ command: 'modifyRole', rolename: this.rolename(tenantId, device.id), acls: this.acls(tenantId, device) }]);
    if (device.disabled) await this.dynsec.runAll([{ command: 'disableClient', username: this.username(tenantId, device.id) }]);
  }

  async setDisabled(tenantId: string, device: Device, disabled: boolean): Promise<void> {
    // No account (registered before the gateway managed the broker): nothing to disable; enabling waits for a rotation.
    await this.dynsec.runAll(
      [{ command: disabled ? 'disableClient' : 'enableClient', username: this.username(tenantId, device.id) }],
      isError('Client not found'),
    );
  }

  /**
   * Gives the gateway's own account the role it needs besides dynamic security admin: reading
   * devices' native and OwnTracks topics and publishing their commands. Run at every start
   * (which also brings the role of an older version up to date); harmless when it is there.
   */
  static async grantGateway(dynsec: DynsecClient, username: string): Promise<void> {
    const acls = [
      { acltype: 'publishClientSend', topic: nativeTopic('+', 'badge', '+', 'cmd'), allow: true },
      { acltype: 'publishClientSend', topic: nativeTopic('+', 'vehicle', '+', 'cmd'), allow: true },
      { acltype: 'publishClientSend', topic: 'owntracks/+/+/cmd', allow: true },
      { acltype: 'subscribePattern', topic: 'civicloop/#', allow: true },
      { acltype: 'publishClientReceive', topic: 'civicloop/#', allow: true },
      { acltype: 'subscribePattern', topic: 'owntracks/#', allow: true },
      { acltype: 'publishClientReceive', topic: 'owntracks/#', allow: true },
    ];
    const [created] = await dynsec.runAll(
      [{ command: 'createRole', rolename: GATEWAY_ROLE, textname: 'CivicLoop gateways', acls }],
      isError('Role already exists'),
    );
    if (created?.error) await dynsec.runAll([{ command: 'modifyRole', rolename: GATEWAY_ROLE, acls }]);
    if (await hasRole(dynsec, username)) return;
    await dynsec.runOnOwnAccount([{ command: 'addClientRole', username, rolename: GATEWAY_ROLE }]);
    if (!(await hasRole(dynsec, username)))
      throw new CivicLoopError(
        'CL_ERR_CONFIG',
        `mosquitto did not give MQTT_BROKER_USERNAME=${username} the role ${GATEWAY_ROLE}; ` +
          `give it by hand (mosquitto_ctrl dynsec addClientRole ${username} ${GATEWAY_ROLE}).`,
      );
  }
}

async function hasRole(dynsec: DynsecClient, username: string): Promise<boolean> {
  const [client] = await dynsec.runAll([{ command: 'getClient', username }]);
  const roles = ((client?.data as { client?: { roles?: { rolename: string }[] } } | undefined)?.client?.roles ?? []).map((r) => r.rolename);
  return roles.includes(GATEWAY_ROLE);
}
