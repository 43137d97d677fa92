/**
 * DELETE requests carry no parameters in a body: every DELETE route is named by its path (and its
 * device header, cookie or token). A body some client or proxy sends anyway is ignored rather than
 * refused (it was parsed, and answered 400 or 415 when it was not JSON). Node discards the unread bytes
 * when the answer ends, so a kept-alive connection stays in step.
 */
import type { FastifyInstance } from 'fastify';

/** Makes Fastify treat every DELETE as bodiless, whatever it sent. */
export function ignoreDeleteBodies(app: FastifyInstance): void {
  // A callback hook: it runs on every request, and an async one costs a promise each time.
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.method === 'DELETE') {
      delete request.headers['content-type'];
      delete request.headers['content-length'];
      delete request.headers['transfer-encoding'];
    }
    done();
  });
}
