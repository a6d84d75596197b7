/**
 * Runs tasks one after another per key, each once the one before it has settled (failed or not).
 * A device's commands are sent this way: an OwnTracks phone's jobs are read when its message is
 * made, so two sends running at once could deliver an older list after a newer one.
 */
export class OneAtATime<K> {
  private readonly tails = new Map<K, Promise<void>>();

  run(key: K, task: () => Promise<void>): Promise<void> {
    const result = (this.tails.get(key) ?? Promise.resolve()).then(task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
