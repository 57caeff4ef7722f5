import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

const backend = process.env.PORTAL_DEV_BACKEND ?? 'http://localhost:8080';

// The Go server embeds ../internal/webui/dist. Entry names carry no hash so foreign pages can
// load /ui/widgets.js by a stable URL; chunk names may be hashed. Committed output must be
// reproducible, so nothing time- or path-dependent goes into the bundle.
export default defineConfig({
  base: '/',
  plugins: [react()],
  build: {
    outDir: '../internal/webui/dist',
    emptyOutDir: true,
    assetsDir: 'ui',
    target: 'es2022',
    sourcemap: false,
    cssCodeSplit: false,
    modulePreload: { polyfill: false },
    rolldownOptions: {
      input: { widgets: 'src/widgets.ts', index: 'index.html' },
      output: {
        entryFileNames: 'ui/[name].js',
        chunkFileNames: 'ui/[name]-[hash].js',
        assetFileNames: 'ui/[name]-[hash][extname]',
      },
    },
  },
  server: {
    port: 5173,
    proxy: {
      '/api': backend,
      '/realms': backend,
      '/portal-config.json': backend,
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['src/test/setup.ts'],
    css: { include: [/styles\.css/] },
  },
});
