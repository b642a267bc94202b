/** The usage meter in the header: images today, videos this month, cost this month. */

import type { Api } from "./api";
import { formatTime, h, show } from "./dom";
import type { Usage } from "./types";

export class UsageMeter {
  readonly element = h("section", { class: "usage", "aria-label": "Usage", "data-testid": "usage" });

  constructor(private readonly api: Api) {}

  async refresh(): Promise<void> {
    try {
      this.render(await this.api.get<Usage>("/v1/usage"));
    } catch {
      show(this.element, "Usage unavailable");
    }
  }

  render(usage: Usage): void {
    const meter = (label: string, used: number, limit: number, reset: string) =>
      h(
        "div",
        { class: "meter" },
        h("label", {}, `${label}: ${used} / ${limit}`,
          h("progress", { max: Math.max(limit, 1), value: Math.min(used, limit) })),
        h("small", {}, `resets ${formatTime(reset)}`),
      );
    const cost = usage.cost_this_month;
    show(
      this.element,
      meter("Images today", usage.images.used, usage.images.limit, usage.images.reset_time),
      meter("Videos this month", usage.videos.used, usage.videos.limit, usage.videos.reset_time),
      h("div", { class: "cost" }, `Cost this month: ${Number(cost.amount).toFixed(2)} ${cost.currency}`),
    );
  }
}
