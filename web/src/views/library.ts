/** The library grid (and the trash): pages by token as the user scrolls, thumbnails signed
 * in one batch per page, filter by type, prompt search. */

import { h, show } from "../dom";
import { describe } from "../messages";
import type { Session } from "../session";
import type { Asset, AssetPage, BatchSignUrls } from "../types";

export interface LibraryParams {
  trash: boolean;
  type: string;
  q: string;
  pageSize: number;
}

export function libraryView(root: HTMLElement, session: Session, params: LibraryParams): () => void {
  const { api } = session;
  const grid = h("ul", { class: "grid", "data-testid": "library-grid", "aria-label": "Assets" });
  const status = h("p", { class: "status", role: "status", "aria-live": "polite", "data-testid": "library-status" });
  const more = h("button", { type: "button", hidden: true }, "Load more");
  const sentinel = h("div", { class: "sentinel", "aria-hidden": "true" });
  let token = "";
  let started = false;
  let loading = false;
  let shown = 0;
  let visible = false; // the sentinel at the grid's end is on screen

  const type = h("select", { id: "filter-type", name: "type" },
    h("option", { value: "" }, "All"), h("option", { value: "image" }, "Images"),
    h("option", { value: "video" }, "Videos"));
  type.value = params.type;
  const q = h("input", { id: "search", name: "q", type: "search", maxlength: 100, value: params.q });
  const filters = h("form", { class: "filters", role: "search" },
    h("label", { for: "filter-type" }, "Type"), type,
    h("label", { for: "search" }, "Search prompts"), q,
    h("button", { type: "submit" }, "Search"));
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    if (type.value) query.set("type", type.value);
    if (q.value.trim()) query.set("q", q.value.trim());
    if (params.pageSize) query.set("page_size", String(params.pageSize));
    const text = query.toString();
    location.hash = `#/${params.trash ? "trash" : "library"}${text ? `?${text}` : ""}`;
  });

  const restore = async (asset: Asset, item: HTMLElement) => {
    try {
      await api.request(`/v1/assets/${encodeURIComponent(asset.id)}:undelete`, { method: "POST", idempotent: true });
      item.remove();
      status.textContent = "Restored to the library.";
    } catch (failure) {
      status.textContent = describe(failure);
    }
  };

  const card = (asset: Asset): HTMLElement => {
    const img = h("img", { alt: asset.prompt, width: 256, height: 256, loading: "lazy" });
    const item = h("li", { class: "tile", "data-asset-id": asset.id },
      h("a", { href: `#/asset/${asset.id}`, title: asset.prompt }, img,
        h("span", { class: "badge" }, asset.type)),
      params.trash ? h("button", { type: "button", onclick: () => void restore(asset, item) }, "Restore") : null);
    return item;
  };

  const sign = async (assets: Asset[], items: HTMLElement[]) => {
    if (assets.length === 0) return;
    const signed = await api.request<BatchSignUrls>("/v1/assets:batchSignUrls", {
      method: "POST",
      idempotent: true,
      body: { ids: assets.map((a) => a.id), variant: "thumbnail" },
    });
    assets.forEach((asset, i) => {
      const url = signed.urls[asset.id]?.url;
      const img = items[i].querySelector("img");
      if (url && img) img.src = url;
    });
  };

  const loadPage = async () => {
    if (loading || (started && token === "")) return;
    loading = true;
    status.textContent = "Loading…";
    try {
      const page = await api.get<AssetPage>("/v1/assets", {
        page_size: params.pageSize || undefined,
        page_token: token || undefined,
        type: params.type || undefined,
        q: params.q || undefined,
        show_deleted: params.trash || undefined,
      });
      started = true;
      token = page.next_page_token;
      const assets = params.trash ? page.assets.filter((a) => a.state === "DELETED") : page.assets;
      const items = assets.map(card);
      grid.append(...items);
      shown += items.length;
      await sign(assets, items);
      status.textContent = shown === 0 && token === ""
        ? (params.trash ? "The trash is empty." : "Nothing here yet.")
        : `${shown} shown${token ? "" : ", that is everything"}.`;
    } catch (failure) {
      status.textContent = describe(failure);
    } finally {
      loading = false;
      more.hidden = token === "";
    }
    // A trash page may hold no deleted asset: keep going while the sentinel is visible.
    if (token !== "" && visible) void loadPage();
  };

  const observer = new IntersectionObserver((entries) => {
    visible = entries.some((e) => e.isIntersecting);
    if (visible) void loadPage();
  });
  more.addEventListener("click", () => void loadPage());

  show(root,
    h("h2", {}, params.trash ? "Trash" : "Library"),
    params.trash ? h("p", {}, "Deleted items are kept for a while before they are purged; restore them here.") : null,
    filters, grid, more, status, sentinel);
  observer.observe(sentinel);
  return () => observer.disconnect();
}
