/**
 * Reads the environment by the schema (`env-schema.ts`): each variable trimmed (blank counts as unset),
 * typed, validated by env-schema (ajv) and given its default, or its production default with
 * `NODE_ENV=production`. The first bad variable throws a {@link ConfigError} that names it and says what
 * is wrong in one line, never echoing a secret.
 */
import { Ajv, type ErrorObject } from 'ajv';
import envSchema from 'env-schema';
import { ConfigError } from './config-error.js';
import { COLLECTOR_ENV, type EnvName, type EnvValues } from './env-schema.js';
import type { EnvVar } from './env-var.js';

/** The environment as given: `process.env` or a test's object. */
export type Env = Record<string, string | undefined>;

const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['0', 'false', 'no', 'off'];

/**
 * One variable as the schema validates it: a number for digits, a boolean for the boolean words, a
 * lower-case choice, a list; a value of the wrong form stays a string, for ajv to refuse by name.
 */
function normalize(spec: EnvVar, raw: string | undefined): unknown {
  const value = raw?.trim();
  if (spec.type === 'list') {
    if (raw === undefined || (!value && !spec.keepEmpty)) return undefined;
    const items = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    return items.length === 0 && !spec.keepEmpty ? undefined : items;
  }
  if (!value) return undefined;
  if (spec.type === 'integer') return /^\d+$/.test(value) ? Number(value) : value;
  if (spec.type === 'choice') return value.toLowerCase();
  if (spec.type === 'boolean') {
    const word = value.toLowerCase();
    return TRUE_WORDS.includes(word) ? true : FALSE_WORDS.includes(word) ? false : value;
  }
  return value;
}

/** The JSON Schema of one variable (its description included, for tools that read it). */
function jsonSchemaOf(spec: EnvVar): Record<string, unknown> {
  const description = spec.doc;
  switch (spec.type) {
    case 'integer':
      return { type: 'integer', minimum: spec.min, maximum: spec.max, description };
    case 'boolean':
      return { type: 'boolean', description };
    case 'choice':
      return { type: 'string', enum: spec.allowed, description };
    case 'text': {
      const { minLength, pattern } = spec;
      return {
        type: 'string',
        description,
        ...(minLength ? { minLength } : {}),
        ...(pattern ? { pattern } : {}),
      };
    }
    case 'list': {
      const { itemMinLength: minLength, itemPattern: pattern } = spec;
      const items = { type: 'string', ...(minLength ? { minLength } : {}), ...(pattern ? { pattern } : {}) };
      return { type: 'array', items, description };
    }
  }
}

/** The schema env-schema validates the typed environment by, and the ajv that compiled it. */
let compiled: { schema: Record<string, unknown>; ajv: Ajv } | undefined;

/**
 * Made on the first read, then kept: ajv caches the compiled schema per instance, and a fresh one per
 * read (env-schema's own) costs tens of milliseconds. Typed by `normalize`, so ajv must not coerce
 * ("1e3" or "0x10" would pass as whole numbers) nor fill defaults (production changes some).
 */
function collectorJsonSchema(): { schema: Record<string, unknown>; ajv: Ajv } {
  if (compiled) return compiled;
  const entries = Object.entries(COLLECTOR_ENV) as [EnvName, EnvVar][];
  const schema = {
    type: 'object',
    properties: Object.fromEntries(entries.map(([name, spec]) => [name, jsonSchemaOf(spec)])),
  };
  const ajv = new Ajv({ allErrors: false, coerceTypes: false, useDefaults: false, removeAdditional: true });
  compiled = { schema, ajv };
  return compiled;
}

const quoted = (words: readonly string[]) => words.map((w) => `"${w}"`).join(' or ');

/** What is wrong with a variable, in the words of the old hand-written checks. */
function problemOf(spec: EnvVar, error: ErrorObject, value: unknown, item: string | undefined): string {
  const got = String(value);
  if (item !== undefined && spec.type === 'list') {
    return spec.itemProblem?.(item) ?? `has an entry that is not ${spec.form ?? 'allowed'}: "${item}"`;
  }
  switch (error.keyword) {
    case 'type':
      if (spec.type === 'integer') return `must be a whole number, got "${got}"`;
      if (spec.type === 'boolean') return `must be true or false, got "${got}"`;
      return `must be ${spec.type === 'list' ? 'a list' : 'text'}`;
    case 'minimum':
    case 'maximum':
      return spec.type === 'integer'
        ? `must be between ${spec.min} and ${spec.max}, got ${got}`
        : error.message!;
    case 'enum': {
      const allowed = spec.type === 'choice' ? spec.allowed : [];
      return allowed.length === 2
        ? `must be ${quoted(allowed)}, got "${got}"`
        : `must be one of ${allowed.join(', ')}; got "${got}"`;
    }
    case 'minLength':
      return `must be at least ${error.params.limit} characters, got ${got.length}`;
    case 'pattern':
      return spec.type === 'text' && spec.problem ? spec.problem(got) : 'is not in the allowed form';
    default:
      return spec.secret ? 'is not allowed' : `is not allowed: "${got}"`;
  }
}

/** The first ajv error as the ConfigError naming its variable. */
function configErrorOf(error: ErrorObject, data: Record<string, unknown>): ConfigError {
  const [, name = '', index] = error.instancePath.split('/');
  const spec = (COLLECTOR_ENV as Record<string, EnvVar>)[name];
  if (!spec) return new ConfigError(name || 'environment', error.message ?? 'is not allowed');
  const value = data[name];
  const item = index === undefined ? undefined : (value as string[])[Number(index)];
  return new ConfigError(name, problemOf(spec, error, value, item));
}

/** The default of a variable, production's where it has one. */
function defaultOf(spec: EnvVar, production: boolean): unknown {
  if (production && 'productionDefault' in spec) return spec.productionDefault;
  return 'default' in spec ? spec.default : undefined;
}

/**
 * The environment read by the schema, defaults applied. Throws a {@link ConfigError} naming the first
 * bad variable, in the schema's order.
 *
 * @example
 * readEnv({ PORT: '8081' }).PORT; // 8081
 */
export function readEnv(env: Env): EnvValues {
  const entries = Object.entries(COLLECTOR_ENV) as [EnvName, EnvVar][];
  const data: Record<string, unknown> = {};
  for (const [name, spec] of entries) {
    const value = normalize(spec, env[name]);
    if (value !== undefined) data[name] = value;
  }
  try {
    envSchema({ ...collectorJsonSchema(), data, env: false });
  } catch (err) {
    const errors = (err as { errors?: ErrorObject[] }).errors;
    if (!errors?.[0]) throw err;
    throw configErrorOf(errors[0], data);
  }
  const production = data.NODE_ENV === 'production';
  const values = Object.fromEntries(
    entries.map(([name, spec]) => [name, data[name] ?? defaultOf(spec, production)]),
  );
  return Object.freeze(values) as EnvValues;
}
