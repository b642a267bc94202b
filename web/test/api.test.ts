import { describe, expect, it } from "vitest";

import { Api, ApiError, parseRetryAfter, type IdToken } from "../src/api";

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A scripted server: each call answers with the next response; records what was sent. */
function server(...answers: (() => Response)[]) {
  const sent: Sent[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    sent.push({
      url: String(input),
      method: init?.method ?? "GET",
      headers,
      body: init?.body === undefined ? undefined : JSON.parse(String(init.body)),
    });
    const next = answers.shift();
    if (next === undefined) throw new Error("unexpected request");
    return next();
  };
  return { sent, fetch: fetch as typeof globalThis.fetch };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) => () =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });

const problem = (status: number, code: string, headers: Record<string, string> = {}) =>
  json(status, { status, code, detail: `${code} detail` }, headers);

/** Tokens "t1", "t2"... each valid for an hour from the fake clock; records forced refreshes. */
function tokens(clock: { now: number }) {
  const calls: boolean[] = [];
  let issued = 0;
  const source = async (force: boolean): Promise<IdToken> => {
    calls.push(force);
    issued++;
    return { token: `t${issued}`, expiresAt: clock.now + 3600_000 };
  };
  return { calls, source };
}

function api(fetch: typeof globalThis.fetch, clock = { now: 1_000_000 }) {
  const waits: number[] = [];
  const t = tokens(clock);
  let keys = 0;
  const client = new Api({
    tokens: t.source,
    fetch,
    now: () => clock.now,
    sleep: async (ms) => {
      waits.push(ms);
      clock.now += ms;
    },
    newKey: () => `key-${++keys}`,
  });
  return { client, waits, tokenCalls: t.calls, clock };
}

describe("authentication", () => {
  it("sends the ID token as a Bearer token and reuses it while fresh", async () => {
    const s = server(json(200, { a: 1 }), json(200, { a: 2 }));
    const { client, tokenCalls } = api(s.fetch);
    expect(await client.get("/v1/usage")).toEqual({ a: 1 });
    await client.get("/v1/usage");
    expect(s.sent.map((r) => r.headers.Authorization)).toEqual(["Bearer t1", "Bearer t1"]);
    expect(tokenCalls).toEqual([false]);
  });

  it("refreshes the token before it expires, not after", async () => {
    const s = server(json(200, {}), json(200, {}), json(200, {}));
    const { client, tokenCalls, clock } = api(s.fetch);
    await client.get("/v1/usage");
    clock.now += 54 * 60_000; // 6 minutes left: still outside the 5-minute margin
    await client.get("/v1/usage");
    clock.now += 2 * 60_000; // 4 minutes left: refreshed (forced) before sending
    await client.get("/v1/usage");
    expect(s.sent.map((r) => r.headers.Authorization)).toEqual([
      "Bearer t1",
      "Bearer t1",
      "Bearer t2",
    ]);
    expect(tokenCalls).toEqual([false, true]);
  });

  it("retries a 401 once with a forced refresh, then gives up", async () => {
    const s = server(problem(401, "UNAUTHENTICATED"), json(200, { ok: true }));
    const { client, tokenCalls } = api(s.fetch);
    expect(await client.get("/v1/assets")).toEqual({ ok: true });
    expect(tokenCalls).toEqual([false, true]);
    expect(s.sent[1].headers.Authorization).toBe("Bearer t2");

    const again = server(problem(401, "UNAUTHENTICATED"), problem(401, "UNAUTHENTICATED"));
    const second = api(again.fetch).client;
    await expect(second.get("/v1/assets")).rejects.toMatchObject({ status: 401 });
    expect(again.sent).toHaveLength(2);
  });

  it("sends no Authorization header when nobody is signed in", async () => {
    const s = server(json(200, {}));
    const client = new Api({ tokens: async () => null, fetch: s.fetch });
    await client.get("/v1/healthz");
    expect(s.sent[0].headers.Authorization).toBeUndefined();
  });
});

