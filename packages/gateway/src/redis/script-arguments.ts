import type { Cluster, Redis } from 'ioredis';

/** What ioredis keeps per defined script (its `scriptsSet`): the command class it sends the script with. */
interface DefinedScript {
  Command: new (name: string, args: unknown[], options?: { keyPrefix?: string }, callback?: unknown) => ScriptCommand;
}
interface ScriptCommand {
  args: unknown[];
  stringifyArguments(): void;
}

const FLAT_ARGUMENTS = Symbol('civicloop.flatArguments');

/**
 * Makes the script `name` defined on `client` send its arguments as given instead of copying them
 * through `Array.prototype.flat`, which ioredis's command constructor calls on every command. On
 * Node 20 that copy costs about 120 ns per argument (some 6 µs for a create's 43, more than
 * building them; over whole calls, `npm run bench:script-arguments`, less: see
 * docs/benchmarks.md), and the gateway's scripts are called with flat lists of strings and
 * numbers anyway. A call that does pass a list among its arguments is still flattened, as ioredis would.
 * Everything else (EVALSHA, EVAL on a connection that has not loaded the script, the reply) stays
 * ioredis's own.
 */
export function sendScriptArgumentsAsGiven(client: Redis | Cluster, name: string): void {
  const script = (client as unknown as { scriptsSet?: Record<string, DefinedScript | undefined> }).scriptsSet?.[name];
  // Another ioredis than the one this was written against (no scriptsSet or Command): left as it is.
  if (typeof script?.Command !== 'function' || FLAT_ARGUMENTS in script.Command) return;
  const Base = script.Command;
  script.Command = class FlatArgumentsScriptCommand extends Base {
    static readonly [FLAT_ARGUMENTS] = true;
    constructor(commandName: string, args: unknown[], options?: { keyPrefix?: string }, callback?: unknown) {
      // The base constructor flattens and stringifies what it is given: an empty list here,
      // unless keys are to be prefixed (which it does while it copies them).
      super(commandName, options?.keyPrefix ? args : [], options, callback);
      if (options?.keyPrefix) return;
      this.args = args.some(Array.isArray) ? args.flat() : args;
      this.stringifyArguments();
    }
  };
}
