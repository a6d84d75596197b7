import type { DeviceAlert } from '@civicloop/sdk';
import { el } from './dom.js';
import { clockTime } from './labels.js';

const ALERT_LABEL: Record<DeviceAlert['type'], string> = { sos: 'SOS 求救', fall: 'Fall 跌倒', low_battery: 'Low battery 低电量', alarm: 'Alarm 报警' };
const MAX_ALERTS_SHOWN = 20;

/** SOS, falls, low batteries and vehicle alarms, newest first, in their own panel. */
export class AlertPanel {
  private readonly alerts: DeviceAlert[] = [];
  private readonly box = document.getElementById('alerts')!;

  add(alert: DeviceAlert): void {
    this.alerts.unshift(alert);
    this.alerts.length = Math.min(this.alerts.length, MAX_ALERTS_SHOWN);
    this.draw();
  }

  draw(): void {
    this.box.replaceChildren(
      el('h2', {}, 'Alarms 报警'),
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
