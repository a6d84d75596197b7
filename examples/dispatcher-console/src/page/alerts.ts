import { CONFIRMABLE_ALARMS, type ConfirmableAlarm } from '@civicloop/model';
import type { DeviceAlert } from '@civicloop/sdk';
import { explain } from './context.js';
import { el } from './dom.js';
import type { VehicleCamera } from './camera.js';
import { clockTime } from './labels.js';

type RaisedAlert = Exclude<DeviceAlert['type'], 'alarm_confirmed'>;
const ALERT_LABEL: Record<RaisedAlert, string> = { sos: 'SOS 求救', fall: 'Fall 跌倒', low_battery: 'Low battery 低电量', alarm: 'Alarm 报警' };
const MAX_ALERTS_SHOWN = 20;

/** Alarms that sound when the operator has turned sound on: people in danger, not batteries. */
const URGENT: readonly DeviceAlert['type'][] = ['sos', 'fall', 'alarm'];
const SOUND_KEY = 'civicloop-console:alarm-sound';

/** Sends a device the confirmation of one of its alarms (POST /v1/devices/{id}/alarms/confirm). */
export type ConfirmAlarm = (deviceId: string, alarm: ConfirmableAlarm) => Promise<void>;

/** The alarm an alert is about, if it is one a device holds until the platform confirms it. */
function confirmableAlarm(alert: DeviceAlert): ConfirmableAlarm | undefined {
  const name = alert.type === 'alarm' ? alert.alarm : alert.type;
  return CONFIRMABLE_ALARMS.find((alarm) => alarm === name);
}

/**
 * SOS, falls, low batteries and vehicle alarms, newest first, in their own panel: the newest from
 * before the console opened, then each as it comes (only those sound). Sound is off
 * until the operator turns it on (browsers play audio only after a user gesture anyway); the
 * choice is kept in this browser. An operator who may (dispatchers, admins) confirms an SOS or
 * another alarm a terminal holds until confirmed: the terminal clears it, so its next one shows.
 */
export class AlertPanel {
  /** Raised alerts only, newest first: a confirmation marks them instead of being listed. */
  private readonly alerts: DeviceAlert[] = [];
  /** The stream ids of the alerts and confirmations taken in, the newest few. */
  private readonly taken = new Set<string>();
  /** Why the alerts from before the console opened could not be read. */
  private seedError: string | undefined;
  /** Each alert's confirmation: asked for here and under way, done (here or on another console: by whom), or why it failed. */
  private readonly confirmations = new Map<DeviceAlert, { state: 'sending' } | { state: 'confirmed'; by: string } | { state: 'failed'; reason: string }>();
  private readonly box = document.getElementById('alerts')!;
  private readonly sound = el('input', { id: 'alarm-sound', type: 'checkbox' });
  private audio: AudioContext | undefined;
  /** Alarms sounded since the page opened (shown as data-sounded, for tests and operators' tools). */
  private sounded = 0;

  constructor(
    private readonly confirm?: ConfirmAlarm,
    /** Who this console's operator is, as a confirmation names them. */
    private readonly operator = '',
    /** A vehicle's camera, under the newest of its SOS and alarms. */
    private readonly camera?: VehicleCamera,
  ) {
    this.sound.checked = localStorage.getItem(SOUND_KEY) === 'on';
    this.sound.addEventListener('change', () => {
      localStorage.setItem(SOUND_KEY, this.sound.checked ? 'on' : 'off');
      // Made inside the click, so the browser lets it play later.
      if (this.sound.checked) this.audio ??= new AudioContext();
    });
  }

  /**
   * The newest alerts from before the console opened (GET /v1/fleet/alerts, newest first), so that
   * an SOS raised before a reload or a change of shift is still there; or why they could not be read.
   */
  seed(recent: { streamId: string; alert: DeviceAlert }[] | { error: string }): void {
    if ('error' in recent) this.seedError = recent.error;
    else for (const { streamId, alert } of [...recent].reverse()) this.take(streamId, alert);
    this.draw();
  }

  /** An alert as the event stream brings it: listed (and sounded), or a confirmation marking those it confirms. */
  add(streamId: string, alert: DeviceAlert): void {
    if (!this.take(streamId, alert)) return;
    if (this.sound.checked && URGENT.includes(alert.type)) this.beep();
    this.draw();
  }

  /** Takes an alert in once (the stream may bring again what the first screen read); whether it was new. */
  private take(streamId: string, alert: DeviceAlert): boolean {
    if (this.taken.has(streamId)) return false;
    this.taken.add(streamId);
    if (this.taken.size > 4 * MAX_ALERTS_SHOWN) this.taken.delete(this.taken.values().next().value!);
    if (alert.type === 'alarm_confirmed') this.confirmedBy(alert);
    else {
      this.alerts.unshift(alert);
      for (const dropped of this.alerts.splice(MAX_ALERTS_SHOWN)) this.confirmations.delete(dropped);
    }
    return true;
  }

