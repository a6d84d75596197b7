/**
 * Redis replies that say "not now" rather than "never": the cluster is re-electing or
 * resharding, a replica is promoted, the server is loading its data, ran out of memory or
 * cannot write to its disk (MISCONF: the AOF's disk is full, or its last snapshot failed), a
 * script cache was emptied by a restart. The same command may succeed a moment later. Within a
 * script, the reply still starts with the code (`MISCONF ... script: <sha>, on @user_script:1.`).
 */
const TRANSIENT_REPLY = /^(CLUSTERDOWN|TRYAGAIN|MOVED|ASK|LOADING|READONLY|MASTERDOWN|NOSCRIPT|BUSY|NOREPLICAS|OOM|MISCONF|UNBLOCKED)\b/;

/** Client-side failures of the connection (ioredis and Node socket errors). */
const CONNECTION_FAILURE = new RegExp(
  [
    'ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTCONN|EAI_AGAIN',
    "Connection is closed|Stream isn't writeable|max retries per request|Failed to refresh slots cache",
    "None of startup nodes is available|Too many Cluster redirections|Cluster isn't ready",
    'Command timed out|Command aborted|Connection in subscriber mode',
    'All keys in the pipeline should belong to the same slots allocation group|Pipeline failed|Redis is unavailable',
  ].join('|'),
  'i',
);

const TRANSIENT_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError', 'AbortError', 'RedisUnavailableError']);

/**
 * Whether an error means Redis cannot serve right now (lost connection, failover, cluster down,
 * a restarted server without our scripts...), so the request should be answered
 * `503 CL_ERR_UNAVAILABLE` and retried, rather than treated as a bug.
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (TRANSIENT_NAMES.has(error.name)) return true;
  if (TRANSIENT_REPLY.test(error.message) || CONNECTION_FAILURE.test(error.message)) return true;
  // ioredis wraps the last error of a failed cluster command or pipeline.
  const cause = (error as { lastNodeError?: unknown; cause?: unknown }).lastNodeError ?? (error as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error && isRedisUnavailable(cause);
}

/** A reply error of a script itself (an error raised while running it): the input cannot be stored. */
export function isScriptFault(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError' && !isRedisUnavailable(error) && /user_script|Error running script|ERR /.test(error.message);
}
