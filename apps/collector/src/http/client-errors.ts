/**
 * Answers for requests that never reached a route: Node's HTTP parser refused them (a malformed
 * request line or header) or the client did not send them within `REQUEST_TIMEOUT_SECONDS`. Fastify's
 * default writes a body without a `DL_` code; these get the collector's error shape like every other
 * answer, then the connection closes.
 */
import type { Socket } from 'node:net';

/** The `DL_` body of a client error, as `@fastify/error` shapes the others. */
function answer(status: 400 | 408, code: string, error: string, message: string): string {
  const body = JSON.stringify({ statusCode: status, code, error, message });
  return (
    `HTTP/1.1 ${status} ${error}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/** Fastify's `clientErrorHandler`: 408 `DL_REQUEST_TIMEOUT` or 400 `DL_INVALID_REQUEST`, then close. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset or an already closed socket has nobody to answer.
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  socket.end(
    timedOut
      ? answer(
          408,
          'DL_REQUEST_TIMEOUT',
          'Request Timeout',
          'the request was not received within the request timeout',
        )
      : answer(400, 'DL_INVALID_REQUEST', 'Bad Request', 'the request is not valid HTTP'),
  );
}
