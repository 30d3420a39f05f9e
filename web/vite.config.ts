/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import tailwindcss from '@tailwindcss/vite';

// `npm run dev` serves the UI on 5173 and forwards /api to an API started with `open-notebook api`.
// JSX goes through Vite's own esbuild transform, because @vitejs/plugin-react was seen failing to
// install with npm 10 next to Vite 7 and Vitest 3. The only loss is React fast refresh in
// `npm run dev`.
export default defineConfig({
  plugins: [tailwindcss()],
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    // Hashed names under assets/ are what the UI server caches for a year.
    assetsDir: 'assets',
    sourcemap: false,
    rollupOptions: {
      // React Query marks modules "use client" for server-component bundlers; in a browser-only
      // bundle the directive means nothing, and @vitejs/plugin-react used to hide this warning.
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:5055', '/config': 'http://127.0.0.1:8502' },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/test-setup.ts'],
    // A guard against a hang, not a speed check: Vitest's default of 5 s failed tests on a
    // machine whose cores were busy with a C++ build.
    testTimeout: 60_000,
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
