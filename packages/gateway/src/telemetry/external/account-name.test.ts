import { describe, expect, it } from 'vitest';
import { brokerAccountName, ownTracksCommandTopic, parseBrokerAccountName } from './account-name.js';

describe('broker account names', () => {
  it('name the tenant and the device, and read back only what they make', () => {
    expect(brokerAccountName('t_1', 'dev_2')).toBe('t_1.dev_2');
    expect(parseBrokerAccountName(brokerAccountName('t_1', 'dev_2'))).toEqual({ tenantId: 't_1', deviceId: 'dev_2' });
    // An OwnTracks user name the gateway did not make (the app's default, a stray dot) names nobody.
    for (const user of ['dev_2', 'user', 't_1.', '.dev_2', 't_1.dev_2.x', '', '.']) expect(parseBrokerAccountName(user)).toBeUndefined();
    expect(ownTracksCommandTopic('t_1', 'dev_2')).toBe('owntracks/t_1.dev_2/dev_2/cmd');
  });
});
