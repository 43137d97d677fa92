/**
 * Automatic page views in a single-page app. Where the Navigation API exists, one listener on
 * `navigation` does it all; its `currententrychange` event is used rather than `navigate` because it
 * fires after the URL has changed, and only for navigations inside this document (a `navigate` that
 * leaves the page, or is cancelled, must not count). Elsewhere `history.pushState`/`replaceState` are
 * wrapped and `popstate` is listened to: the one global the SDK touches, and only while tracking runs.
 */

interface NavigationLike {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

/**
 * Calls `onChange` after every client-side navigation until the returned function is called.
 * Stopping removes the listeners; a history wrapper becomes a pass-through instead of being restored,
 * because a router or another tool may have wrapped it after us and restoring would drop theirs.
 */
export function trackPages(onChange: () => void): () => void {
  const g = globalThis as typeof globalThis & { navigation?: NavigationLike };
  const navigation = g.navigation;
  if (typeof navigation?.addEventListener === 'function') {
    navigation.addEventListener('currententrychange', onChange);
    return () => navigation.removeEventListener('currententrychange', onChange);
  }
  let active = true;
  const history = g.history;
  for (const method of ['pushState', 'replaceState'] as const) {
    const original = history[method];
    history[method] = function (this: History, ...args: Parameters<History['pushState']>) {
      original.apply(this, args);
      if (active) onChange();
    };
  }
  g.addEventListener('popstate', onChange);
  return () => {
    active = false;
    g.removeEventListener('popstate', onChange);
  };
}
