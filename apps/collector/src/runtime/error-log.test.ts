import { describe, expect, it } from 'vitest';
import { errorLogSerializer } from './error-log.js';

describe('errorLogSerializer', () => {
  it('keeps type, code, message, stack and the cause’s message, never a command’s arguments or a row’s values', () => {
    const device = 'dev-secret-0123456789abcdef';
    const err = Object.assign(new Error('Command timed out', { cause: new Error('socket hang up') }), {
      code: 'ETIMEDOUT',
      command: { name: 'evalsha', args: ['sha', '10', `dl:{p3}:s:${device}`] },
      detail: `Key (device_id)=(${device}) already exists.`,
      parameters: [device],
    });
    const logged = errorLogSerializer(err);
    expect(logged).toMatchObject({
      type: 'Error',
      code: 'ETIMEDOUT',
      message: 'Command timed out',
      cause: 'socket hang up',
    });
    expect(logged.stack).toContain('Command timed out');
    expect(JSON.stringify(logged)).not.toContain(device);
  });

  it('passes a summary that is not an Error through', () => {
    const summary = { code: 'DL_STORE_UNAVAILABLE', cause: 'no answer in 500 ms' };
    expect(errorLogSerializer(summary as unknown as Error)).toBe(summary);
  });
});
