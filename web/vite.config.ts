import { existsSync, readFileSync } from "node:fs";

import { defineConfig } from "vitest/config";

// `make web`: Vite's dev server for front-end work against a running stack. /v1 and
// /config.json go to the gateway of the stack `make dev` runs (its .local/stack.json), or
// GENMEDIA_GATEWAY, so the app stays same-origin as when the gateway serves the build; the
// dev origin (http://127.0.0.1:5173) is in the functions' CORS allowlist as well.
function gateway(): string {
  if (process.env.GENMEDIA_GATEWAY) return process.env.GENMEDIA_GATEWAY;
  const stack = new URL("../.local/stack.json", import.meta.url);
  if (existsSync(stack)) return (JSON.parse(readFileSync(stack, "utf8")) as { gateway: string }).gateway;
  return "http://127.0.0.1:8000";
}

export default defineConfig({
  server: {
    host: "127.0.0.1",
    port: 5173,
    strictPort: true,
    proxy: { "/v1": gateway(), "/config.json": gateway() },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // No inline scripts or data: URLs: everything is a file, so the CSP needs no 'unsafe-inline'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  test: { include: ["test/**/*.test.ts"] },
});
