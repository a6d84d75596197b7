/**
 * How a held poll's wait ended: a command may have come, the time ran out, the gateway is
 * closing, or the poll was ended (the device opened a newer one of the same kind here, or was
 * disabled).
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
  /** The poll was answered: it stops waiting and is no longer held. */
  close(): void;
}

interface Held {
  ended: boolean;
  wake: ((wake: PollWake) => void) | undefined;
}

/**
 * Devices' HTTP long polls held on this gateway (ThingsBoard's `GET /api/v1/<token>/rpc` and
 * `/attributes/updates`), so that a command given here or, through the command bus, on another
 * gateway wakes the device's poll at once. A nudge only says "look in the outbox": the command is
 * read from there.
 *
 * A device holds one poll of each kind here: a newer one replaces it. Firmware on a cellular link
 * polls again when its connection went quiet, and the connection the gateway still holds may be
 * dead without either end having seen it close; a command written there would be lost.
 */
export class CommandPolls {
  private readonly held = new Map<string, Held>();
  private closing = false;

  open(tenantId: string, deviceId: string, channel: PollChannel): OpenPoll {
    const key = `${channel}\n${tenantId}\n${deviceId}`;
    const previous = this.held.get(key);
    if (previous) end(previous);
    const poll: Held = { ended: false, wake: undefined };
    this.held.set(key, poll);
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
      close: () => {
        poll.wake?.('timeout');
        if (this.held.get(key) === poll) this.held.delete(key);
      },
    };
  }

  /** A command waits for this device: the command poll it holds here looks in its outbox. */
  nudge(tenantId: string, deviceId: string): void {
    this.held.get(`rpc\n${tenantId}\n${deviceId}`)?.wake?.('nudged');
  }

  /**
   * Ends the polls the device holds here (the gateway answers them, and judges its next poll
   * afresh): it was disabled, or its credentials changed.
   */
  endPolls(tenantId: string, deviceId: string): void {
    for (const channel of ['rpc', 'attributes'] as const) {
      const poll = this.held.get(`${channel}\n${tenantId}\n${deviceId}`);
      if (poll) end(poll);
    }
  }

  /** How many polls are held here now. */
  get size(): number {
    return this.held.size;
  }

  /** The gateway is closing: every held poll ends now, and any new one at once. */
  closeAll(): void {
    this.closing = true;
    for (const poll of [...this.held.values()]) poll.wake?.('closing');
  }
}

function end(poll: Held): void {
  poll.ended = true;
  poll.wake?.('ended');
}
