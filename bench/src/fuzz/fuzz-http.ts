/**
 * The fuzz run's HTTP client: node:http with keep-alive for what Node lets through, and a raw socket
 * for what it refuses to send (NUL, CR/LF or characters above U+00FF in a header, bad tokens): the
 * request bytes are written as given and the status line is read back.
 */
import http from 'node:http';
import { connect } from 'node:net';

/** One request as the fuzz builds it. */
export interface FuzzRequest {
  method: string;
  /** Path and query, already encoded as the fuzz wants it sent. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string;
}

/** One answer: its status (0 when none came: the connection closed, or a timeout), body and time. */
export interface FuzzAnswer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
  ms: number;
  /** Why there was no status (timeout, reset), when there was none. */
  error?: string;
  /** Sent over a raw socket (Node refused the header or the method). */
  raw: boolean;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const TIMEOUT_MS = 30_000;

/** Requests resent on a new connection after a reused keep-alive socket closed under them. */
export const resent = { count: 0 };
const STALE_SOCKET = new Set(['ECONNRESET', 'EPIPE', 'HPE_CLOSED_CONNECTION']);

/**
 * Sends `req` to `base` (`http://127.0.0.1:port`). A request whose reused keep-alive socket the
 * server closed as it was sent (the race every HTTP client meets) is sent once more on a new
 * connection, as browsers do; a crash still shows: the process is checked at the end.
 */
export async function send(base: string, req: FuzzRequest): Promise<FuzzAnswer> {
  const first = await sendOnce(base, req, agent);
  if (first.status !== 0 || !first.error || !STALE_SOCKET.has(first.error) || first.raw) return first;
  resent.count++;
  const again = await sendOnce(base, req, false);
  if (again.status !== 0 || !again.error || !STALE_SOCKET.has(again.error)) return again;
  // Node's client drops an answer that came before the request was all written (the server answered a
  // 404 or 413 early and closed: EPIPE, or HPE_CLOSED_CONNECTION after a HEAD): the raw socket reads it.
  return viaSocket(new URL(base), req);
}

async function sendOnce(base: string, req: FuzzRequest, via: http.Agent | false): Promise<FuzzAnswer> {
  const url = new URL(base);
  const started = performance.now();
  try {
    return await viaNode(url, req, started, via);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (
      code === 'ERR_INVALID_CHAR' ||
      code === 'ERR_INVALID_HTTP_TOKEN' ||
      code === 'ERR_UNESCAPED_CHARACTERS' ||
      code === 'ERR_HTTP_INVALID_HEADER_VALUE'
    ) {
      return viaSocket(url, req, performance.now());
    }
    return {
      status: 0,
      body: '',
      headers: {},
      ms: performance.now() - started,
      error: code || String(err),
      raw: false,
    };
  }
}

function viaNode(url: URL, req: FuzzRequest, started: number, via: http.Agent | false): Promise<FuzzAnswer> {
  return new Promise((resolve, reject) => {
    const body =
      req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
    const headers: Record<string, string> = { ...req.headers };
    if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
      headers['content-length'] = String(body.length);
    }
    // Throws synchronously for a header Node will not write: the caller falls back to the raw socket.
    const r = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        headers,
        agent: via,
        timeout: TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: res.headers,
            ms: performance.now() - started,
            raw: false,
          }),
        );
        res.on('error', (err) =>
          resolve({
            status: res.statusCode ?? 0,
            body: '',
            headers: res.headers,
            ms: performance.now() - started,
            error: String(err),
            raw: false,
          }),
        );
      },
    );
    r.on('timeout', () => r.destroy(new Error('timeout')));
    r.on('error', (err) =>
      resolve({
        status: 0,
        body: '',
        headers: {},
        ms: performance.now() - started,
        error: (err as NodeJS.ErrnoException).code ?? err.message,
        raw: false,
      }),
    );
    try {
      if (body !== undefined) r.end(body);
      else r.end();
    } catch (err) {
      r.destroy();
      reject(err);
    }
  });
}

/** Writes the request bytes as given (header values as UTF-8) and reads the status line and body. */
function viaSocket(url: URL, req: FuzzRequest, started = performance.now()): Promise<FuzzAnswer> {
  return new Promise((resolve) => {
    const body =
      req.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
    const lines = [`${req.method} ${req.path} HTTP/1.1`, `host: ${url.host}`, 'connection: close'];
    let hasLength = false;
    for (const [k, v] of Object.entries(req.headers)) {
      if (k.toLowerCase() === 'content-length') hasLength = true;
      lines.push(`${k}: ${v}`);
    }
    if (!hasLength && body.length > 0) lines.push(`content-length: ${body.length}`);
    const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('utf8');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const split = text.indexOf('\r\n\r\n');
      resolve({
        status: m ? Number(m[1]) : 0,
        body: split >= 0 ? text.slice(split + 4) : '',
        headers: {},
        ms: performance.now() - started,
        ...(m ? {} : { error: error ?? 'closed without an answer' }),
        raw: true,
      });
    };
    const timer = setTimeout(() => finish('timeout'), TIMEOUT_MS);
    // No half-close: Node's HTTP server aborts a request whose client ended its side before the answer.
    socket.on('connect', () => socket.write(Buffer.concat([head, body])));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => finish());
    socket.on('close', () => finish(failure));
    // An early answer may come with a write error (EPIPE): 'close' follows and reads what arrived.
    let failure: string | undefined;
    socket.on('error', (err) => {
      failure = (err as NodeJS.ErrnoException).code ?? err.message;
    });
  });
}

/** Closes the keep-alive sockets. */
export function closeClient(): void {
  agent.destroy();
}
