// Local TCP ports: pick a free one, or fail with one clear line naming the variable that moves a taken one.
import { createServer } from 'node:net';

/** An ephemeral port that was free a moment ago (for tests and side-by-side stacks). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly variable: string,
  ) {
    super(`port ${port} is already in use: set ${variable} to another port`);
    this.name = 'PortInUseError';
  }
}

/** Resolves if `port` can be bound on 127.0.0.1; otherwise rejects with a PortInUseError naming `variable`. */
export function assertPortFree(port: number, variable: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new PortInUseError(port, variable) : e));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve()));
  });
}
