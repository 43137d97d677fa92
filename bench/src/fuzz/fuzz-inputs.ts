/**
 * What the fuzz run sends: values drawn from the collector's own OpenAPI schemas (valid, at the
 * boundaries, and invalid), hostile strings and numbers, JSON bodies that carry what `JSON.stringify`
 * cannot (1e309, -0, raw text), and JWTs signed with the collector's secret (valid, expired,
 * wrong-key, garbage). Values come from fast-check arbitraries, sampled in batches with a seed.
 */
import { createHmac, randomBytes, randomInt, randomUUID } from 'node:crypto';
import { uuidv7 } from '@devicelink/protocol';
import fc from 'fast-check';

/** The part of a JSON schema the collector's routes use. */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  default?: unknown;
}

/**
 * A number JSON.stringify cannot write (1e309, -0, 1e400, 0.1e-400): placed in a value, written
 * verbatim by {@link toJsonText}.
 */
export class RawNumber {
  constructor(readonly text: string) {}
  toJSON(): string {
    return `\u0000RAW${Buffer.from(this.text).toString('base64url')}\u0000`;
  }
}

/** JSON text of `value`, with every {@link RawNumber} written as its raw text. */
export function toJsonText(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return '';
  return text.replace(/"\\u0000RAW([A-Za-z0-9_-]*)\\u0000"/g, (_, b: string) =>
    Buffer.from(b, 'base64url').toString(),
  );
}

/** Single characters and short strings that have broken parsers, stores and databases elsewhere. */
const HOSTILE_PIECES = [
  '\ud800', // lone high surrogate
  '\udfff', // lone low surrogate
  '\udc00\ud800', // reversed pair
  '\u0000', // NUL (Postgres text refuses it)
  '\ufffd', // replacement character
  '\ufeff', // BOM
  '\u202e', // right-to-left override
  '\u2066', // isolate
  '\u061c', // Arabic letter mark
  '\u200b', // zero-width space
  '\u2028', // line separator
  '\u{e0041}\u{e007f}', // tag characters
  '\u{1f600}', // 4-byte character
  '\u{10ffff}', // last code point
  '\r\n', // header splitting
  '\u0085', // next line
  '%00',
  '%ud800',
  '%',
  '\\',
  "'; drop table page_views; --",
  '<script>alert(1)</script>',
  '../../../etc/passwd',
  '=HYPERLINK("http://x")',
  '__proto__',
  'constructor',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4j lookup, sent as text
  '${jndi:ldap://x}',
  ' ',
  '',
];

/** A hostile string: pieces around ordinary text, sometimes at or over a length limit. */
export function hostileString(maxLength?: number): fc.Arbitrary<string> {
  const piece = fc.constantFrom(...HOSTILE_PIECES);
  const mixed = fc
    .array(fc.oneof(piece, fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 4 })), {
      minLength: 1,
      maxLength: 6,
    })
    .map((parts) => parts.join(''));
  const long = fc
    .tuple(piece, fc.constantFrom(0, 1, -1), fc.constantFrom('a', '\u{1f600}', '\ud800', 'é'))
    .map(([p, delta, fill]) => {
      const target = Math.max(1, (maxLength ?? 2048) + delta);
      // Fill by UTF-16 units: a 4-byte character counts twice, as the collector's limits count.
      return (p + fill.repeat(Math.ceil(target / fill.length))).slice(0, target);
    });
  const huge = fc.constantFrom(70_000, 300_000).map((n) => 'x'.repeat(n));
  return fc.oneof(
    { arbitrary: mixed, weight: 6 },
    { arbitrary: long, weight: 3 },
    { arbitrary: piece, weight: 2 },
    { arbitrary: huge, weight: 1 },
  );
}

/** Numbers at and past the edges, and ones JSON has no way to write exactly. */
function hostileNumber(schema: JsonSchema = {}): fc.Arbitrary<unknown> {
  const edges: unknown[] = [
    0,
    -1,
    1,
    2 ** 31,
    2 ** 53,
    -(2 ** 53),
    0.5,
    Number.MAX_VALUE,
    8.64e15,
    8.64e15 + 1,
  ];
  if (schema.minimum !== undefined) edges.push(schema.minimum, schema.minimum - 1, schema.minimum - 0.5);
  if (schema.maximum !== undefined) edges.push(schema.maximum, schema.maximum + 1, schema.maximum + 0.5);
  return fc.oneof(
    fc.constantFrom(...edges),
    fc
      .constantFrom('1e309', '-1e309', '-0', '1e-400', '0x10', '1_000', '00012', '9'.repeat(400))
      .map((t) => new RawNumber(t)),
    fc.double(),
  );
}

/** Something of the wrong type for `schema`. */
function wrongType(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.string({ maxLength: 5 }),
    fc.constant([]),
    fc.constant([1, 'a']),
    fc.constant({}),
    fc.constant({ __proto__: { polluted: true } }),
  );
}

