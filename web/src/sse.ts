/**
 * Following a job's `:watch` stream (Server-Sent Events). The browser's EventSource cannot send
 * an Authorization header, so the stream is read with fetch and parsed here; when it ends before
 * the job does (the server closes it after about four minutes, or the network drops), it is
 * reopened with `Last-Event-ID`, as EventSource would, so no change is seen twice.
 */

import { ApiError, type Api } from "./api";

export interface SseEvent {
  id: string | null;
  event: string;
  data: string;
}

/** The text/event-stream format (WHATWG HTML §9.2), fed chunks cut anywhere. */
export class SseParser {
  lastEventId: string | null = null;
  retryMs: number | null = null;
  private buffer = "";
  private data: string[] = [];
  private event = "";
  private afterCR = false;

  feed(chunk: string): SseEvent[] {
    // A CRLF cut between its two characters is one line end, not two.
    if (this.afterCR && chunk.startsWith("\n")) chunk = chunk.slice(1);
    if (chunk !== "") this.afterCR = chunk.endsWith("\r");
    this.buffer += chunk;
    const events: SseEvent[] = [];
    let end: number;
    while ((end = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, end);
      const newline = this.buffer.startsWith("\r\n", end) ? 2 : 1;
      this.buffer = this.buffer.slice(end + newline);
      const event = this.line(line);
      if (event !== null) events.push(event);
    }
    return events;
  }

  private line(line: string): SseEvent | null {
    if (line === "") {
      if (this.data.length === 0) {
        this.event = "";
        return null;
      }
      const event = { id: this.lastEventId, event: this.event || "message", data: this.data.join("\n") };
      this.data = [];
      this.event = "";
      return event;
    }
    if (line.startsWith(":")) return null; // a comment (keep-alive)
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) this.lastEventId = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.retryMs = Number(value);
    return null;
  }
}

export interface WatchOptions {
  signal?: AbortSignal;
  /** Consecutive failed connections before giving up. */
  maxFailures?: number;
  sleep?: (ms: number) => Promise<void>;
}

const TERMINAL = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);

/** Calls `onJob` with every version of the job until it ends; resolves with the last one. */
export async function watchJob<J extends { state: string }>(
  api: Api,
  jobId: string,
  onJob: (job: J) => void,
  options: WatchOptions = {},
): Promise<J> {
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const parser = new SseParser();
  let failures = 0;
  for (;;) {
    const headers: Record<string, string> = {};
    if (parser.lastEventId !== null) headers["Last-Event-ID"] = parser.lastEventId;
    try {
      const response = await api.stream(`/v1/jobs/${encodeURIComponent(jobId)}:watch`, headers, options.signal);
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const event of parser.feed(value)) {
          if (event.event !== "job") continue;
          failures = 0;
          const job = JSON.parse(event.data) as J;
          onJob(job);
          if (TERMINAL.has(job.state)) {
            await reader.cancel();
            return job;
          }
        }
      }
    } catch (error) {
      if (options.signal?.aborted) throw error;
      // The job itself is gone or not ours: reconnecting cannot help.
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) throw error;
      if (++failures >= (options.maxFailures ?? 5)) throw error;
    }
    await sleep(parser.retryMs ?? 1000);
  }
}
