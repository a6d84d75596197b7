/**
 * The environment the demo's gateway reads its settings from: the caller's, except that the log
 * level is `warn` unless LOG_LEVEL is set. The demo's terminal is for the person trying it: the
 * keys, tokens and `curl` lines it prints, then the simulator's story; a JSON line for each of the
 * pages' and simulator's requests (several a second) would scroll them away.
 */
export function demoGatewayEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return env.LOG_LEVEL?.trim() ? env : { ...env, LOG_LEVEL: 'warn' };
}
