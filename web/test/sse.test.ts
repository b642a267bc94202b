import { describe, expect, it } from "vitest";

import { Api } from "../src/api";
import { SseParser, watchJob } from "../src/sse";

describe("SseParser", () => {
  it("parses events cut at any byte, with ids, comments and retry", () => {
    const text = "retry: 2500\n\n: keepalive\n\nevent: job\nid: 17\ndata: {\"a\":\ndata: 1}\n\nevent: job\r\nid: 18\r\ndata: x\r\n\r\n";
    for (let cut = 0; cut <= text.length; cut++) {
      const parser = new SseParser();
      const events = [...parser.feed(text.slice(0, cut)), ...parser.feed(text.slice(cut))];
      expect(events).toEqual([
        { id: "17", event: "job", data: '{"a":\n1}' },
        { id: "18", event: "job", data: "x" },
      ]);
      expect(parser.retryMs).toBe(2500);
      expect(parser.lastEventId).toBe("18");
    }
  });
});

const stream = (text: string) =>
  new Response(new Blob([text]).stream(), { status: 200, headers: { "Content-Type": "text/event-stream" } });
const job = (id: number, state: string, percent: number) =>
  `event: job\nid: ${id}\ndata: ${JSON.stringify({ state, progress: { percent } })}\n\n`;

describe("watchJob", () => {
  it("reconnects with Last-Event-ID until the job ends", async () => {
    const sent: Record<string, string>[] = [];
    const answers = [
      () => stream(`retry: 1500\n\n${job(1, "QUEUED", 0)}${job(2, "RUNNING", 40)}`), // then closes
      () => {
        throw new TypeError("network down");
      },
      () => stream(job(3, "RUNNING", 80) + job(4, "SUCCEEDED", 100)),
    ];
    const fetch = (async (_url: RequestInfo | URL, init?: RequestInit) => {
      sent.push((init?.headers ?? {}) as Record<string, string>);
      return answers.shift()!();
    }) as typeof globalThis.fetch;
    const api = new Api({ tokens: async () => ({ token: "t", expiresAt: Date.now() + 3600_000 }), fetch });
    const seen: number[] = [];
    const waits: number[] = [];
    const last = await watchJob<{ state: string; progress: { percent: number } }>(
      api, "job-1", (j) => seen.push(j.progress.percent),
      { sleep: async (ms) => void waits.push(ms) },
    );
    expect(last.state).toBe("SUCCEEDED");
    expect(seen).toEqual([0, 40, 80, 100]);
    expect(sent.map((h) => h["Last-Event-ID"])).toEqual([undefined, "2", "2"]);
    expect(sent.every((h) => h.Authorization === "Bearer t")).toBe(true);
    expect(waits).toEqual([1500, 1500]);
  });

  it("does not reconnect to a job that is not found", async () => {
    let calls = 0;
    const fetch = (async () => {
      calls++;
      return new Response(JSON.stringify({ code: "NOT_FOUND", status: 404 }), { status: 404 });
    }) as typeof globalThis.fetch;
    const api = new Api({ tokens: async () => null, fetch });
    await expect(watchJob(api, "gone", () => {}, { sleep: async () => {} })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    expect(calls).toBe(1);
  });
});
