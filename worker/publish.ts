/**
 * PUBLISH of a message that may be large (a DALI-sync answer, up to SYNC_INLINE_BYTES) without
 * the copy ioredis makes of every command into one new buffer (Command.toWritable). In the
 * worker's main thread, that buffer for every answer kept the garbage collector busy: 1 MiB
 * answers took 4–5 ms longer (measured). The command's head, the message and its closing
 * CRLF go to the socket as one corked batch instead, in order with the connection's other
 * commands.
 */
import type { Writable } from 'node:stream';
import { Command, type Redis } from 'ioredis';

/** Only for Redis#sendCommand: a pipeline would collect what toWritable returns apart from the socket. */
class PublishCommand extends Command {
  constructor(
    private readonly channelName: string,
    private readonly bytes: Buffer,
  ) {
    super('publish', [channelName, bytes]);
  }

  /** RESP: an array of three bulk strings (https://redis.io/docs/latest/develop/reference/protocol-spec/). */
  override toWritable(socket: object): string {
    const stream = socket as Writable;
    stream.cork();
    stream.write(`*3\r\n$7\r\npublish\r\n$${Buffer.byteLength(this.channelName)}\r\n${this.channelName}\r\n$${this.bytes.length}\r\n`);
    stream.write(this.bytes);
    // ioredis writes what this returns at once, into the same batch.
    process.nextTick(() => stream.uncork());
    return '\r\n';
  }
}

/** Resolves with the number of subscribers that received `message`. */
export function publishBytes(redis: Redis, channel: string, message: Buffer): Promise<number> {
  const command = new PublishCommand(channel, message);
  void redis.sendCommand(command);
  return command.promise as Promise<number>;
}