describe("503 retries", () => {
  it("waits what Retry-After says, then succeeds", async () => {
    const s = server(problem(503, "PROVIDER_UNAVAILABLE", { "Retry-After": "3" }), json(200, { ok: 1 }));
    const { client, waits } = api(s.fetch);
    expect(await client.get("/v1/assets")).toEqual({ ok: 1 });
    expect(waits).toEqual([3000]);
  });

  it("is bounded: after maxAttempts the 503 reaches the caller", async () => {
    const unavailable = problem(503, "UNAVAILABLE", { "Retry-After": "1" });
    const s = server(unavailable, unavailable, unavailable, unavailable);
    const { client, waits } = api(s.fetch);
    const error = await client.get("/v1/assets").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 503, code: "UNAVAILABLE", retryAfter: 1 });
    expect(s.sent).toHaveLength(3);
    expect(waits).toEqual([1000, 1000]);
  });

  it("does not wait longer than maxRetryWaitMs: a long Retry-After goes to the caller", async () => {
    const s = server(problem(503, "PROVIDER_UNAVAILABLE", { "Retry-After": "120" }));
    const { client, waits } = api(s.fetch);
    await expect(client.get("/v1/assets")).rejects.toMatchObject({ retryAfter: 120 });
    expect(waits).toEqual([]);
  });

  it("understands Retry-After as an HTTP date", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:07 GMT", now)).toBe(7);
    expect(parseRetryAfter("12", now)).toBe(12);
    expect(parseRetryAfter("soon", now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });

  it("never retries a POST without an Idempotency-Key", async () => {
    const s = server(problem(503, "UNAVAILABLE", { "Retry-After": "1" }));
    const { client } = api(s.fetch);
    await expect(client.request("/v1/me:export", { method: "POST", body: {} })).rejects.toMatchObject({
      status: 503,
    });
    expect(s.sent).toHaveLength(1);
  });

  it("does not retry a 429: the caller shows the countdown", async () => {
    const s = server(problem(429, "RATE_LIMITED", { "Retry-After": "4" }));
    const { client, waits } = api(s.fetch);
    await expect(client.submit("/v1/images:generate", { prompt: "x" })).rejects.toMatchObject({
      code: "RATE_LIMITED",
      retryAfter: 4,
    });
    expect(waits).toEqual([]);
  });
});

describe("idempotency keys", () => {
  it("sends one key per submit, and the retries of a submit reuse it", async () => {
    const s = server(
      problem(503, "PROVIDER_UNAVAILABLE", { "Retry-After": "1" }),
      json(200, { assets: [] }),
      json(200, { assets: [] }),
    );
    const { client } = api(s.fetch);
    await client.submit("/v1/images:generate", { prompt: "a" });
    await client.submit("/v1/images:generate", { prompt: "a" });
    expect(s.sent.map((r) => r.headers["Idempotency-Key"])).toEqual(["key-1", "key-1", "key-2"]);
    expect(s.sent.map((r) => r.body)).toEqual([{ prompt: "a" }, { prompt: "a" }, { prompt: "a" }]);
    expect(s.sent[0].headers["Content-Type"]).toBe("application/json");
  });

  it("sends no key on reads", async () => {
    const s = server(json(200, {}));
    await api(s.fetch).client.get("/v1/assets", { q: "lake", page_token: "", type: undefined });
    expect(s.sent[0].headers["Idempotency-Key"]).toBeUndefined();
    expect(s.sent[0].url).toBe("/v1/assets?q=lake");
  });
});

describe("errors", () => {
  it("carries the problem's code, detail and reset time", async () => {
    const s = server(
      json(429, { status: 429, code: "QUOTA_EXCEEDED", detail: "Daily quota reached", reset_time: "2026-01-02T00:00:00Z" }),
    );
    const error = (await api(s.fetch).client.submit("/v1/images:generate", {}).catch((e: unknown) => e)) as ApiError;
    expect(error.code).toBe("QUOTA_EXCEEDED");
    expect(error.message).toBe("Daily quota reached");
    expect(error.problem.reset_time).toBe("2026-01-02T00:00:00Z");
  });

  it("turns a network failure into an ApiError with code NETWORK", async () => {
    const client = new Api({
      tokens: async () => null,
      fetch: async () => {
        throw new TypeError("Failed to fetch");
      },
    });
    await expect(client.get("/v1/usage")).rejects.toMatchObject({ status: 0, code: "NETWORK" });
  });

  it("answers undefined for 204 No Content", async () => {
    const s = server(() => new Response(null, { status: 204 }));
    expect(await api(s.fetch).client.request("/v1/webhooks/x", { method: "DELETE" })).toBeUndefined();
  });
});
