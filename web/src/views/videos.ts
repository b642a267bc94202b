/** Videos: submit a job, follow its progress live (the job's SSE stream, reconnecting),
 * cancel it, and play the MP4 with its poster once it is done. */

import { h, show } from "../dom";
import { describe } from "../messages";
import type { Session } from "../session";
import { watchJob } from "../sse";
import type { Job } from "../types";
import type { UsageMeter } from "../usage";

const STATE_TEXT: Record<Job["state"], string> = {
  QUEUED: "Queued",
  RUNNING: "Rendering",
  SUCCEEDED: "Done",
  FAILED: "Failed",
  CANCELLED: "Cancelled",
};

function jobCard(session: Session, job: Job, usage: UsageMeter, signal: AbortSignal): HTMLElement {
  const bar = h("progress", { max: 100, value: job.progress.percent, "aria-label": `Progress of "${job.prompt}"` });
  const state = h("p", { class: "status", role: "status", "aria-live": "polite", "data-testid": "job-state" });
  const media = h("div", { class: "media" });
  const cancel = h("button", { type: "button", class: "danger" }, "Cancel");
  const card = h("li", { class: "card job", "data-job-id": job.id },
    h("h3", {}, job.prompt), bar, state, media, cancel);

  const render = (current: Job) => {
    bar.value = current.progress.percent;
    const stage = current.state === "RUNNING" && current.progress.stage ? ` (${current.progress.stage})` : "";
    state.textContent = `${STATE_TEXT[current.state]}${stage}: ${current.progress.percent}%`;
    if (current.state === "FAILED") state.textContent = `Failed: ${current.error?.message ?? "the video could not be made"}. Your quota was refunded.`;
    if (current.state === "CANCELLED") state.textContent = "Cancelled. Your quota was refunded.";
    cancel.hidden = current.state !== "QUEUED" && current.state !== "RUNNING";
    const urls = current.asset?.urls;
    if (current.state === "SUCCEEDED" && urls && media.childElementCount === 0) {
      show(media, h("video", { src: urls.original.url, poster: urls.poster?.url, controls: true, preload: "metadata", width: 480 }));
    }
  };
  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    try {
      render(await session.api.request<Job>(`/v1/jobs/${encodeURIComponent(job.id)}:cancel`, { method: "POST", idempotent: true }));
      void usage.refresh();
    } catch (failure) {
      state.textContent = describe(failure);
    } finally {
      cancel.disabled = false;
    }
  });
  render(job);
  watchJob<Job>(session.api, job.id, render, { signal })
    .then(async (last) => {
      if (last.state === "SUCCEEDED" && !last.asset?.urls) {
        render(await session.api.get<Job>(`/v1/jobs/${encodeURIComponent(job.id)}`));
      }
      void usage.refresh();
    })
    .catch((failure: unknown) => {
      if (!signal.aborted) state.textContent = describe(failure);
    });
  return card;
}

export function videosView(root: HTMLElement, session: Session, usage: UsageMeter): () => void {
  const controller = new AbortController();
  const prompt = h("textarea", { id: "video-prompt", name: "prompt", rows: 2, maxlength: 2000, required: true });
  const duration = h("select", { id: "duration", name: "duration_seconds" },
    ...[8, 6, 4].map((s) => h("option", { value: s }, `${s} s`)));
  const ratio = h("select", { id: "video-ratio", name: "aspect_ratio" },
    h("option", { value: "16:9" }, "16:9 landscape"), h("option", { value: "9:16" }, "9:16 portrait"));
  const submit = h("button", { type: "submit" }, "Generate video");
  const error = h("p", { class: "error", role: "alert", "data-testid": "error" });
  const jobs = h("ul", { class: "jobs", "aria-label": "Video jobs", "data-testid": "jobs" });
  const form = h("form", { class: "card", "aria-label": "Generate a video" },
    h("h2", {}, "Generate a video"),
    h("div", { class: "field" }, h("label", { for: "video-prompt" }, "Prompt"), prompt),
    h("div", { class: "row" },
      h("div", { class: "field" }, h("label", { for: "duration" }, "Duration"), duration),
      h("div", { class: "field" }, h("label", { for: "video-ratio" }, "Aspect ratio"), ratio)),
    submit, error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (submit.disabled) return;
    submit.disabled = true;
    error.textContent = "";
    try {
      const answer = await session.api.submit<{ job: Job }>("/v1/videos:generate", {
        prompt: prompt.value, duration_seconds: Number(duration.value), aspect_ratio: ratio.value,
      });
      jobs.prepend(jobCard(session, answer.job, usage, controller.signal));
      void usage.refresh();
    } catch (failure) {
      error.textContent = describe(failure);
    } finally {
      submit.disabled = false;
    }
  });
  show(root, form, h("section", { "aria-label": "Jobs" }, jobs));
  prompt.focus();
  // Jobs still running from earlier visits: followed again.
  session.api.get<{ jobs: Job[] }>("/v1/jobs", { page_size: 10 }, controller.signal)
    .then((page) => {
      const shown = new Set([...jobs.children].map((li) => (li as HTMLElement).dataset.jobId));
      const earlier = page.jobs.filter((j) => !shown.has(j.id));
      jobs.append(...earlier.map((j) => jobCard(session, j, usage, controller.signal)));
    })
    .catch(() => undefined);
  return () => controller.abort();
}
