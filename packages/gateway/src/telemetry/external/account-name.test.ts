import { describe, expect, it } from 'vitest';
import { brokerAccountName, isOwnTracksPublishTopic, ownTracksCommandTopic, parseBrokerAccountName } from './account-name.js';

describe('broker account names', () => {
  it('name the tenant and the device, and read back only what they make', () => {
    expect(brokerAccountName('t_1', 'dev_2')).toBe('t_1.dev_2');
    expect(parseBrokerAccountName(brokerAccountName('t_1', 'dev_2'))).toEqual({ tenantId: 't_1', deviceId: 'dev_2' });
    // An OwnTracks user name the gateway did not make (the app's default, a stray dot) names nobody.
    for (const user of ['dev_2', 'user', 't_1.', '.dev_2', 't_1.dev_2.x', '', '.']) expect(parseBrokerAccountName(user)).toBeUndefined();
    expect(ownTracksCommandTopic('t_1', 'dev_2')).toBe('owntracks/t_1.dev_2/dev_2/cmd');
  });

  it('let a phone publish under its own OwnTracks topics only, never to a command topic', () => {
    const own = (topic: string) => isOwnTracksPublishTopic('t_1', 'dev_2', topic);
    for (const topic of [
      'owntracks/t_1.dev_2/pixel',
      'owntracks/t_1.dev_2/dev_2/event',
      'owntracks/t_1.dev_2/dev_2/waypoints',
      'owntracks/t_1.dev_2/dev_2/status',
    ])
      expect(own(topic)).toBe(true);
    for (const topic of [
      'owntracks/t_1.dev_2/dev_2/cmd',
      'owntracks/t_1.dev_3/dev_3',
      'owntracks/dev_2/dev_2',
      'owntracks/t_1.dev_2',
      'owntracks/t_1.dev_2/',
      'owntracks/t_1.dev_2/+',
      'owntracks/t_1.dev_2/dev_2/event/x',
      'owntracks/t_1.dev_2/dev_2/anything',
      'civicloop/t_1/badges/dev_2/position',
    ])
      expect(own(topic)).toBe(false);
  });
});
