/**
 * How a held poll's wait ended: a command may have come, the time ran out, the gateway is
 * closing, or the poll was ended (its device was disabled).
 */
export type PollWake = 'nudged' | 'timeout' | 'closing' | 'ended';

/** What a device holds a poll for: its commands (ThingsBoard's `/rpc`), or its attributes' updates. */
export type PollChannel = 'rpc' | 'attributes';

/** A device's open poll on this gateway. */
export interface OpenPoll {
  /**
   * Waits up to `ms` for a nudge. Call it before looking in the outbox, so that a command pushed
   * between the look and the wait still wakes it; a second call drops the first's wait.
   */
  wait(ms: number): Promise<PollWake>;
  /** A newer poll of the device took this one's place: it takes no command, and only waits out its time. */
  readonly replaced: boolean;
  /** The poll was answered: it stops waiting and is no longer held. */
  close(): void;
}

interface Held {
  key: string;
  replaced: boolean;
  ended: boolean;
  wake: ((wake: PollWake) => void) | undefined;
}

/**
 * Devices' HTTP long polls held on this gateway (ThingsBoard's `GET /api/v1/<token>/rpc` and
 * `/attributes/updates`), so that a command given here or, through the command bus, on another
 * gateway wakes the device's poll at once. A nudge only says "look in the outbox": the command is
 * read from there.
 *
 * Commands go to a device's newest poll here only. Firmware on a cellular link polls again when
 * its connection went quiet, and the connection the gateway still holds may be dead without
 * either end having seen it close; a command written there would be lost. The older poll is not
 * answered early, though: it waits out its time, as ThingsBoard's would, so that two units
 * flashed with one token (or a firmware with two polling threads) do not end each other's polls
 * back and forth as fast as they can poll again.
 */
export class CommandPolls {
  /** Per device and kind, its newest poll. */
  private readonly newest = new Map<string, Held>();
  /** Every poll held here, newest or replaced. */
  private readonly held = new Set<Held>();
  private closing = false;

  open(tenantId: string, deviceId: string, channel: PollChannel): OpenPoll {
    const key = `${channel}\n${tenantId}\n${deviceId}`;
    const previous = this.newest.get(key);
    if (previous) previous.replaced = true;
    const poll: Held = { key, replaced: false, ended: false, wake: undefined };
    this.newest.set(key, poll);
    this.held.add(poll);
    return {
      wait: (ms) => {
        poll.wake?.('timeout');
        if (this.closing) return Promise.resolve('closing');
        if (poll.ended) return Promise.resolve('ended');
        return new Promise<PollWake>((resolve) => {
          const end = (wake: PollWake) => {
            clearTimeout(timer);
            if (poll.wake === end) poll.wake = undefined;
            resolve(wake);
          };
          const timer = setTimeout(() => end('timeout'), ms);
          poll.wake = end;
        });
      },
      get replaced() {
        return poll.replaced;
      },
      close: () => {
        poll.wake?.('timeout');
        this.held.delete(poll);
        if (this.newest.get(key) === poll) this.newest.delete(key);
      },
    };
  }

  /** A command waits for this device: its newest command poll here looks in its outbox. */
  nudge(tenantId: string, deviceId: string): void {
    this.newest.get(`rpc\n${tenantId}\n${deviceId}`)?.wake?.('nudged');
  }

  /**
   * Ends every poll the device holds here, of either kind (the gateway answers them, and judges
   * its next poll afresh): it was disabled, or its credentials changed.
   */
  endPolls(tenantId: string, deviceId: string): void {
    const keys = new Set([`rpc\n${tenantId}\n${deviceId}`, `attributes\n${tenantId}\n${deviceId}`]);
    for (const poll of [...this.held])
      if (keys.has(poll.key)) {
        poll.ended = true;
        poll.wake?.('ended');
      }
  }

  /** How many polls are held here now, replaced ones included. */
  get size(): number {
    return this.held.size;
  }

  /** The gateway is closing: every held poll ends now, and any new one at once. */
  closeAll(): void {
    this.closing = true;
    for (const poll of [...this.held]) poll.wake?.('closing');
  }
}
