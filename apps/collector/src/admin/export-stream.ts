/** The body of a streamed export (a user's data, the bulk page-view export). */
import { Readable } from 'node:stream';

/**
 * A readable stream of `chunks`, pulled as the client reads (backpressure). A failure mid-stream can no
 * longer change the status: it is logged and the connection is cut, so the client sees a truncated body.
 */
export function streamOf(
  chunks: AsyncGenerator<string>,
  log: { error(obj: unknown, msg: string): void },
): Readable {
  const stream = Readable.from(chunks, { objectMode: false });
  stream.on('error', (err) => log.error({ err }, 'export stream failed'));
  return stream;
}
