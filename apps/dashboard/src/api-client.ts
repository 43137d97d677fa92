/**
 * The read API of the collector, called with the token as a bearer header. The token lives in this
 * tab's sessionStorage only: never in a URL (no query parameter, no fragment), never in a cookie. The
 * answers' types come from the collector's own response schemas (`@devicelink/protocol`, read-api).
 */
const TOKEN_KEY = 'devicelink:dashboard-token';

/** An answer other than 2xx, with the collector's message. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The token of this tab, or null. */
export function storedToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** Keeps (or, with null, forgets) the token for this tab. */
export function storeToken(token: string | null): void {
  try {
    if (token === null) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Storage blocked: the token lives in memory for this page only.
  }
}

/** A client of the read routes with one token. */
export class Api {
  constructor(readonly token: string) {}

  /** GETs `path` with `query`; rejects with an {@link ApiError} on any answer but 2xx. */
  async get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    let res: Response;
    try {
      res = await fetch(`${path}${qs ? `?${qs}` : ''}`, {
        headers: { authorization: `Bearer ${this.token}`, accept: 'application/json' },
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch {
      throw new ApiError(0, 'the collector cannot be reached');
    }
    if (!res.ok) {
      let message = `${res.status} ${res.statusText}`;
      try {
        const body = (await res.json()) as { message?: unknown };
        if (typeof body.message === 'string') message = body.message;
      } catch {
        // not JSON: keep the status line
      }
      throw new ApiError(res.status, message);
    }
    return (await res.json()) as T;
  }
}
