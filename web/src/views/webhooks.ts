/** Webhooks: register an endpoint for job events (its secret shown once), rotate the secret,
 * delete; the last delivery attempt of each. */

import { formatTime, h, show } from "../dom";
import { describe } from "../messages";
import type { Session } from "../session";

interface Webhook {
  id: string;
  url: string;
  events: string[];
  disabled: boolean;
  create_time: string;
  last_attempt?: { time: string; event: string; status?: number | null; error?: string | null } | null;
  secret?: string;
}

const EVENTS = ["job.succeeded", "job.failed", "job.cancelled"];

export function webhooksView(root: HTMLElement, session: Session): void {
  const { api } = session;
  const url = h("input", { id: "webhook-url", name: "url", type: "url", required: true, placeholder: "https://example.com/hooks/genmedia" });
  const boxes = EVENTS.map((e) => h("input", { type: "checkbox", id: `ev-${e}`, value: e, checked: true }));
  const status = h("p", { class: "status", role: "status", "aria-live": "polite", "data-testid": "webhook-status" });
  const secretBox = h("div", { class: "secret", "data-testid": "secret" });
  const list = h("ul", { class: "jobs", "data-testid": "webhooks", "aria-label": "Webhook endpoints" });

  const showSecret = (secret: string) =>
    show(secretBox, h("p", {}, "Signing secret (shown only now; copy it): "), h("code", {}, secret));

  const item = (hook: Webhook): HTMLElement => {
    const rotate = h("button", { type: "button" }, "Rotate secret");
    const remove = h("button", { type: "button", class: "danger" }, "Delete");
    const last = hook.last_attempt;
    const li = h("li", { class: "card", "data-webhook-id": hook.id },
      h("h3", {}, hook.url),
      h("p", {}, `Events: ${hook.events.join(", ")}${hook.disabled ? " · disabled (the receiver answered 410 Gone)" : ""}`),
      h("p", {}, last
        ? `Last delivery ${formatTime(last.time)}: ${last.event}, ${last.status ? `HTTP ${last.status}` : (last.error ?? "no answer")}`
        : "No delivery yet."),
      h("div", { class: "actions" }, rotate, remove));
    rotate.addEventListener("click", async () => {
      try {
        const rotated = await api.request<Webhook>(`/v1/webhooks/${encodeURIComponent(hook.id)}:rotateSecret`, { method: "POST" });
        if (rotated.secret) showSecret(rotated.secret);
        status.textContent = "New secret issued; the old one keeps signing for 24 hours.";
      } catch (failure) {
        status.textContent = describe(failure);
      }
    });
    remove.addEventListener("click", async () => {
      try {
        await api.request(`/v1/webhooks/${encodeURIComponent(hook.id)}`, { method: "DELETE" });
        li.remove();
        status.textContent = "Webhook deleted.";
      } catch (failure) {
        status.textContent = describe(failure);
      }
    });
    return li;
  };

  const form = h("form", { class: "card", "aria-label": "Add a webhook" },
    h("h2", {}, "Webhooks"),
    h("p", {}, "We POST job events to your endpoint, signed per Standard Webhooks."),
    h("div", { class: "field" }, h("label", { for: "webhook-url" }, "Endpoint URL"), url),
    h("fieldset", {}, h("legend", {}, "Events"),
      ...EVENTS.map((e, i) => h("label", { for: `ev-${e}` }, boxes[i], ` ${e} `))),
    h("button", { type: "submit" }, "Add webhook"), status, secretBox);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const events = boxes.filter((b) => b.checked).map((b) => b.value);
    try {
      const created = await api.submit<Webhook>("/v1/webhooks", { url: url.value, events });
      list.prepend(item(created));
      if (created.secret) showSecret(created.secret);
      status.textContent = "Webhook added.";
      url.value = "";
    } catch (failure) {
      status.textContent = describe(failure);
    }
  });
  show(root, form, list);
  api.get<{ webhooks: Webhook[] }>("/v1/webhooks")
    .then((page) => list.append(...page.webhooks.map(item)))
    .catch((failure: unknown) => (status.textContent = describe(failure)));
}
