/**
 * The read API of the collector, called with the token as a bearer header. The token lives in this
 * tab's sessionStorage only: never in a URL (no query parameter, no fragment), never in a cookie.
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

/** One bucket of `GET /v1/admin/insights/timeseries`. */
export interface SeriesPoint {
  start: string;
  local: string;
  pageViewsAnonymous: number;
  pageViewsSignedIn: number;
  sessions: number;
  convertedSessions: number;
  conversionRate: number | null;
}

export interface HistogramBin {
  lower: number;
  upper: number | null;
  count: number;
}

export interface ConversionFigures {
  sessionsStarted: number;
  convertedSessions: number;
  conversionRate: number | null;
  timeToConvert: HistogramBin[];
  viewsBeforeConversion: HistogramBin[];
}

export interface EntryRow {
  key: string;
  convertedSessions: number;
  sessions: number;
  conversionRate: number | null;
}

export interface TopRow {
  key: string;
  pageViews: number;
}

export interface IdentityFigures {
  devices: number;
  users: number;
  devicesPerUser: HistogramBin[];
  cookieEdges: number;
  fingerprintJoins: { standing: number; revoked: number } | null;
  sharedFingerprints: number | null;
  serverMadeIds: number;
  edgeSource: string;
}

export interface JourneyPage {
  userId: string;
  sessions?: {
    sessionId: string;
    deviceId: string;
    firstSeen: string;
    pageViews: number;
    convertedAt: string | null;
    inferred: boolean;
  }[];
  links?: { deviceId: string; linkedAt: string }[];
  steps: {
    eventId: string;
    at: string;
    url: string;
    referrer: string | null;
    deviceId: string | null;
    sessionId: string | null;
    signedIn: boolean;
  }[];
  nextCursor: string | null;
}

export interface DeviceDetail {
  deviceId: string;
  persisted: {
    firstSeen: string | null;
    lastSeen: string | null;
    pageViews: number;
    sessions: {
      id: string;
      firstSeen: string;
      pageViews: number;
      convertedUserId: string | null;
      source: string;
    }[];
  };
  links: { userId: string; linkedAt: string }[];
  /** Edges naming the device, as stored (docs/protocol.md, Edges). */
  edges: {
    deviceId: string;
    otherId: string;
    kind: 'cookie' | 'yield' | 'join';
    inferred: boolean;
    firstSeen: string;
  }[];
  /** The ids of the device's browser, resolved to the earliest seen id. */
  browser: {
    canonicalId: string;
    devices: { deviceId: string; inferred: boolean; firstSeen: string | null }[];
  };
}
