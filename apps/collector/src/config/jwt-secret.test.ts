import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './collector-config.js';

function errorOf(env: Record<string, string>): unknown {
  try {
    loadConfig(env);
  } catch (err) {
    return err;
  }
  return null;
}

describe('JWT_SECRET length', () => {
  it('refuses a JWT_SECRET shorter than 32 characters, naming it', () => {
    const err = errorOf({ JWT_SECRET: 'x'.repeat(31) });
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe('JWT_SECRET');
    expect((err as Error).message).toMatch(/JWT_SECRET.*at least 32 characters, got 31/);
  });

  it('accepts a JWT_SECRET of exactly 32 characters as an HS256 key', () => {
    const config = loadConfig({ JWT_SECRET: 's'.repeat(32) });
    expect(config.jwt).toEqual({ kind: 'secret', secret: 's'.repeat(32), algorithm: 'HS256' });
  });

  it('counts the secret without surrounding blanks', () => {
    const err = errorOf({ JWT_SECRET: `  ${'y'.repeat(20)}          ` });
    expect((err as ConfigError).variable).toBe('JWT_SECRET');
  });
});
