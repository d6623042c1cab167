import type { IncomingMessage } from 'node:http';
import type { RequestGuard } from '../server/http-server.js';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/**
 * The sandbox answers only requests addressed to loopback by name: `localhost`, `127.0.0.1`,
 * `[::1]` or the loopback address it listens on (`host`, e.g. 127.0.0.2), with the port it
 * listens on. A page on another site that rebinds its own DNS name to 127.0.0.1 still sends its
 * own name as Host, and is refused with 421 before any route runs.
 */
export function sandboxHostGuard(listening: { port: number; host: string }): RequestGuard {
  const { port } = listening;
  const bound = listening.host.includes(':') && !listening.host.startsWith('[') ? `[${listening.host}]` : listening.host;
  const names = [...new Set([...LOOPBACK_NAMES, bound.toLowerCase()])];
  const allowed = new Set(names.map((name) => `${name}:${port}`));
  // Clients leave out the default port, so on port 80 the bare names are what they send.
  if (port === 80) for (const name of names) allowed.add(name);
  return (req: IncomingMessage) => {
    const host = (req.headers.host ?? '').toLowerCase();
    if (allowed.has(host)) return null;
    return { status: 421, message: `the sandbox answers only http://${names.join(', ')} on its own port` };
  };
}
