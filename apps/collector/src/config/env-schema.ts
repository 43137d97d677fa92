/**
 * Every environment variable the collector reads, declared once: type, default, allowed values, one
 * line of meaning, group, secrecy and production rule (`env-var.ts` says what each field means).
 * `env-reader.ts` validates the environment by it (env-schema, ajv); `config-rules.ts` holds the rules
 * that join several variables. `node scripts/config-docs.mjs` writes `.env.example`, the README tables
 * and turbo.json's `globalPassThroughEnv` from it, and `npm run lint` fails when they differ.
 */
import type { ReadValue } from './env-var.js';
import { OPERATOR_ENV } from './operator-env.js';
import { VISITOR_ENV } from './visitor-env.js';

export { ENV_GROUPS } from './env-var.js';

/** The collector's environment; the docs list it by group (`ENV_GROUPS`), in this order within one. */
export const COLLECTOR_ENV = { ...OPERATOR_ENV, ...VISITOR_ENV } as const;

/** The name of a variable of the schema. */
export type EnvName = keyof typeof COLLECTOR_ENV;

/** The environment as read: each variable with its type, its default applied. */
export type EnvValues = { readonly [K in EnvName]: ReadValue<(typeof COLLECTOR_ENV)[K]> };
