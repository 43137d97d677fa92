/**
 * Automatic page views in a single-page app. Where the Navigation API exists, one listener on
 * `navigation` does it all; its `currententrychange` event is used rather than `navigate` because it
 * fires after the URL has changed, and only for navigations inside this document (a `navigate` that
 * leaves the page, or is cancelled, must not count). Elsewhere `history.pushState`/`replaceState` are
 * wrapped and `popstate` is listened to: the one global the SDK touches, and only while tracking runs.
 */

interface NavigationLike {
  addEventListener(type: string, listener: () => void, options: { signal: AbortSignal }): void;
}

/**
 * Calls `onChange` after every client-side navigation until `signal` aborts. Aborting removes the
 * listeners; a history wrapper becomes a pass-through instead of being restored, because a router or
 * another tool may have wrapped it after us and restoring would drop theirs.
 */
export function trackPages(onChange: () => void, signal: AbortSignal): void {
  const g = globalThis as typeof globalThis & { navigation?: NavigationLike };
  const navigation = g.navigation;
  if (typeof navigation?.addEventListener === 'function') {
    navigation.addEventListener('currententrychange', onChange, { signal });
    return;
  }
  const history = g.history;
  for (const method of ['pushState', 'replaceState'] as const) {
    const original = history[method];
    history[method] = function (this: History, ...args: Parameters<History['pushState']>) {
      original.apply(this, args);
      if (!signal.aborted) onChange();
    };
  }
  g.addEventListener('popstate', onChange, { signal });
}
