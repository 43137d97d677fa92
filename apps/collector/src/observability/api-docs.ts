/**
 * The OpenAPI document and its browsable reference: `/docs` (assets served from this process) and
 * `/docs/json`, generated from the route schemas of every route registered after it.
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { CollectorConfig } from '../config/collector-config.js';
import { openapiDocument, swaggerUiOptions, tagOperation } from './openapi-document.js';

/**
 * Registers the document and `/docs` on `app`, the root instance: @fastify/swagger learns the routes
 * from an onRoute hook, which sees the routes of the instance it is added to and of its children.
 */
export async function registerApiDocs(app: FastifyInstance, config: CollectorConfig): Promise<void> {
  await app.register(fastifySwagger, { openapi: openapiDocument(config), transform: tagOperation });
  await app.register(fastifySwaggerUi, swaggerUiOptions());
}
