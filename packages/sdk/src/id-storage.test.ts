// @vitest-environment happy-dom
import { STORAGE_KEY } from '@devicelink/protocol';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createIdStorage } from './id-storage.js';

const ID = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6';

/** Replaces `window.localStorage` with `value` (a getter that may throw) for one test. */
function replaceLocalStorage(get: () => unknown): () => void {
  const original = Object.getOwnPropertyDescriptor(window, 'localStorage');
  Object.defineProperty(window, 'localStorage', { configurable: true, get });
  return () => Object.defineProperty(window, 'localStorage', original!);
}

describe('id storage', () => {
  beforeEach(() => localStorage.clear());
  afterEach(() => localStorage.clear());

  test('a written id is kept in localStorage under devicelink:device-id and read back', () => {
    createIdStorage().write(ID);
    expect(localStorage.getItem(STORAGE_KEY)).toBe(ID);
    expect(createIdStorage().read()).toBe(ID);
  });

  test('a junk or malformed stored value reads as no id', () => {
    for (const junk of [
      'null',
      'undefined',
      '[object Object]',
      '0000000000000000',
      'short',
      'has spaces in it!!',
    ]) {
      localStorage.setItem(STORAGE_KEY, junk);
      expect(createIdStorage().read()).toBeNull();
    }
  });

  test('clear removes the stored id', () => {
    const storage = createIdStorage();
    storage.write(ID);
    storage.clear();
    expect(localStorage.getItem(STORAGE_KEY)).toBeNull();
    expect(storage.read()).toBeNull();
  });

  test('blocked localStorage (reading the property throws) falls back to memory without an error', () => {
    const restore = replaceLocalStorage(() => {
      throw new DOMException('The operation is insecure.', 'SecurityError');
    });
    try {
      const storage = createIdStorage();
      expect(storage.read()).toBeNull();
      expect(() => storage.write(ID)).not.toThrow();
      expect(storage.read()).toBe(ID);
      expect(() => storage.clear()).not.toThrow();
    } finally {
      restore();
    }
  });

  test('a localStorage whose methods throw falls back to memory without an error', () => {
    const fail = () => {
      throw new Error('storage disabled');
    };
    const restore = replaceLocalStorage(() => ({ getItem: fail, setItem: fail, removeItem: fail }));
    try {
      const storage = createIdStorage();
      expect(storage.read()).toBeNull();
      storage.write(ID);
      expect(storage.read()).toBe(ID);
    } finally {
      restore();
    }
  });

  test('a full localStorage (setItem throws QuotaExceededError) keeps the id in memory', () => {
    const restore = replaceLocalStorage(() => ({
      getItem: () => null,
      setItem: () => {
        throw new DOMException('quota', 'QuotaExceededError');
      },
      removeItem: () => {},
    }));
    try {
      const storage = createIdStorage();
      expect(() => storage.write(ID)).not.toThrow();
      expect(storage.read()).toBe(ID);
    } finally {
      restore();
    }
  });
});
