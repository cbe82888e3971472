import { defineConfig } from "vite";

// The app window loads the built files; Tauri's dev server is not used in CI.
export default defineConfig({
  clearScreen: false,
  build: { outDir: "dist", target: "es2021", sourcemap: false },
  server: { port: 1420, strictPort: true },
});
