/** Administration (role claim "admin" only; the API refuses everyone else anyway): a user's
 * role and quota overrides, the audit log, blocked prompts for review, the denylist. */

import { formatTime, h, show } from "../dom";
import { describe } from "../messages";
import type { Session } from "../session";

interface UserView {
  uid: string;
  role: string;
  quota: { images_per_day: number; videos_per_month: number };
  quota_overrides: { images_per_day?: number | null; videos_per_month?: number | null };
}
interface AuditEvent {
  time: string;
  action: string;
  outcome: string;
  actor: { uid?: string | null; role?: string | null };
  target: { type: string; id: string };
}
interface Blocked {
  create_time: string;
  uid: string;
  reason: string;
  text: string;
}

function table(headers: string[], rows: string[][]): HTMLElement {
  return h("table", {},
    h("thead", {}, h("tr", {}, ...headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c))))));
}

function userSection(session: Session): HTMLElement {
  const uid = h("input", { id: "admin-uid", name: "uid", required: true });
  const out = h("div", { "data-testid": "admin-user" });
  const status = h("p", { role: "status", "aria-live": "polite" });
  const form = h("form", { class: "card", "aria-label": "User" }, h("h3", {}, "User"),
    h("label", { for: "admin-uid" }, "User id"), uid, h("button", { type: "submit" }, "Look up"), status, out);
  const render = (user: UserView) => {
    const role = h("select", { id: "admin-role" }, ...["user", "viewer", "admin"].map((r) => h("option", { value: r }, r)));
    role.value = user.role;
    const images = h("input", { id: "admin-images", type: "number", min: 0, value: user.quota_overrides.images_per_day ?? "" });
    const videos = h("input", { id: "admin-videos", type: "number", min: 0, value: user.quota_overrides.videos_per_month ?? "" });
    const save = h("button", { type: "button" }, "Save");
    save.addEventListener("click", async () => {
      const quota = (input: HTMLInputElement) => (input.value === "" ? null : Number(input.value));
      try {
        const updated = await session.api.request<UserView>(`/v1/admin/users/${encodeURIComponent(user.uid)}`, {
          method: "PATCH",
          idempotent: true,
          body: { role: role.value, quota: { images_per_day: quota(images), videos_per_month: quota(videos) } },
        });
        render(updated);
        status.textContent = "Saved.";
      } catch (failure) {
        status.textContent = describe(failure);
      }
    });
    show(out,
      h("p", {}, `Effective quota: ${user.quota.images_per_day} images a day, ${user.quota.videos_per_month} videos a month.`),
      h("label", { for: "admin-role" }, "Role"), role,
      h("label", { for: "admin-images" }, "Images per day (empty: the default)"), images,
      h("label", { for: "admin-videos" }, "Videos per month (empty: the default)"), videos, save);
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      status.textContent = "";
      render(await session.api.get<UserView>(`/v1/admin/users/${encodeURIComponent(uid.value.trim())}`));
    } catch (failure) {
      show(out);
      status.textContent = describe(failure);
    }
  });
  return form;
}

function denylistSection(session: Session): HTMLElement {
  const words = h("textarea", { id: "denylist", rows: 6 });
  const status = h("p", { role: "status", "aria-live": "polite" });
  const save = h("button", { type: "button" }, "Save denylist");
  session.api.get<{ denylist: string[]; source: string }>("/v1/admin/settings/moderation")
    .then((d) => { words.value = d.denylist.join("\n"); status.textContent = `Source: ${d.source}.`; })
    .catch((failure: unknown) => (status.textContent = describe(failure)));
  save.addEventListener("click", async () => {
    const denylist = words.value.split("\n").map((w) => w.trim()).filter((w) => w !== "");
    try {
      await session.api.request("/v1/admin/settings/moderation", { method: "PATCH", idempotent: true, body: { denylist } });
      status.textContent = "Saved; every instance applies it within 30 s.";
    } catch (failure) {
      status.textContent = describe(failure);
    }
  });
  return h("section", { class: "card" }, h("h3", {}, "Denylist"),
    h("label", { for: "denylist" }, "One word or phrase per line"), words, save, status);
}

export async function adminView(root: HTMLElement, session: Session): Promise<void> {
  if (!(await session.isAdmin())) {
    show(root, h("p", { role: "alert" }, "This page is for administrators."));
    return;
  }
  const audit = h("section", { class: "card", "data-testid": "audit" }, h("h3", {}, "Audit log"), h("p", {}, "Loading…"));
  const blocked = h("section", { class: "card", "data-testid": "blocked" }, h("h3", {}, "Blocked prompts"), h("p", {}, "Loading…"));
  show(root, h("h2", {}, "Administration"), userSection(session), audit, blocked, denylistSection(session));
  const { api } = session;
  try {
    const page = await api.get<{ events: AuditEvent[] }>("/v1/admin/audit", { page_size: 20 });
    show(audit, h("h3", {}, "Audit log"), table(["Time", "Action", "Actor", "Target", "Outcome"],
      page.events.map((e) => [formatTime(e.time), e.action, e.actor.uid ?? "system", `${e.target.type} ${e.target.id}`, e.outcome])));
  } catch (failure) {
    show(audit, h("h3", {}, "Audit log"), h("p", {}, describe(failure)));
  }
  try {
    const page = await api.get<{ events: Blocked[] }>("/v1/admin/moderation", { page_size: 20 });
    show(blocked, h("h3", {}, "Blocked prompts"), table(["Time", "User", "Reason", "Text"],
      page.events.map((e) => [formatTime(e.create_time), e.uid, e.reason, e.text])));
  } catch (failure) {
    show(blocked, h("h3", {}, "Blocked prompts"), h("p", {}, describe(failure)));
  }
}
