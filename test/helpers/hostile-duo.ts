import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Rewrites the `response` object of one Duo answer; gets the Duo path and the request's query. */
export type DuoRewrite = (path: string, query: URLSearchParams, response: Record<string, unknown>) => Record<string, unknown>;

/**
 * A Duo that answers the wrong question: an HTTP proxy in front of the Duo simulator that passes
 * every request through untouched (so signatures still verify) and lets a test rewrite what
 * comes back, such as the txid of an `/auth` answer or a txid named in `auth_status`.
 */
export class HostileDuo {
  rewrite: DuoRewrite | null = null;
  private server: Server | null = null;

  constructor(private readonly target: string) {}

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      void this.forward(req).then(
        ({ status, body }) => res.writeHead(status, { 'content-type': 'application/json' }).end(body),
        (error: unknown) => res.writeHead(502).end(String(error)),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.server = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async forward(req: IncomingMessage): Promise<{ status: number; body: string }> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(req.headers)) {
      if (typeof value === 'string' && key !== 'host' && key !== 'content-length' && key !== 'connection') headers[key] = value;
    }
    const method = req.method ?? 'GET';
    const response = await fetch(this.target + (req.url ?? '/'), {
      method,
      headers,
      ...(method === 'GET' || method === 'HEAD' ? {} : { body: Buffer.concat(chunks) }),
    });
    const text = await response.text();
    const url = new URL(req.url ?? '/', 'http://duo');
    const rewrite = this.rewrite;
    if (!rewrite || response.status !== 200) return { status: response.status, body: text };
    const envelope = JSON.parse(text) as { stat: string; response: Record<string, unknown> };
    return { status: 200, body: JSON.stringify({ ...envelope, response: rewrite(url.pathname, url.searchParams, envelope.response) }) };
  }
}
