/**
 * The README's examples are files the tests use as printed: the host app (`host-app.example.ts`, run by
 * the persister's tests, which have Postgres) and the shop API (`shop-api.example.ts`, type-checked with
 * this package by `tsc`, its imports by package name as a host app writes them).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
const file = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

describe('the fastify README', () => {
  it('shows the host app as its first example, verbatim', () => {
    expect(blocks[0]).toBe(file('../../persister/test/host-app.example.ts'));
  });

  it('shows the shop API under "More of the plugin", verbatim', () => {
    const more = readme.slice(readme.indexOf('## More of the plugin'));
    expect(/```ts\n([\s\S]*?)```/.exec(more)?.[1]).toBe(file('./shop-api.example.ts'));
  });

  it('trusts proxies by address and never by a hop count, which it refuses', () => {
    expect(readme).not.toMatch(/trustProxy: \d/);
  });
});
