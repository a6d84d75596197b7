import { describe, expect, it } from 'vitest';
import type { Device, Staff } from '@civicloop/model';
import { attendanceOf } from './attendance.js';

const badge = (id: string, staffId: string, unitId: string) => ({ id, kind: 'badge', name: id, staffId, unitId }) as Device;
const worker = (id: string, unitId: string, active = true) => ({ id, name: id, role: 'worker', unitId, active }) as Staff;
const at = (iso: string) => Date.parse(iso);

describe('a day of attendance', () => {
  it('counts finished shifts and badges checked in by the end of that day, per unit, once per person', () => {
    const attendance = attendanceOf(
      '2026-12-03',
      'Asia/Shanghai',
      {
        finished: [
          { deviceId: 'b-1', staffId: 'w-1', unitId: 'sanitation', start: at('2026-12-03T00:00:00Z'), end: at('2026-12-03T02:30:00Z') },
          { deviceId: 'b-1', staffId: 'w-1', unitId: 'sanitation', start: at('2026-12-03T03:00:00Z'), end: at('2026-12-03T04:00:00Z') },
        ],
        // w-2 checked in at 07:30 Beijing time on the 3rd; w-3 only on the 4th (Beijing), so not on the 3rd.
        onDuty: new Map([
          ['b-2', at('2026-12-02T23:30:00Z')],
          ['b-3', at('2026-12-03T16:30:00Z')],
        ]),
      },
      [badge('b-1', 'w-1', 'sanitation'), badge('b-2', 'w-2', 'sanitation'), badge('b-3', 'w-3', 'roads')],
      [worker('w-1', 'sanitation'), worker('w-2', 'sanitation'), worker('w-4', 'sanitation'), worker('w-3', 'roads'), worker('w-5', 'roads', false)],
    );
    expect(attendance.shifts.map((s) => s.minutes)).toEqual([150, 60]);
    expect(attendance.shifts[0]).toMatchObject({ start: '2026-12-03T00:00:00.000Z', end: '2026-12-03T02:30:00.000Z' });
    expect(attendance.onDuty).toEqual([{ deviceId: 'b-2', staffId: 'w-2', unitId: 'sanitation', since: '2026-12-02T23:30:00.000Z' }]);
    expect(attendance.coverage).toEqual([
      { unitId: 'sanitation', workers: 3, present: 2, coverage: 2 / 3 },
      { unitId: 'roads', workers: 1, present: 0, coverage: 0 },
    ]);
  });
});
