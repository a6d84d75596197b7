import { Redis } from 'ioredis';

type Command = Parameters<Redis['sendCommand']>[0];
type Destination = Parameters<Redis['sendCommand']>[1];
type Socket = Redis['stream'];

/**
 * A single-Redis client that sends every command written in one turn of the event loop in one
 * socket write: the socket is corked at the turn's first command and uncorked once the turn's
 * I/O callbacks have run (`setImmediate`, the boundary ioredis's auto-pipelining uses too).
 *
 * Why not `enableAutoPipelining`: ioredis runs one auto-pipeline at a time, so a command issued
 * while a batch is out waits for that batch's whole round trip before it is even sent. Under
 * load every command then lived milliseconds, outlived two young collections and was copied into
 * the old generation with its replies and its `Pipeline` (docs/benchmarks.md, "A turn's
 * commands in one write"). Corking keeps the one write per turn that made
 * auto-pipelining worth having, sends each turn's batch as soon as the turn ends, and makes no
 * `Pipeline` per batch. Replies still come back in order through ioredis's own queue.
 */
export class TurnBatchingRedis extends Redis {
  private corkedSocket: Socket | undefined;

  override sendCommand(command: Command, destination?: Destination): unknown {
    const socket = this.stream;
    // Only a ready connection is corked: the handshake and the offline path write nothing to
    // batch, and a socket being replaced must not be left corked.
    if (this.corkedSocket === undefined && socket !== undefined && this.status === 'ready') {
      socket.cork();
      this.corkedSocket = socket;
      setImmediate(uncorkAtTurnEnd, this);
    }
    return super.sendCommand(command, destination);
  }

  /** Sends what this turn wrote; called once per corked turn. */
  flushTurn(): void {
    const socket = this.corkedSocket;
    this.corkedSocket = undefined;
    socket?.uncork();
  }
}

function uncorkAtTurnEnd(client: TurnBatchingRedis): void {
  client.flushTurn();
}
