import { describe, expect, it } from 'vitest';
import {
  DeviceLinkError,
  DeviceLinkOptionsError,
  DeviceLinkPluginError,
  DeviceLinkUsageError,
  isDeviceLinkError,
  isDeviceLinkPluginError,
} from './errors.js';

describe('isDeviceLinkPluginError', () => {
  it('recognises the base class and every subclass, including ones defined elsewhere', () => {
    class StoreSpecificError extends DeviceLinkPluginError {
      override name = 'StoreSpecificError';
    }
    expect(isDeviceLinkPluginError(new DeviceLinkPluginError('x'))).toBe(true);
    expect(isDeviceLinkPluginError(new DeviceLinkOptionsError('cookie', 'is wrong'))).toBe(true);
    expect(isDeviceLinkPluginError(new DeviceLinkUsageError('x'))).toBe(true);
    expect(isDeviceLinkPluginError(new StoreSpecificError('x'))).toBe(true);
  });

  it('recognises a copy by its name, where instanceof fails', () => {
    const copy = Object.assign(new Error('from another copy'), { name: 'DeviceLinkOptionsError' });
    expect(copy instanceof DeviceLinkPluginError).toBe(false);
    expect(isDeviceLinkPluginError(copy)).toBe(true);
  });

  it('keeps the names before the rename for one release, and knows an older copy by its base name', () => {
    expect(DeviceLinkError).toBe(DeviceLinkPluginError);
    expect(isDeviceLinkError).toBe(isDeviceLinkPluginError);
    const older = Object.assign(new Error('from a 0.1 copy'), { name: 'DeviceLinkError' });
    expect(isDeviceLinkPluginError(older)).toBe(true);
  });

  it('is false for other errors and non-errors', () => {
    for (const v of [
      new Error('x'),
      new TypeError('x'),
      null,
      undefined,
      'DeviceLinkPluginError',
      { name: 1 },
    ]) {
      expect(isDeviceLinkPluginError(v)).toBe(false);
    }
  });

  it('names the option and keeps the cause', () => {
    const err = new DeviceLinkOptionsError('cookie.sameSite', 'must be one of lax, strict, none');
    expect(err.message).toBe(
      '@devicelink/fastify: option "cookie.sameSite" must be one of lax, strict, none',
    );
    expect(err.option).toBe('cookie.sameSite');
    const cause = new Error('inner');
    expect(new DeviceLinkPluginError('outer', { cause }).cause).toBe(cause);
  });
});
