import { defineConfig } from "vite";

// Served by the collector under /ui/; the output directory is given by the collector's build (--outDir).
export default defineConfig({
  base: "/ui/",
  build: { outDir: "dist", emptyOutDir: true, assetsDir: "assets", chunkSizeWarningLimit: 400 },
});
