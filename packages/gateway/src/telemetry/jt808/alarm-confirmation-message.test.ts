import { describe, expect, it } from 'vitest';
import { CONFIRMABLE_ALARMS } from '@civicloop/model';
import { alarmFlags } from './location.js';
import { alarmConfirmationMessage } from './message.js';

describe('a 0x8203 manual alarm confirmation', () => {
  it('is laid out as a .NET JT/T 808 codec writes one (its test body)', () => {
    // SmallChi/JT808's JT808_0x8203Test: alarm report serial 5554, alarm type 123.
    expect(alarmConfirmationMessage(123, 5554)).toEqual(Buffer.from('15B20000007B', 'hex'));
  });

  it('confirms the alarms the standard names, at the bits a report sets them', () => {
    // JT/T 808-2013 8.25: emergency (bit 0), danger warning (3), area (20), route (21), route time
    // (22), illegal ignition (27) and illegal displacement (28), as QuecPython's terminal library
    // reads a 0x8203 body too.
    expect(alarmFlags(CONFIRMABLE_ALARMS)).toBe(0x18700009);
    expect(alarmConfirmationMessage(alarmFlags(['sos'])).toString('hex')).toBe('000000000001');
    // A name a report's flags do not have sets no bit.
    expect(alarmFlags(['fall'])).toBe(0);
  });
});
