import type { Figures } from '../first-screen.js';
import { el, svg } from './dom.js';

const percent = (rate: number | null) => (rate === null ? '–' : `${Math.round(rate * 100)}%`);

/**
 * Today's figures, each saying over what period it is counted, and the last seven days' reports.
 * "Open now" is the board's own count.
 */
export function drawKpis({ today, days, todayStats, weekStats }: Figures, openNow: number, timeZone: string): void {
  const [day] = todayStats.groups;
  const cards: [string, string, string][] = [
    ['Reported today', '今日上报', String(day?.created ?? 0)],
    ['Open now', '当前在办', String(openNow)],
    ['Completion', '今日办结率', percent(day?.completionRate ?? null)],
    ['On time', '今日按时办结率', percent(day?.onTimeCompletionRate ?? null)],
    ['Satisfaction', '今日满意率', percent(day?.satisfactionRate ?? null)],
    ['Attendance', '今日出勤率', percent(day?.attendanceCoverage ?? null)],
    ['Vehicles online', '今日车辆在线率', percent(day?.vehicleOnlineRate ?? null)],
  ];
  document
    .getElementById('kpis')!
    .replaceChildren(
      el('h2', {}, `Today 今日 · ${today} (${timeZone}); open now is live`),
      ...cards.map(([label, zh, value]) =>
        el('div', { class: 'kpi', 'data-kpi': label }, el('div', { class: 'value' }, value), el('div', { class: 'label' }, `${label} ${zh}`)),
      ),
    );
  const week = weekStats.groups;
  const byDay = new Map(week.map((g) => [g.key, g.created]));
  const most = Math.max(1, ...days.map((d) => byDay.get(d) ?? 0));
  const chart = svg('svg', {
    viewBox: '0 0 350 120',
    role: 'img',
    'aria-label': `Tickets reported per day, ${days[0]} to ${today}: ${days.map((d) => `${d.slice(5)} ${byDay.get(d) ?? 0}`).join(', ')}`,
  });
  days.forEach((d, i) => {
    const h = ((byDay.get(d) ?? 0) / most) * 90;
    chart.append(svg('rect', { class: 'bar', x: 10 + i * 48, y: 100 - h, width: 36, height: h }));
    const label = svg('text', { class: 'bar-label', x: 10 + i * 48, y: 114 });
    label.textContent = `${d.slice(5)} ${byDay.get(d) ?? 0}`;
    chart.append(label);
  });
  document.getElementById('chart')!.replaceChildren(el('h2', {}, 'Reported per day, last 7 days 近7日上报'), chart);
}
