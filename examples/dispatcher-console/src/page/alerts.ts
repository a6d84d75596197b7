import type { DeviceAlert } from '@civicloop/sdk';
import { el } from './dom.js';
import { clockTime } from './labels.js';

const ALERT_LABEL: Record<DeviceAlert['type'], string> = { sos: 'SOS 求救', fall: 'Fall 跌倒', low_battery: 'Low battery 低电量', alarm: 'Alarm 报警' };
const MAX_ALERTS_SHOWN = 20;

/** Alarms that sound when the operator has turned sound on: people in danger, not batteries. */
const URGENT: readonly DeviceAlert['type'][] = ['sos', 'fall', 'alarm'];
const SOUND_KEY = 'civicloop-console:alarm-sound';

/**
 * SOS, falls, low batteries and vehicle alarms, newest first, in their own panel. Sound is off
 * until the operator turns it on (browsers play audio only after a user gesture anyway); the
 * choice is kept in this browser.
 */
export class AlertPanel {
  private readonly alerts: DeviceAlert[] = [];
  private readonly box = document.getElementById('alerts')!;
  private readonly sound = el('input', { id: 'alarm-sound', type: 'checkbox' });
  private audio: AudioContext | undefined;
  /** Alarms sounded since the page opened (shown as data-sounded, for tests and operators' tools). */
  private sounded = 0;

  constructor() {
    this.sound.checked = localStorage.getItem(SOUND_KEY) === 'on';
    this.sound.addEventListener('change', () => {
      localStorage.setItem(SOUND_KEY, this.sound.checked ? 'on' : 'off');
      // Made inside the click, so the browser lets it play later.
      if (this.sound.checked) this.audio ??= new AudioContext();
    });
  }

  add(alert: DeviceAlert): void {
    this.alerts.unshift(alert);
    this.alerts.length = Math.min(this.alerts.length, MAX_ALERTS_SHOWN);
    if (this.sound.checked && URGENT.includes(alert.type)) this.beep();
    this.draw();
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
    this.box.replaceChildren(
      el('h2', {}, 'Alarms 报警'),
      el('div', { class: 'field check' }, this.sound, el('label', { for: this.sound.id }, 'Sound for SOS, falls and vehicle alarms 报警提示音')),
      this.alerts.length === 0
        ? el('p', { class: 'muted' }, 'No alarms since the console opened.')
        : el(
            'ol',
            {},
            ...this.alerts.map((a) =>
              el(
                'li',
                { class: `alert alert-${a.type}`, 'data-alert': a.type, 'data-device': a.deviceId },
                el('strong', {}, a.type === 'alarm' && a.alarm ? `${ALERT_LABEL.alarm}: ${a.alarm.replace(/_/g, ' ')}` : ALERT_LABEL[a.type]),
                ` ${a.deviceName}${a.staffId ? ` (${a.staffId})` : ''} ${clockTime(a.at)}`,
                ...(a.battery !== undefined ? [` ${a.battery}%`] : []),
                ...(a.ticketNumber ? [el('span', { class: 'alert-ticket' }, ` → ${a.ticketNumber}`)] : []),
              ),
            ),
          ),
    );
  }
}
