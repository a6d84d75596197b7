import QRCode from 'qrcode';
import type { Device, RegisteredDevice } from '@civicloop/model';
import { explain, type ConsoleContext } from './context.js';
import { el, namedForm, showOnce, unitSelect } from './dom.js';

/**
 * What a device is set up from, in its QR code: where the gateway is, who the device is and its
 * secret; for a phone running Traccar Client, the OsmAnd server URL with the secret in it.
 */
export function provisioning(gatewayUrl: string, tenantId: string, registered: RegisteredDevice): Record<string, string> {
  const { device, credential } = registered;
  return {
    civicloop: 'device',
    gateway: gatewayUrl,
    tenantId,
    deviceId: device.id,
    kind: device.kind,
    username: credential.username,
    password: credential.password,
    osmand: `${gatewayUrl}/v1/osmand?id=${encodeURIComponent(device.id)}&key=${encodeURIComponent(credential.password)}`,
  };
}

/**
 * OwnTracks' configuration link (the booklet's "URL config"): opened on the phone, by scanning
 * its QR code with the camera, it sets the app to HTTP mode against the gateway with the
 * device's id and secret. The JSON goes base64-encoded and then percent-encoded, since OwnTracks
 * for Android URL-decodes the parameter (a bare "+" of base64 would become a space).
 */
export function ownTracksConfigUrl(gatewayUrl: string, registered: RegisteredDevice): string {
  const { device, credential } = registered;
  const configuration = {
    _type: 'configuration',
    mode: 3,
    url: `${gatewayUrl}/v1/owntracks`,
    auth: true,
    username: credential.username,
    password: credential.password,
    deviceId: device.id,
    // The two letters the app shows for this phone; HTTP mode needs one.
    tid: device.id.slice(-2),
  };
  const base64 = btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(configuration))));
  return `owntracks:///config?inline=${encodeURIComponent(base64)}`;
}

/**
 * The admin's devices page (设备管理): every vehicle and badge, registering a new one, rotating a
 * credential and disabling or enabling a device. A new secret is shown once, with a QR code a
 * device (or the phone that sets it up) can be provisioned from, until the admin closes it.
 */
export class DevicesAdmin {
  private readonly list = el('tbody');
  private readonly secret = el('div', { class: 'secret', role: 'region', 'aria-label': 'New credential 新密钥', hidden: true });
  private readonly status = el('p', { class: 'status', role: 'status' });

  constructor(
    private readonly root: HTMLElement,
    private readonly ctx: ConsoleContext,
    private readonly gatewayUrl: string,
    private readonly tenantId: string,
  ) {}

  async draw(): Promise<void> {
    const kind = el(
      'select',
      { id: 'device-kind', name: 'kind' },
      el('option', { value: 'badge' }, 'Badge 工牌'),
      el('option', { value: 'vehicle' }, 'Vehicle 车辆'),
    );
    const name = el('input', { id: 'device-name', name: 'name', required: true, maxlength: 100 });
    const staff = el(
      'select',
      { id: 'device-staff', name: 'staffId' },
      el('option', { value: '' }, 'Nobody 无'),
      ...this.ctx.staff.map((s) => el('option', { value: s.id }, `${s.name} (${s.id})`)),
    );
    const unit = unitSelect({ id: 'device-unit', name: 'unitId' }, this.ctx.units);
    const plate = el('input', { id: 'device-plate', name: 'plate', maxlength: 20 });
    const form = namedForm(
      [
        ['Kind 类型', kind],
        ['Name 名称', name],
        ['Wearer or driver 佩戴人/司机', staff],
        ['Unit 单位', unit],
        ['Plate 车牌', plate],
      ],
      'Register 登记设备',
      { input: name, status: this.status, missing: 'Give the device a name. 请填写设备名称。' },
      () => {
        const skills = this.ctx.staff.find((s) => s.id === staff.value)?.skills ?? [];
        void this.act(async () => {
          const registered = await this.ctx.client.devices.register({
            kind: kind.value as 'badge' | 'vehicle',
            name: name.value.trim(),
            ...(staff.value ? { staffId: staff.value, skills } : {}),
            ...(unit.value ? { unitId: unit.value } : {}),
            ...(plate.value.trim() ? { plate: plate.value.trim() } : {}),
          });
          form.reset();
          await this.showSecret(registered, 'Registered 已登记');
        });
      },
    );
    this.root.replaceChildren(
      el('h2', { id: 'devices-title' }, 'Devices 设备管理'),
      form,
      this.status,
      this.secret,
      el(
        'table',
        { class: 'devices' },
        el(
          'thead',
          {},
          el('tr', {}, ...['Device 设备', 'Kind 类型', 'Wearer 佩戴人', 'Unit 单位', 'State 状态', 'Actions 操作'].map((h) => el('th', { scope: 'col' }, h))),
        ),
        this.list,
      ),
    );
    await this.refresh();
  }

