import { describe, expect, it } from 'vitest';
import {
  DeviceLinkError,
  DeviceLinkOptionsError,
  DeviceLinkUsageError,
  isDeviceLinkError,
} from './errors.js';

describe('isDeviceLinkError', () => {
  it('recognises the base class and every subclass, including ones defined elsewhere', () => {
    class StoreSpecificError extends DeviceLinkError {
      override name = 'StoreSpecificError';
    }
    expect(isDeviceLinkError(new DeviceLinkError('x'))).toBe(true);
    expect(isDeviceLinkError(new DeviceLinkOptionsError('cookie', 'is wrong'))).toBe(true);
    expect(isDeviceLinkError(new DeviceLinkUsageError('x'))).toBe(true);
    expect(isDeviceLinkError(new StoreSpecificError('x'))).toBe(true);
  });

  it('recognises a copy by its name, where instanceof fails', () => {
    const copy = Object.assign(new Error('from another copy'), { name: 'DeviceLinkOptionsError' });
    expect(copy instanceof DeviceLinkError).toBe(false);
    expect(isDeviceLinkError(copy)).toBe(true);
  });

  it('is false for other errors and non-errors', () => {
    for (const v of [new Error('x'), new TypeError('x'), null, undefined, 'DeviceLinkError', { name: 1 }]) {
      expect(isDeviceLinkError(v)).toBe(false);
    }
  });

  it('names the option and keeps the cause', () => {
    const err = new DeviceLinkOptionsError('cookie.sameSite', 'must be one of lax, strict, none');
    expect(err.message).toBe(
      '@devicelink/fastify: option "cookie.sameSite" must be one of lax, strict, none',
    );
    expect(err.option).toBe('cookie.sameSite');
    const cause = new Error('inner');
    expect(new DeviceLinkError('outer', { cause }).cause).toBe(cause);
  });
});
