/**
 * A piece of background work run again and again, a pause between the end of one pass and the
 * start of the next (so passes never overlap). A failed pass is logged and the next one tries
 * again; stop() waits for the pass in progress.
 */
export class PollingLoop {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly what: string,
    private readonly run: () => Promise<unknown>,
    private readonly log: { warn(obj: object, msg: string): void },
  ) {}

  start(intervalMs: number): void {
    const loop = () => {
      if (this.stopped) return;
      this.pass = this.run()
        .then(() => undefined)
        .catch((error: unknown) => this.log.warn({ err: error }, `${this.what} failed; trying again`))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, intervalMs);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.pass;
  }
}
