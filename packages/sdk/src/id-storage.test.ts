// @vitest-environment happy-dom
import { STORAGE_KEY } from '@devicelink/protocol';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createIdStorage, ID_KEY } from './id-storage.js';

const ID = 'a1b2c3d4e5f6a7b8c9d0e1';

/** Replaces `window.localStorage` with `value` (a getter that may throw) for one test. */
function replaceLocalStorage(get: () => unknown): () => void {
  const original = Object.getOwnPropertyDescriptor(window, 'localStorage');
  Object.defineProperty(window, 'localStorage', { configurable: true, get });
  return () => Object.defineProperty(window, 'localStorage', original!);
}

describe('id storage', () => {
  beforeEach(() => localStorage.clear());
  afterEach(() => localStorage.clear());

  test('the id is kept in localStorage under devicelink:device-id and read back', () => {
    expect(ID_KEY).toBe(STORAGE_KEY);
    expect(createIdStorage().set(ID_KEY, ID)).toBe(true);
    expect(localStorage.getItem('devicelink:device-id')).toBe(ID);
    expect(createIdStorage().get(ID_KEY)).toBe(ID);
  });

  test('remove removes every key it is given', () => {
    const storage = createIdStorage();
    storage.set('a', '1');
    storage.set('b', '2');
    storage.remove('a', 'b');
    expect([storage.get('a'), storage.get('b')]).toEqual([null, null]);
  });

  test('blocked localStorage (reading the property throws) is a miss and a refused write, never an error', () => {
    const restore = replaceLocalStorage(() => {
      throw new DOMException('The operation is insecure.', 'SecurityError');
    });
    try {
      const storage = createIdStorage();
      expect(storage.get(ID_KEY)).toBeNull();
      expect(storage.set(ID_KEY, ID)).toBe(false);
      expect(() => storage.remove(ID_KEY)).not.toThrow();
    } finally {
      restore();
    }
  });

  test('a localStorage whose methods throw refuses writes without an error', () => {
    const fail = () => {
      throw new Error('storage disabled');
    };
    const restore = replaceLocalStorage(() => ({ getItem: fail, setItem: fail, removeItem: fail }));
    try {
      const storage = createIdStorage();
      expect(storage.get(ID_KEY)).toBeNull();
      expect(storage.set(ID_KEY, ID)).toBe(false);
    } finally {
      restore();
    }
  });

  test('a full localStorage (setItem throws QuotaExceededError) refuses the write', () => {
    const restore = replaceLocalStorage(() => ({
      getItem: () => null,
      setItem: () => {
        throw new DOMException('quota', 'QuotaExceededError');
      },
      removeItem: () => {},
    }));
    try {
      expect(createIdStorage().set(ID_KEY, ID)).toBe(false);
    } finally {
      restore();
    }
  });

  test('a localStorage that silently drops writes (setItem returns, nothing kept) refuses the write', () => {
    const restore = replaceLocalStorage(() => ({
      getItem: () => null,
      setItem: () => {},
      removeItem: () => {},
    }));
    try {
      expect(createIdStorage().set(ID_KEY, ID)).toBe(false);
    } finally {
      restore();
    }
  });
});