/** A valid value of `schema`, biased towards its boundaries. */
function validArb(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string': {
      if (schema.format === 'uuid')
        return fc.oneof(
          fc.constant(null).map(() => uuidv7()),
          fc.uuid(),
        );
      if (schema.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
      if (schema.pattern === '^[A-Za-z0-9_-]{16,64}$') return deviceIdArb();
      const min = schema.minLength ?? 0;
      const max = schema.maxLength ?? 64;
      return fc.oneof(
        fc.string({ minLength: min, maxLength: Math.min(max, 40) }),
        fc.string({ unit: 'binary', minLength: min, maxLength: Math.min(max, 40) }),
        fc.constant('a'.repeat(Math.max(min, Math.min(max, 100_000)))),
      );
    }
    case 'integer': {
      const min = schema.minimum ?? -(2 ** 31);
      const max = schema.maximum ?? 2 ** 31;
      return fc.oneof(fc.constantFrom(min, max), fc.integer({ min, max }));
    }
    case 'number': {
      const min = schema.minimum ?? -1e12;
      const max = schema.maximum ?? 1e12;
      return fc.oneof(fc.constantFrom(min, max), fc.double({ min, max, noNaN: true }));
    }
    case 'boolean':
      return fc.boolean();
    case 'array': {
      const min = schema.minItems ?? 0;
      const max = Math.min(schema.maxItems ?? 5, depth > 1 ? 3 : 8);
      const item = schema.items ? validArb(schema.items, depth + 1) : fc.anything();
      return fc.array(item, { minLength: min, maxLength: Math.max(min, max) });
    }
    case 'object': {
      const props = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, s] of Object.entries(props)) record[k] = fuzzArb(s, depth + 1);
      return fc.record(record, { requiredKeys: [...required].filter((k) => k in props) });
    }
    default:
      return fc.anything();
  }
}

/** Mostly valid values, with boundary, wrong-type and hostile ones mixed in. */
export function fuzzArb(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  const hostile =
    type === 'number' || type === 'integer' ? hostileNumber(schema) : hostileString(schema.maxLength);
  return fc.oneof(
    { arbitrary: validArb(schema, depth), weight: 6 },
    { arbitrary: hostile, weight: 3 },
    { arbitrary: wrongType(), weight: depth > 2 ? 0 : 1 },
  );
}

/** Object bodies: the schema's own, plus unknown and prototype keys, arrays for the object, nesting. */
export function bodyArb(schema: JsonSchema): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: validArb(schema), weight: 10 },
    {
      // A `__proto__` key, as JSON text (an object literal would set the prototype instead).
      arbitrary: validArb(schema).map((v) => {
        const inner = toJsonText(v);
        if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
        return new RawNumber(
          inner === '{}' ? '{"__proto__":{"x":1}}' : `{"__proto__":{"x":1},${inner.slice(1)}`,
        );
      }),
      weight: 1,
    },
    { arbitrary: fc.constant(null).map(() => deepNest(2000)), weight: 1 },
    { arbitrary: wrongType(), weight: 1 },
  );
}

function deepNest(n: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = [v];
  return { events: v };
}

/** A well-formed device id (16 to 64 of `[A-Za-z0-9_-]`). */
function deviceIdArb(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constant(null).map(() => newDeviceId()),
    fc.stringMatching(/^[A-Za-z0-9_-]{16,64}$/),
  );
}

/** A fresh device id like the SDK mints. */
export function newDeviceId(): string {
  return randomBytes(16).toString('base64url');
}

/** Well-formed and ill-formed device ids for headers, cookies, bodies and paths. */
export function deviceIdLikeArb(): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: deviceIdArb(), weight: 5 },
    { arbitrary: fc.constantFrom('a'.repeat(15), 'a'.repeat(65), 'a'.repeat(64), 'b'.repeat(16)), weight: 1 },
    { arbitrary: hostileString(64), weight: 2 },
  );
}

/**
 * `encodeURIComponent` that also writes lone surrogates (as the 3-byte sequences of WTF-8, which no
 * UTF-8 decoder accepts), where the built-in one throws.
 */
export function encodeAny(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) {
      out += [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)]
        .map((b) => `%${b.toString(16).toUpperCase()}`)
        .join('');
    } else out += encodeURIComponent(ch);
  }
  return out;
}

