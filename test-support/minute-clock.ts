/**
 * A gateway clock for tests that count within the gateway's fixed one-minute windows (the rate
 * limits, failed logins per address). It runs with the wall clock, and `startMinute()` moves it
 * forward to the start of its next minute: what a test counts then falls in one window, however
 * slow the machine, where on the wall clock a test that straddles a minute's end sees its count
 * start again halfway. It only moves forward, so tokens and fixes stamped by the wall clock look
 * a little older to the gateway, never ahead of it. Several gateways on one Redis share one clock,
 * as their shared counts are keyed by its minutes.
 */
export class MinuteClock {
  private offsetMs = 0;

  /** The gateway's `now`. */
  readonly now = (): Date => new Date(Date.now() + this.offsetMs);

  /** Moves the clock to the start of its next minute; a test then has a whole minute of one window. */
  startMinute(): void {
    const at = Date.now() + this.offsetMs;
    this.offsetMs += 60_000 - (at % 60_000);
  }
}
