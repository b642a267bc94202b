/** The studio shell: header (navigation, usage, sign out), and a hash router over the views.
 * Hash routes keep the server side to static files: no path but `/` serves the app. */

import "./style.css";

import { h, show } from "./dom";
import { loadConfig, startSession, type Session } from "./session";
import { UsageMeter } from "./usage";
import { assetView } from "./views/asset";
import { authView } from "./views/auth";
import { generateView } from "./views/generate";
import { adminView } from "./views/admin";
import { libraryView } from "./views/library";
import { videosView } from "./views/videos";
import { webhooksView } from "./views/webhooks";

function shell(session: Session, usage: UsageMeter) {
  const who = h("span", { class: "who", "data-testid": "who" });
  const signOut = h("button", { type: "button" }, "Sign out");
  signOut.addEventListener("click", async () => {
    await session.signOut();
    location.hash = "#/signin";
  });
  const nav = h("nav", { "aria-label": "Main" },
    h("a", { href: "#/generate" }, "Generate"),
    h("a", { href: "#/videos" }, "Videos"),
    h("a", { href: "#/library" }, "Library"),
    h("a", { href: "#/trash" }, "Trash"),
    h("a", { href: "#/webhooks" }, "Webhooks"),
    h("a", { href: "#/admin", hidden: true, "data-testid": "admin-link" }, "Admin"));
  const account = h("div", { class: "account" }, who, signOut);
  const header = h("header", {}, h("h1", {}, "GenMedia Studio"), nav, usage.element, account);
  const main = h("main", { id: "view", tabindex: -1 });
  const adminLink = nav.querySelector<HTMLElement>('[data-testid="admin-link"]')!;
  return { header, main, who, adminLink, signedIn: [nav, usage.element, account] };
}

async function boot(): Promise<void> {
  const app = document.getElementById("app")!;
  let session: Session;
  try {
    session = startSession(await loadConfig());
  } catch (failure) {
    show(app, h("p", { class: "error", role: "alert" }, (failure as Error).message));
    return;
  }
  const usage = new UsageMeter(session.api);
  const ui = shell(session, usage);
  show(app, ui.header, ui.main);
  let cleanup: (() => void) | void;
  let ready = false;

  const route = () => {
    if (!ready) return;
    if (typeof cleanup === "function") cleanup();
    cleanup = undefined;
    const [path, search = ""] = location.hash.replace(/^#/, "").split("?");
    const user = session.user();
    ui.signedIn.forEach((el) => (el.hidden = user === null));
    ui.who.textContent = user?.email ?? "";
    if (user === null) {
      authView(ui.main, session, path === "/signup" ? "signup" : "signin");
      return;
    }
    const query = new URLSearchParams(search);
    const [, page, id] = path.split("/");
    if (page === "library" || page === "trash") {
      cleanup = libraryView(ui.main, session, {
        trash: page === "trash",
        type: query.get("type") ?? "",
        q: query.get("q") ?? "",
        pageSize: Number(query.get("page_size") ?? 0) || 24,
      });
    } else if (page === "webhooks") {
      webhooksView(ui.main, session);
    } else if (page === "admin") {
      void adminView(ui.main, session);
    } else if (page === "videos") {
      cleanup = videosView(ui.main, session, usage);
    } else if (page === "asset" && id) {
      void assetView(ui.main, session, decodeURIComponent(id));
    } else {
      cleanup = generateView(ui.main, session, usage);
    }
    // A new page starts the focus at its first field, or else at its top (for screen readers).
    if (!ui.main.contains(document.activeElement)) ui.main.focus();
  };

  session.onChange((user) => {
    ready = true;
    ui.adminLink.hidden = true;
    if (user !== null) {
      void usage.refresh();
      // The link only: the admin API itself refuses anyone without the role claim.
      void session.isAdmin().then((admin) => (ui.adminLink.hidden = !admin));
    }
    route();
  });
  window.addEventListener("hashchange", route);
}

void boot();
