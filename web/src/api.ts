/**
 * The one way the studio talks to the backend: the `/v1` API on the same origin.
 *
 * - Every request carries `Authorization: Bearer <Firebase ID token>`; the token is refreshed
 *   when it is within `refreshMarginMs` of expiry (so a request never leaves with a token that
 *   expires on the way), and once more after a 401 in case it was revoked and re-issued.
 * - A 503 is retried, waiting what `Retry-After` says, at most `maxAttempts` times and never
 *   longer than `maxRetryWaitMs` per wait; only requests that are safe to repeat are retried
 *   (reads, deletes, and submits carrying their Idempotency-Key).
 * - `submit()` sends one `Idempotency-Key` per call; its retries reuse it, so the server runs
 *   (and charges) it once however many times it goes out.
 * - Errors are `ApiError`s carrying the problem+json `code`, `detail` and `Retry-After`.
 */

export interface IdToken {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** Where ID tokens come from (Firebase's `getIdTokenResult` in the app, a fake in tests). */
export type TokenSource = (forceRefresh: boolean) => Promise<IdToken | null>;

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  request_id?: string;
  errors?: { field: string; message: string }[];
  reset_time?: string;
  [member: string]: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problem: Problem;
  /** Seconds from `Retry-After`, when the server sent one. */
  readonly retryAfter: number | null;

  constructor(status: number, problem: Problem, retryAfter: number | null) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = problem.code ?? (status === 0 ? "NETWORK" : "UNKNOWN");
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

export interface ApiOptions {
  baseUrl?: string;
  tokens: TokenSource;
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  newKey?: () => string;
  refreshMarginMs?: number;
  maxAttempts?: number;
  maxRetryWaitMs?: number;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  /** Repeatable without effect (reads, deletes, signing): 503s are retried. */
  idempotent?: boolean;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/** `Retry-After` as seconds: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null || value.trim() === "") return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

export class Api {
  private readonly baseUrl: string;
  private readonly tokens: TokenSource;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly newKey: () => string;
  private readonly refreshMarginMs: number;
  private readonly maxAttempts: number;
  private readonly maxRetryWaitMs: number;
  private cached: IdToken | null = null;

  constructor(options: ApiOptions) {
    this.baseUrl = options.baseUrl ?? "";
    this.tokens = options.tokens;
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.newKey = options.newKey ?? (() => crypto.randomUUID());
    this.refreshMarginMs = options.refreshMarginMs ?? 5 * 60_000;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.maxRetryWaitMs = options.maxRetryWaitMs ?? 10_000;
  }

  /** Forget the cached token (sign-out, or another user signed in). */
  reset(): void {
    this.cached = null;
  }

  /** A POST that creates or spends something: one Idempotency-Key for all its attempts. */
  submit<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    return this.request<T>(path, { method: "POST", body, idempotencyKey: this.newKey(), signal });
  }

  get<T>(path: string, query?: RequestOptions["query"], signal?: AbortSignal): Promise<T> {
    return this.request<T>(path, { query, idempotent: true, signal });
  }

  /** An open streaming response (Server-Sent Events): authenticated, never retried here. */
  async stream(path: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    const token = await this.token(false);
    const all: Record<string, string> = { Accept: "text/event-stream", ...headers };
    if (token !== null) all.Authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await this.fetchImpl(this.baseUrl + path, { headers: all, signal });
    } catch (cause) {
      if (signal?.aborted) throw cause;
      throw new ApiError(0, { detail: "The server could not be reached." }, null);
    }
    if (!response.ok) throw await this.error(response);
    return response;
  }

  async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const method = options.method ?? "GET";
    const repeatable =
      options.idempotent === true ||
      options.idempotencyKey !== undefined ||
      ["GET", "HEAD", "DELETE"].includes(method);
    let refreshedAfter401 = false;
    for (let attempt = 1; ; attempt++) {
      const token = await this.token(false);
      const response = await this.send(path, method, options, token);
      if (response.status === 401 && !refreshedAfter401) {
        refreshedAfter401 = true; // a token revoked or expired in flight: one fresh try
        await this.token(true);
        attempt--;
        continue;
      }
      if (response.ok) return (await this.body(response)) as T;
      const error = await this.error(response);
      const wait = error.retryAfter === null ? 1 : error.retryAfter;
      const retry =
        response.status === 503 &&
        repeatable &&
        attempt < this.maxAttempts &&
        wait * 1000 <= this.maxRetryWaitMs;
      if (!retry) throw error;
      await this.sleep(wait * 1000);
    }
  }

  private async send(
    path: string,
    method: string,
    options: RequestOptions,
    token: string | null,
  ): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    if (options.idempotencyKey !== undefined) headers["Idempotency-Key"] = options.idempotencyKey;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    try {
      return await this.fetchImpl(this.baseUrl + path + queryString(options.query), {
        method,
        headers,
        body,
        signal: options.signal,
      });
    } catch (cause) {
      if (options.signal?.aborted) throw cause;
      throw new ApiError(0, { detail: "The server could not be reached. Check your connection." }, null);
    }
  }

  /** The current ID token, refreshed when missing, forced, or close to expiry. */
  private async token(force: boolean): Promise<string | null> {
    const stale = this.cached === null || this.cached.expiresAt - this.now() <= this.refreshMarginMs;
    if (force || stale) this.cached = await this.tokens(force || this.cached !== null);
    return this.cached?.token ?? null;
  }

  private async body(response: Response): Promise<unknown> {
    if (response.status === 204) return undefined;
    const text = await response.text();
    return text === "" ? undefined : JSON.parse(text);
  }

  private async error(response: Response): Promise<ApiError> {
    let problem: Problem = {};
    try {
      const parsed: unknown = JSON.parse(await response.text());
      if (parsed !== null && typeof parsed === "object") problem = parsed as Problem;
    } catch {
      problem = {};
    }
    const retryAfter = parseRetryAfter(response.headers.get("Retry-After"), this.now());
    return new ApiError(response.status, problem, retryAfter);
  }
}

function queryString(query: RequestOptions["query"]): string {
  if (query === undefined) return "";
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
  }
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}
