import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { StatsWorkerData, StatsWorkerMessage } from './stats-worker.js';

/** How long a stopping thread may take to finish its pass before it is ended. */
const STOP_GRACE_MS = 5_000;
/** The pause before a thread that ended is started again. */
const RESTART_MS = 1_000;

/**
 * The thread's code: the built file beside this module in dist (an ES module, which a CommonJS
 * caller's thread loads as well), or, when the gateway runs from its TypeScript source under tsx
 * (the tests), that source, which the thread can load only once tsx is registered in it too.
 */
function workerEntry(): { code: string | URL; eval: boolean } {
  if (!import.meta.url.endsWith('.ts')) return { code: new URL('./stats-worker.js', import.meta.url), eval: false };
  const source = JSON.stringify(new URL('./stats-worker.ts', import.meta.url).href);
  return { code: `import('tsx/esm/api').then(({ register }) => { register(); return import(${source}); });`, eval: true };
}

interface ThreadLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * The statistics projector's passes in a worker thread (STATS_THREAD; stats-worker.ts). A pass
 * that fails is logged here, as the gateway's own would be. A thread that ends after it started
 * counting is logged and started again after RESTART_MS; one that cannot start at all (it ended
 * before it said it was ready) is logged and `fallBack` runs, which counts on the gateway's own
 * thread instead. stop() lets the pass in progress finish and ends the thread, at once if it takes
 * longer than STOP_GRACE_MS.
 */
export class StatsThread {
  private current: Worker | undefined;
  private ready = false;
  private ended: Promise<unknown> = Promise.resolve();
  private stopping = false;
  private restart: NodeJS.Timeout | undefined;

  constructor(
    private readonly data: StatsWorkerData,
    private readonly log: ThreadLog,
    private readonly fallBack: () => void,
  ) {}

  /** The running thread, if any (none once stopped, fallen back, or between a restart's end and start). */
  get worker(): Worker | undefined {
    return this.current;
  }

  /** Whether the running thread has started counting. */
  get counting(): boolean {
    return this.current !== undefined && this.ready;
  }

  start(): void {
    const entry = workerEntry();
    const worker = new Worker(entry.code, { workerData: this.data, eval: entry.eval });
    this.ready = false;
    worker.on('message', (message: StatsWorkerMessage) => {
      if (message.kind === 'ready') this.ready = true;
      else if (message.kind === 'failed') this.log.error({ err: message.err }, 'the statistics thread could not start');
      else this.log.warn({ err: message.err }, message.message);
    });
    worker.on('error', (error) => this.log.error({ err: error }, 'the statistics thread failed'));
    worker.on('exit', (code) => {
      this.current = undefined;
      if (this.stopping) return;
      if (!this.ready) {
        this.log.error({ code }, 'the statistics thread ended before it counted; counting on the main thread instead');
        this.fallBack();
        return;
      }
      this.log.error({ code }, `the statistics thread ended (exit code ${code}); starting it again in ${RESTART_MS} ms`);
      this.restart = setTimeout(() => this.start(), RESTART_MS);
    });
    this.current = worker;
    this.ended = once(worker, 'exit');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restart);
    const worker = this.current;
    if (!worker) return;
    worker.postMessage('stop');
    const grace = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
    await this.ended;
    clearTimeout(grace);
  }
}
