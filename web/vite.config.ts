import { defineConfig } from "vitest/config";

// `make web`: Vite's dev server for front-end work against a running stack. /v1 and
// /config.json go to the stack's gateway (GENMEDIA_GATEWAY, default http://127.0.0.1:8000),
// so the app stays same-origin as in production; the dev origin is in the CORS allowlist too.
const gateway = process.env.GENMEDIA_GATEWAY ?? "http://127.0.0.1:8000";

export default defineConfig({
  server: {
    host: "127.0.0.1",
    port: 5173,
    strictPort: true,
    proxy: { "/v1": gateway, "/config.json": gateway },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // No inline scripts or modules: everything is a file, so the CSP needs no 'unsafe-inline'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  test: { include: ["test/**/*.test.ts"] },
});
