/** Writing answers: JSON or text with a length, never cached (answers carry alert data). */
import type { ServerResponse } from 'node:http';

/** Answers with a JSON body; `headers` are added to the usual ones (e.g. Retry-After). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendText(res, status, JSON.stringify(body), 'application/json; charset=utf-8', headers);
}

/** Answers with a text body. Nothing is written when the client has gone (e.g. a long poll). */
export function sendText(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
  headers: Record<string, string> = {},
): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}
