import type { IncomingMessage } from 'node:http';
import type { RequestGuard } from '../server/http-server.js';

/**
 * The sandbox answers only requests addressed to loopback by name: `localhost`, `127.0.0.1` or
 * `[::1]`, with the port it listens on. A page on another site that rebinds its own DNS name to
 * 127.0.0.1 still sends its own name as Host, and is refused with 421 before any route runs.
 */
export function sandboxHostGuard(port: number): RequestGuard {
  const allowed = new Set(['localhost', '127.0.0.1', '[::1]'].map((name) => `${name}:${port}`));
  // Clients leave out the default port, so on port 80 the bare names are what they send.
  if (port === 80) for (const name of ['localhost', '127.0.0.1', '[::1]']) allowed.add(name);
  return (req: IncomingMessage) => {
    const host = (req.headers.host ?? '').toLowerCase();
    if (allowed.has(host)) return null;
    return { status: 421, message: 'the sandbox answers only http://localhost, 127.0.0.1 or [::1] on its own port' };
  };
}
