/**
 * The shape of one environment variable in the collector's schema (`env-schema.ts`): its type, default,
 * allowed values, one-line description, group and production rule. The reader validates by it, and
 * scripts/config-docs.mjs writes `.env.example`, the README tables and turbo's pass-through list from it.
 */

/** The sections of `.env.example` and the README table, in their order. */
export const ENV_GROUPS = {
  server: 'Server',
  store: 'Store and queue (Redis)',
  database: 'Database (Postgres)',
  identify: 'Identify (JWT): set exactly one key source',
  admin: 'Admin API',
  rollups: 'Roll-ups',
  retention: 'Retention',
  metrics: 'Metrics',
  browser: 'Browser clients',
  identity: 'Identity: fingerprint joins and bots',
  sessions: 'Sessions and limits',
  development: 'Development',
} as const;

/** What every variable says about itself, whatever its type. */
interface EnvVarBase {
  readonly group: keyof typeof ENV_GROUPS;
  /** One line, Markdown (backticks and links to the collector README's sections). */
  readonly doc: string;
  /** What an unset variable means when it has no default value (e.g. "embedded store"). */
  readonly unset?: string;
  /** A token, a key or a URL that may carry a password: never echoed in an error. */
  readonly secret?: true;
  /** What `NODE_ENV=production` changes for it (a refusal, a requirement), for the docs. */
  readonly production?: string;
  /** Among the few the root README lists as the ones to set first. */
  readonly essential?: true;
}

/** A whole number in [min, max]. */
export interface IntegerVar extends EnvVarBase {
  readonly type: 'integer';
  readonly min: number;
  readonly max: number;
  readonly default?: number;
}

/** `true/false`, `1/0`, `on/off`, `yes/no`, in any case. */
export interface BooleanVar extends EnvVarBase {
  readonly type: 'boolean';
  readonly default: boolean;
  /** The default with `NODE_ENV=production`, when it differs. */
  readonly productionDefault?: boolean;
}

/** One word of `allowed`, in any case. */
export interface ChoiceVar extends EnvVarBase {
  readonly type: 'choice';
  readonly allowed: readonly string[];
  readonly default: string;
  readonly productionDefault?: string;
}

/** Free text, checked by length or a pattern; parsers in `structured-values.ts` read the rest. */
export interface TextVar extends EnvVarBase {
  readonly type: 'text';
  readonly default?: string;
  readonly minLength?: number;
  readonly pattern?: string;
  /** The error for a value the pattern refuses (never echoing a secret). */
  readonly problem?: (value: string) => string;
  /** The accepted form, for the docs (e.g. "`redis://` or `rediss://` URL"). */
  readonly form?: string;
}

/** Comma-separated entries, blanks around them removed. */
export interface ListVar extends EnvVarBase {
  readonly type: 'list';
  readonly default?: readonly string[];
  /** Set but empty is an empty list rather than unset. */
  readonly keepEmpty?: true;
  readonly itemMinLength?: number;
  readonly itemPattern?: string;
  readonly itemProblem?: (item: string) => string;
  readonly form?: string;
}

/** One variable of the schema. */
export type EnvVar = IntegerVar | BooleanVar | ChoiceVar | TextVar | ListVar;

/** The value a variable is read as. */
type ValueOf<V> = V extends IntegerVar
  ? number
  : V extends BooleanVar
    ? boolean
    : V extends { readonly type: 'choice'; readonly allowed: readonly (infer C)[] }
      ? C
      : V extends ListVar
        ? readonly string[]
        : string;

/** The value, or undefined for a variable without a default. */
export type ReadValue<V> = V extends { readonly default: unknown } ? ValueOf<V> : ValueOf<V> | undefined;

/** A token or secret: at least 32 characters (256 bits of a random one), never echoed. */
export const TOKEN = { type: 'text', minLength: 32, secret: true, form: 'at least 32 characters' } as const;

/** A switch spelled `on`/`off`, on by default. */
export const ON_OFF = { type: 'choice', allowed: ['on', 'off'], default: 'on' } as const;

/** The upper bound of counts that have no natural one. */
export const MANY = 10_000_000;
