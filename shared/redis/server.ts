/**
 * Starts a private redis-server child on a free loopback port: used by `npm start` when no
 * REDIS_URL is given, and by the tests (which never touch a Redis they did not start).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface RedisServer {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  dir: string;
  appendOnly?: boolean;
  port?: number;
  /**
   * In a process group of its own, so a terminal's Ctrl-C (sent to the whole foreground group)
   * does not stop Redis before the workers have finished or released their jobs; the owner
   * stops it last. It is also stopped when the owning process exits.
   */
  ownProcessGroup?: boolean;
}

export function findExecutable(name: string, searchPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export const REDIS_MISSING =
  'redis-server not found: install it (Debian/Ubuntu: apt-get install redis-server) or set REDIS_URL=redis://host:port';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Whether a Redis on the port answers PING with PONG (not while it is still loading its
 * data). A bare socket: an ioredis client left a 10 s connect timer behind each failed try,
 * which kept test processes alive after their last test.
 */
function pongs(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    socket.once('error', () => done(false));
  });
}

export async function startRedisServer(options: RedisServerOptions): Promise<RedisServer> {
  const executable = findExecutable('redis-server');
  if (!executable) throw new Error(REDIS_MISSING);
  fs.mkdirSync(options.dir, { recursive: true });
  const port = options.port ?? (await freePort());
  const child = spawn(
    executable,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      options.dir,
      '--appendonly',
      options.appendOnly ? 'yes' : 'no',
      '--save',
      '',
      '--daemonize',
      'no',
      '--logfile',
      path.join(options.dir, 'redis.log'),
    ],
    { stdio: 'ignore', detached: options.ownProcessGroup ?? false },
  );
  if (options.ownProcessGroup) process.once('exit', () => child.kill('SIGTERM'));
  const url = `redis://127.0.0.1:${port}`;
  let exited = false;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const deadline = Date.now() + 10000;
  for (;;) {
    if (exited) throw new Error(`redis-server exited at start (see ${path.join(options.dir, 'redis.log')})`);
    if (await pongs(port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url,
    port,
    process: child,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}
