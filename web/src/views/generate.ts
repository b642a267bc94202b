/** Image generation: the form, its states (in progress, quota, rate limit, blocked,
 * unavailable) and the images generated. */

import { ApiError } from "../api";
import { h, show } from "../dom";
import { describe } from "../messages";
import type { Session } from "../session";
import type { GenerateResponse } from "../types";
import type { UsageMeter } from "../usage";

const RATIOS = ["1:1", "3:4", "4:3", "9:16", "16:9"];

function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control,
    hint ? h("small", {}, hint) : null);
}

export function generateView(root: HTMLElement, session: Session, usage: UsageMeter): () => void {
  const prompt = h("textarea", { id: "prompt", name: "prompt", rows: 3, maxlength: 2000, required: true });
  const negative = h("input", { id: "negative_prompt", name: "negative_prompt", maxlength: 2000 });
  const count = h("select", { id: "count", name: "count" },
    ...[1, 2, 3, 4].map((n) => h("option", { value: n }, String(n))));
  const ratio = h("select", { id: "aspect_ratio", name: "aspect_ratio" },
    ...RATIOS.map((r) => h("option", { value: r }, r)));
  const seed = h("input", { id: "seed", name: "seed", type: "number", min: 0, inputmode: "numeric" });
  const submit = h("button", { type: "submit" }, "Generate");
  const status = h("p", { class: "status", role: "status", "aria-live": "polite", "data-testid": "status" });
  const error = h("p", { class: "error", role: "alert", "data-testid": "error" });
  const results = h("div", { class: "grid", "data-testid": "results" });
  let countdown: number | undefined;

  const stopCountdown = () => {
    if (countdown !== undefined) clearInterval(countdown);
    countdown = undefined;
  };

  /** Keep the button off until Retry-After has passed, saying how long is left. */
  const waitThenEnable = (failure: ApiError) => {
    let left = failure.retryAfter ?? 1;
    const tick = () => {
      if (left <= 0) {
        stopCountdown();
        submit.disabled = false;
        error.textContent = "";
        status.textContent = "You can generate again.";
        return;
      }
      error.textContent = `You are sending requests too quickly. Try again in ${left} s.`;
      left--;
    };
    submit.disabled = true;
    tick();
    countdown = window.setInterval(tick, 1000);
  };

  const form = h("form", { class: "card generate", "aria-label": "Generate images" },
    h("h2", {}, "Generate images"),
    field("Prompt", prompt),
    field("Negative prompt", negative, "What to leave out (optional)"),
    h("div", { class: "row" }, field("Count", count), field("Aspect ratio", ratio),
      field("Seed", seed, "Optional: the same seed gives the same image")),
    submit, status, error);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (submit.disabled) return; // a double click submits once
    stopCountdown();
    submit.disabled = true;
    error.textContent = "";
    const n = Number(count.value);
    status.textContent = `Generating ${n} image${n > 1 ? "s" : ""}…`;
    form.setAttribute("aria-busy", "true");
    const body: Record<string, unknown> = { prompt: prompt.value, count: n, aspect_ratio: ratio.value };
    if (negative.value.trim()) body.negative_prompt = negative.value;
    if (seed.value !== "") body.seed = Number(seed.value);
    try {
      const answer = await session.api.submit<GenerateResponse>("/v1/images:generate", body);
      status.textContent = `Generated ${answer.assets.length} image${answer.assets.length === 1 ? "" : "s"}.`;
      show(results, answer.assets.map((asset) =>
        h("figure", { class: "tile" },
          h("img", { src: asset.urls?.thumbnail.url ?? "", alt: asset.prompt, width: 256, loading: "lazy" }),
          h("figcaption", {}, h("a", { href: `#/asset/${asset.id}` }, "Open")))));
      usage.render(answer.usage);
      submit.disabled = false;
    } catch (failure) {
      status.textContent = "";
      if (failure instanceof ApiError && failure.code === "RATE_LIMITED") {
        waitThenEnable(failure);
      } else {
        error.textContent = describe(failure);
        submit.disabled = false;
      }
      if (failure instanceof ApiError && failure.code === "QUOTA_EXCEEDED") void usage.refresh();
    } finally {
      form.removeAttribute("aria-busy");
    }
  });

  show(root, form, h("section", { "aria-label": "Results" }, results));
  prompt.focus();
  return stopCountdown;
}