  /**
   * Someone confirmed a device's alarms, here or on another console: every alert of those alarms
   * from that device shown now came before it on the event stream, so each is confirmed.
   */
  private confirmedBy(confirmation: DeviceAlert): void {
    const by = confirmation.confirmedBy ? (confirmation.confirmedBy.name ?? confirmation.confirmedBy.sub) : '';
    for (const alert of this.alerts) {
      const alarm = confirmableAlarm(alert);
      if (alert.deviceId === confirmation.deviceId && alarm && confirmation.alarms?.includes(alarm)) this.confirmations.set(alert, { state: 'confirmed', by });
    }
  }

  /** Three short tones, made by the browser: no audio file to fetch or allow in the CSP. */
  private beep(): void {
    this.audio ??= new AudioContext();
    const start = this.audio.currentTime;
    for (let i = 0; i < 3; i++) {
      const tone = this.audio.createOscillator();
      const gain = this.audio.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.2;
      tone.connect(gain).connect(this.audio.destination);
      tone.start(start + i * 0.3);
      tone.stop(start + i * 0.3 + 0.18);
    }
    this.sounded++;
    this.box.dataset.sounded = String(this.sounded);
  }

  draw(): void {
    // A camera panel is one element per vehicle: under its newest alarm only.
    const cameraShown = new Set<string>();
    const camera = (a: DeviceAlert): HTMLElement[] => {
      if (!this.camera || a.deviceKind !== 'vehicle' || (a.type !== 'sos' && a.type !== 'alarm') || cameraShown.has(a.deviceId)) return [];
      cameraShown.add(a.deviceId);
      return [this.camera.panel(a.deviceId)];
    };
    this.box.replaceChildren(
      el('h2', {}, 'Alarms 报警'),
      el('div', { class: 'field check' }, this.sound, el('label', { for: this.sound.id }, 'Sound for SOS, falls and vehicle alarms 报警提示音')),
      ...(this.seedError ? [el('p', { class: 'error' }, `Earlier alarms could not be read: ${this.seedError}`)] : []),
      this.alerts.length === 0
        ? el('p', { class: 'muted' }, 'No recent alarms. 暂无报警')
        : el(
            'ol',
            {},
            ...this.alerts.map((a) =>
              el(
                'li',
                { class: `alert alert-${a.type}`, 'data-alert': a.type, 'data-device': a.deviceId },
                el('strong', {}, a.type === 'alarm' && a.alarm ? `${ALERT_LABEL.alarm}: ${a.alarm.replace(/_/g, ' ')}` : ALERT_LABEL[a.type as RaisedAlert]),
                ` ${a.deviceName}${a.staffId ? ` (${a.staffId})` : ''} ${clockTime(a.at)}`,
                ...(a.battery !== undefined ? [` ${a.battery}%`] : []),
                ...(a.ticketNumber ? [el('span', { class: 'alert-ticket' }, ` → ${a.ticketNumber}`)] : []),
                ...this.confirmation(a),
                ...camera(a),
              ),
            ),
          ),
    );
  }

  /**
   * What became of the confirmation of an alert a device holds until confirmed, for everyone; the
   * button to confirm it, for those who may (dispatchers and admins: a supervisor sees no button).
   */
  private confirmation(alert: DeviceAlert): (Node | string)[] {
    const alarm = confirmableAlarm(alert);
    if (!alarm) return [];
    const asked = this.confirmations.get(alert);
    if (asked?.state === 'confirmed')
      return [el('span', { class: 'alert-confirmed', 'data-confirmed': asked.by }, ` Confirmed 已确认${asked.by ? ` · ${asked.by}` : ''}`)];
    if (!this.confirm) return [];
    const button = el('button', { type: 'button', class: 'alert-confirm', 'data-confirm': alarm, disabled: asked?.state === 'sending' }, 'Confirm 确认报警');
    button.addEventListener('click', () => void this.send(alert, alarm));
    return [' ', button, ...(asked?.state === 'failed' ? [el('span', { class: 'error', role: 'alert' }, ` ${asked.reason}`)] : [])];
  }

  private async send(alert: DeviceAlert, alarm: ConfirmableAlarm): Promise<void> {
    this.confirmations.set(alert, { state: 'sending' });
    this.draw();
    try {
      await this.confirm!(alert.deviceId, alarm);
      this.confirmations.set(alert, { state: 'confirmed', by: this.operator });
    } catch (error) {
      this.confirmations.set(alert, { state: 'failed', reason: explain(error) });
    }
    this.draw();
  }
}
