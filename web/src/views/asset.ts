/** One asset: the full image (or the video with its poster), its details, download, and
 * delete with undo. */

import { h, formatTime, show } from "../dom";
import { describe } from "../messages";
import type { Session } from "../session";
import type { Asset, SignedUrl } from "../types";

export async function assetView(root: HTMLElement, session: Session, id: string): Promise<void> {
  const { api } = session;
  const path = `/v1/assets/${encodeURIComponent(id)}`;
  const sign = (body: Record<string, unknown>) =>
    api.request<SignedUrl>(`${path}:signUrl`, { method: "POST", body, idempotent: true });
  show(root, h("p", { role: "status" }, "Loading…"));
  let asset: Asset;
  try {
    asset = await api.get<Asset>(path);
  } catch (failure) {
    show(root, h("p", { class: "error", role: "alert" }, describe(failure)), h("a", { href: "#/library" }, "Back to the library"));
    return;
  }
  const status = h("p", { class: "status", role: "status", "aria-live": "polite", "data-testid": "asset-status" });
  const actions = h("div", { class: "actions" });
  const media = h("div", { class: "media" });

  const render = async () => {
    if (asset.state === "DELETED") {
      show(media, h("p", {}, "This item is in the trash."));
      const undo = h("button", { type: "button" }, "Undo");
      undo.addEventListener("click", async () => {
        try {
          asset = await api.request<Asset>(`${path}:undelete`, { method: "POST", idempotent: true });
          status.textContent = "Restored to the library.";
          await render();
        } catch (failure) {
          status.textContent = describe(failure);
        }
      });
      show(actions, undo);
      undo.focus();
      return;
    }
    const original = await sign({ variant: "original" });
    const download = await sign({ variant: "original", download: true });
    if (asset.type === "video") {
      const poster = await sign({ variant: "poster" });
      show(media, h("video", { src: original.url, poster: poster.url, controls: true, preload: "metadata" }));
    } else {
      show(media, h("img", { src: original.url, alt: asset.prompt, width: asset.width, height: asset.height }));
    }
    const remove = h("button", { type: "button", class: "danger" }, "Delete");
    remove.addEventListener("click", async () => {
      try {
        asset = await api.request<Asset>(path, { method: "DELETE" });
        status.textContent = "Moved to the trash.";
        await render();
      } catch (failure) {
        status.textContent = describe(failure);
      }
    });
    show(actions, h("a", { class: "button", href: download.url, download: "" }, "Download"), remove);
  };

  show(root,
    h("p", {}, h("a", { href: "#/library" }, "← Library")),
    h("article", { class: "card detail" },
      media,
      h("h2", {}, asset.prompt),
      h("dl", {},
        h("dt", {}, "Type"), h("dd", {}, asset.type),
        h("dt", {}, "Size"), h("dd", {}, `${asset.width} × ${asset.height}`),
        asset.seed !== null && asset.seed !== undefined ? [h("dt", {}, "Seed"), h("dd", {}, String(asset.seed))] : null,
        h("dt", {}, "Created"), h("dd", {}, formatTime(asset.create_time))),
      actions, status));
  try {
    await render();
  } catch (failure) {
    status.textContent = describe(failure);
  }
}