  private async refresh(): Promise<void> {
    const devices = await this.ctx.client.devices.list();
    this.list.replaceChildren(...devices.sort((a, b) => a.name.localeCompare(b.name)).map((d) => this.row(d)));
  }

  private row(device: Device): HTMLElement {
    const rotate = el('button', { type: 'button', 'data-rotate': device.id }, 'New secret 更换密钥');
    rotate.addEventListener(
      'click',
      () => void this.act(async () => this.showSecret(await this.ctx.client.devices.rotateCredential(device.id), 'New secret 已更换密钥')),
    );
    const toggle = el('button', { type: 'button', 'data-toggle': device.id }, device.disabled ? 'Enable 启用' : 'Disable 停用');
    toggle.addEventListener(
      'click',
      () =>
        void this.act(async () => {
          await this.ctx.client.devices.update(device.id, { disabled: !device.disabled });
          this.status.textContent = `${device.name}: ${device.disabled ? 'enabled 已启用' : 'disabled 已停用'}`;
        }),
    );
    const wearer = device.staffId ? (this.ctx.staff.find((s) => s.id === device.staffId)?.name ?? device.staffId) : '';
    return el(
      'tr',
      { 'data-device': device.id },
      el('th', { scope: 'row' }, `${device.name} `, el('small', {}, device.id)),
      el('td', {}, device.kind === 'badge' ? 'Badge 工牌' : 'Vehicle 车辆'),
      el('td', {}, wearer),
      el('td', {}, device.unitId ?? ''),
      el('td', { 'data-state': device.disabled ? 'disabled' : 'enabled' }, device.disabled ? 'Disabled 已停用' : 'Enabled 在用'),
      el('td', {}, rotate, ' ', toggle),
    );
  }

  /** Runs an admin action; the list is read again after it, and a refusal is shown with its code. */
  private async act(action: () => Promise<void>): Promise<void> {
    try {
      await action();
      await this.refresh();
    } catch (error) {
      this.status.textContent = explain(error);
    }
  }

  /** The secret once, with its QR code; closing it removes it from the page. */
  private async showSecret(registered: RegisteredDevice, title: string): Promise<void> {
    const payload = JSON.stringify(provisioning(this.gatewayUrl, this.tenantId, registered));
    const qr = el('img', {
      class: 'qr',
      'data-provisioning': '',
      alt: `QR code to set up ${registered.device.name} 设备配置二维码`,
      src: await QRCode.toDataURL(payload, { errorCorrectionLevel: 'M', margin: 2, scale: 6 }),
    });
    const ownTracks = ownTracksConfigUrl(this.gatewayUrl, registered);
    const ownTracksQr = el('img', {
      class: 'qr',
      'data-owntracks': '',
      alt: `QR code that sets up OwnTracks on ${registered.device.name}'s phone 手机 OwnTracks 配置二维码`,
      src: await QRCode.toDataURL(ownTracks, { errorCorrectionLevel: 'M', margin: 2, scale: 6 }),
    });
    showOnce(
      this.secret,
      el('h3', {}, `${title}: ${registered.device.name} (${registered.device.id})`),
      el('p', {}, 'Shown this once: set the device up now, from the QR code or these values. 仅显示一次，请立即配置设备。'),
      el(
        'dl',
        {},
        el('dt', {}, 'Username 用户名'),
        el('dd', { 'data-username': '' }, registered.credential.username),
        el('dt', {}, 'Secret 密钥'),
        el('dd', { 'data-password': '' }, registered.credential.password),
      ),
      qr,
      el(
        'p',
        {},
        'A phone running OwnTracks: scan this with its camera, or open ',
        el('a', { href: ownTracks, 'data-owntracks-link': '' }, 'the set-up link'),
        ' on it. 安装 OwnTracks 的手机：用相机扫码或在手机上打开链接即可配置。',
      ),
      ownTracksQr,
    );
    this.status.textContent = `${title}: ${registered.device.name}`;
  }
}
