import type { IssuedProvisioningProfile, ProvisioningProfile, ProvisioningStrategy } from '@civicloop/model';
import { explain, type ConsoleContext } from './context.js';
import { el, namedForm, showOnce, unitSelect } from './dom.js';

const STRATEGY_LABEL: Record<ProvisioningStrategy, string> = {
  allow_create_new_devices: 'Register new devices 自动登记新设备',
  check_pre_provisioned_devices: 'Only devices registered here 仅限已登记设备',
};

/**
 * The admin's provisioning profiles (设备自动注册): a batch of badges or DTUs flashed with a
 * profile's key and secret registers itself, as ThingsBoard's device provisioning has it. A new
 * profile's secret is shown once, with the request the firmware sends, until the admin closes it.
 * A profile may be held to the size of its batch (最多设备数), so that a secret copied out of the
 * firmware registers no more than that; the list shows how many it has registered. A new secret
 * (a leaked one) and deleting take a second press: devices that have not asked yet with the old
 * secret can no longer register.
 */
export class ProvisioningAdmin {
  private readonly list = el('tbody');
  private readonly secret = el('div', { class: 'secret', role: 'region', 'aria-label': 'New provisioning secret 新注册密钥', hidden: true });
  private readonly status = el('p', { class: 'status', role: 'status' });

  constructor(
    private readonly root: HTMLElement,
    private readonly ctx: ConsoleContext,
    private readonly gatewayUrl: string,
  ) {}

  async draw(): Promise<void> {
    const name = el('input', { id: 'profile-name', name: 'name', required: true, maxlength: 100 });
    const kind = el(
      'select',
      { id: 'profile-kind', name: 'kind' },
      el('option', { value: 'badge' }, 'Badges 工牌'),
      el('option', { value: 'vehicle' }, 'Vehicles 车辆'),
    );
    const unit = unitSelect({ id: 'profile-unit', name: 'unitId' }, this.ctx.units);
    const strategy = el(
      'select',
      { id: 'profile-strategy', name: 'strategy' },
      ...Object.entries(STRATEGY_LABEL).map(([value, label]) => el('option', { value }, label)),
    );
    const maxDevices = el('input', { id: 'profile-max-devices', name: 'maxDevices', type: 'number', min: 1, max: 1_000_000, step: 1 });
    const form = namedForm(
      [
        ['Name 名称', name],
        ['Devices 设备类型', kind],
        ['Unit 单位', unit],
        ['Who may register 注册方式', strategy],
        ['Most devices 最多设备数', maxDevices],
      ],
      'Make profile 创建注册配置',
      { input: name, status: this.status, missing: 'Give the profile a name. 请填写配置名称。' },
      () =>
        void this.act(async () => {
          const issued = await this.ctx.client.provisioningProfiles.create({
            name: name.value.trim(),
            kind: kind.value as 'badge' | 'vehicle',
            strategy: strategy.value as ProvisioningStrategy,
            ...(unit.value ? { unitId: unit.value } : {}),
            ...(maxDevices.value ? { maxDevices: Number(maxDevices.value) } : {}),
          });
          form.reset();
          this.showSecret(issued, 'Made 已创建');
        }),
    );
    this.root.replaceChildren(
      el('h2', { id: 'provisioning-title' }, 'Provisioning 设备自动注册'),
      el(
        'p',
        { class: 'muted' },
        'Devices flashed with a profile’s key and secret register themselves on first boot (ThingsBoard provisioning). 刷入配置密钥的设备首次开机自动注册。',
      ),
      form,
      this.status,
      this.secret,
      el(
        'table',
        { class: 'devices' },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            ...['Profile 配置', 'Devices 设备类型', 'Unit 单位', 'Who may register 注册方式', 'Registered 已注册', 'Key 配置密钥', 'Actions 操作'].map((h) =>
              el('th', { scope: 'col' }, h),
            ),
          ),
        ),
        this.list,
      ),
    );
    await this.refresh();
  }

  private async refresh(): Promise<void> {
    const profiles = await this.ctx.client.provisioningProfiles.list();
    this.list.replaceChildren(...profiles.sort((a, b) => a.name.localeCompare(b.name)).map((p) => this.row(p)));
  }

  private row(profile: ProvisioningProfile): HTMLElement {
    const remove = this.askFirst({ 'data-delete': profile.id }, 'Delete 删除', 'Delete: press again 再按一次确认删除', async () => {
      await this.ctx.client.provisioningProfiles.remove(profile.id);
      this.status.textContent = `${profile.name}: deleted 已删除`;
    });
    const rotate = this.askFirst({ 'data-rotate': profile.id }, 'New secret 更换密钥', 'New secret: press again 再按一次确认更换', async () =>
      this.showSecret(await this.ctx.client.provisioningProfiles.rotateSecret(profile.id), 'New secret 新密钥'),
    );
    const registered = `${profile.provisionedDevices}${profile.maxDevices === undefined ? '' : ` / ${profile.maxDevices}`}`;
    return el(
      'tr',
      { 'data-profile': profile.id },
      el('th', { scope: 'row' }, profile.name),
      el('td', {}, profile.kind === 'badge' ? 'Badges 工牌' : 'Vehicles 车辆'),
      el('td', {}, profile.unitId ?? ''),
      el('td', {}, STRATEGY_LABEL[profile.strategy]),
      el('td', { 'data-registered': '' }, registered),
      el('td', {}, el('code', {}, profile.provisionDeviceKey)),
      el('td', {}, rotate, ' ', remove),
    );
  }

  /** A button whose first press asks (its label says what a second press does) and whose second acts. */
  private askFirst(attributes: Record<string, string>, label: string, asking: string, action: () => Promise<void>): HTMLElement {
    const button = el('button', { type: 'button', ...attributes }, label);
    button.addEventListener('click', () => {
      if (button.dataset.asked !== 'true') {
        button.dataset.asked = 'true';
        button.textContent = asking;
        return;
      }
      void this.act(action);
    });
    return button;
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

  /** The secret once, with what the firmware sends; closing it removes it from the page. */
  private showSecret({ profile, provisionDeviceSecret }: IssuedProvisioningProfile, heading: string): void {
    const request = JSON.stringify({ deviceName: 'DEVICE_NAME', provisionDeviceKey: profile.provisionDeviceKey, provisionDeviceSecret });
    showOnce(
      this.secret,
      el('h3', {}, `${heading}: ${profile.name}`),
      el('p', {}, 'Shown this once: put the key and secret into the firmware now. 仅显示一次，请立即写入设备固件。'),
      el(
        'dl',
        {},
        el('dt', {}, 'Provision key 配置密钥'),
        el('dd', { 'data-provision-key': '' }, profile.provisionDeviceKey),
        el('dt', {}, 'Provision secret 配置秘密'),
        el('dd', { 'data-provision-secret': '' }, provisionDeviceSecret),
        el('dt', {}, 'HTTP'),
        el('dd', {}, el('code', {}, `POST ${new URL('/api/v1/provision', this.gatewayUrl).href}`)),
        el('dt', {}, 'MQTT'),
        el('dd', {}, el('code', {}, 'username provision, no password: /provision/request → /provision/response')),
        el('dt', {}, 'Request 请求'),
        el('dd', {}, el('code', { 'data-provision-request': '' }, request)),
      ),
    );
    this.status.textContent = `${heading}: ${profile.name}`;
  }
}
