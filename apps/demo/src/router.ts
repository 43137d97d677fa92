/**
 * Three client-side routes under the demo's base path, navigated with `history.pushState`. The SDK sees
 * every navigation by itself (Navigation API or its history wrapper); the router only renders.
 */

/** A page of the demo. */
export interface Route {
  /** Path relative to the base path: '' for the home page. */
  path: string;
  title: string;
}

/** The demo's pages, in menu order. */
const ROUTES: readonly Route[] = [
  { path: '', title: 'Home' },
  { path: 'pricing', title: 'Pricing' },
  { path: 'about', title: 'About' },
];

/** The route open at `pathname` under `basePath`; the home page for anything unknown. */
function routeAt(pathname: string, basePath: string): Route {
  const rest = pathname.startsWith(basePath) ? pathname.slice(basePath.length) : '';
  return ROUTES.find((r) => r.path === rest.replace(/\/+$/, '')) ?? ROUTES[0]!;
}

/**
 * Makes same-document links (`a[data-route]`) navigate without a reload and calls `render` after every
 * navigation, including back and forward. The query string is kept, so `?collector=` survives.
 */
export function startRouter(basePath: string, render: (route: Route) => void): void {
  document.addEventListener('click', (event) => {
    const link = (event.target as Element | null)?.closest?.('a[data-route]');
    if (!(link instanceof HTMLAnchorElement) || event.button !== 0 || event.metaKey || event.ctrlKey) return;
    event.preventDefault();
    navigate(basePath + (link.dataset.route ?? ''), basePath, render);
  });
  window.addEventListener('popstate', () => render(routeAt(location.pathname, basePath)));
  render(routeAt(location.pathname, basePath));
}

/** Opens `pathname` (keeping the query string) unless it is already open. */
function navigate(pathname: string, basePath: string, render: (route: Route) => void): void {
  if (pathname !== location.pathname) history.pushState(null, '', pathname + location.search);
  render(routeAt(location.pathname, basePath));
}