/** A UUID of version `version` with random bits (and, for 7, the time `ms`). */
function uuidOf(version: number, ms?: number): string {
  const b = randomBytes(16);
  if (ms !== undefined) {
    let t = BigInt(Math.max(0, Math.min(ms, 2 ** 48 - 1)));
    for (let i = 5; i >= 0; i--) {
      b[i] = Number(t & 0xffn);
      t >>= 8n;
    }
  }
  b[6] = (b[6]! & 0x0f) | (version << 4);
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * A fresh event id (unique: random bits), mostly a UUIDv7 of now; one in five dated oddly (1970, 2015,
 * 45 days ago, next year, the year 10889), of another version (4, 1, 6, 8, 0) or in capitals: page
 * views land in the month partitions, the default one or the undated one by the time inside.
 */
export function freshEventId(): string {
  if (Math.random() < 0.8) return uuidv7();
  const now = Date.now();
  const odd = [
    () => uuidOf(7, 0),
    () => uuidOf(7, Date.parse('2015-01-01')),
    () => uuidOf(7, now - 45 * 86_400_000),
    () => uuidOf(7, now + 400 * 86_400_000),
    () => uuidOf(7, 2 ** 48 - 1),
    () => randomUUID(),
    () => uuidOf(1),
    () => uuidOf(6),
    () => uuidOf(8),
    () => uuidOf(0),
    () => uuidv7().toUpperCase(),
  ];
  return odd[randomInt(0, odd.length)]!();
}

// ---- tokens

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** An HS256 JWT of `payload` signed with `key` (node:crypto HMAC, as any HS256 signer does). */
function signJwt(
  payload: Record<string, unknown>,
  key: string,
  header: Record<string, unknown> = {},
): string {
  const h = b64({ alg: 'HS256', typ: 'JWT', ...header });
  const p = b64(payload);
  return `${h}.${p}.${createHmac('sha256', key).update(`${h}.${p}`).digest('base64url')}`;
}

/** What the collector's JWT settings are in the run. */
export interface TokenSettings {
  secret: string;
  issuer: string;
  audience: string;
}

/** A valid token for `sub`. */
export function validToken(t: TokenSettings, sub: string, ttlSeconds = 3600): string {
  const now = Math.floor(Date.now() / 1000);
  return signJwt({ sub, iss: t.issuer, aud: t.audience, iat: now, exp: now + ttlSeconds }, t.secret);
}

/** Kinds of Authorization value the fuzz sends to user routes. */
export function authorizationArb(
  t: TokenSettings,
  subs: fc.Arbitrary<string>,
): fc.Arbitrary<string | undefined> {
  const now = () => Math.floor(Date.now() / 1000);
  const claims = fc.record({
    sub: fc.oneof({ arbitrary: subs, weight: 4 }, { arbitrary: fuzzArb({ type: 'string' }), weight: 1 }),
    iss: fc.oneof(fc.constant(t.issuer), fc.constant(t.issuer), fc.constant(undefined), hostileString(64)),
    aud: fc.oneof(
      fc.constant(t.audience),
      fc.constant(t.audience),
      fc.constant(undefined),
      fc.constant([t.audience, 'x']),
    ),
    expDelta: fc.oneof(
      fc.constant(3600),
      fc.constant(3600),
      fc.constant(-10),
      fc.constant(undefined),
      hostileNumber(),
    ),
    iatDelta: fc.oneof(fc.constant(0), fc.constant(0), fc.constant(86_400 * 365), hostileNumber()),
    nbfDelta: fc.oneof(fc.constant(undefined), fc.constant(undefined), fc.constant(600), fc.constant(-5)),
  });
  const num = (base: number, d: unknown) => (typeof d === 'number' ? base + d : d);
  const signed = fc
    .tuple(claims, fc.constantFrom('right', 'right', 'right', 'wrong', 'none', 'alg'))
    .map(([c, keyKind]) => {
      const n = now();
      const payload: Record<string, unknown> = {
        sub: c.sub,
        iss: c.iss,
        aud: c.aud,
        exp: c.expDelta === undefined ? undefined : num(n, c.expDelta),
        iat: num(n, c.iatDelta),
        nbf: c.nbfDelta === undefined ? undefined : n + c.nbfDelta,
      };
      const text = toJsonText(payload);
      const h = keyKind === 'alg' ? b64({ alg: 'HS512', typ: 'JWT' }) : b64({ alg: 'HS256', typ: 'JWT' });
      const p = Buffer.from(text).toString('base64url');
      if (keyKind === 'none') return `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${p}.`;
      const key = keyKind === 'wrong' ? `${t.secret}x` : t.secret;
      return `Bearer ${h}.${p}.${createHmac('sha256', key).update(`${h}.${p}`).digest('base64url')}`;
    });
  const garbage = fc.oneof(
    fc.constant('Bearer '),
    fc.constant('Bearer a.b.c'),
    fc.constant('Basic dXNlcjpwYXNz'),
    fc.constant(`Bearer ${'x'.repeat(9000)}`),
    fc.constant('bearer  e30.e30.'),
    hostileString(200).map((s) => `Bearer ${s}`),
  );
  return fc.oneof(
    { arbitrary: signed, weight: 6 },
    { arbitrary: garbage, weight: 2 },
    { arbitrary: fc.constant(undefined), weight: 3 },
  );
}

/**
 * Draws values of an arbitrary with fast-check, in batches: `next()` returns one, refilling the
 * batch with a new seed derived from the run's seed.
 */
export class Sampler<T> {
  private buffer: T[] = [];
  private round = 0;
  constructor(
    private readonly arb: fc.Arbitrary<T>,
    private readonly seed: number,
    private readonly batch = 64,
  ) {}
  next(): T {
    if (this.buffer.length === 0) {
      this.buffer = fc.sample(this.arb, { numRuns: this.batch, seed: (this.seed + this.round++ * 7919) | 0 });
    }
    return this.buffer.pop() as T;
  }
}
