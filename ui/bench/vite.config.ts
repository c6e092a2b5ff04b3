// Builds the list benchmark page (bench/list.html) with the app's Svelte setup, to a
// temporary directory (never ui/dist). bench/run.mjs passes its own `build.outDir`.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const here = path.dirname(fileURLToPath(import.meta.url));
const ui = path.resolve(here, '..');

export default defineConfig({
  root: here,
  base: './',
  publicDir: false,
  clearScreen: false,
  logLevel: 'warn',
  plugins: [svelte({ configFile: path.join(ui, 'svelte.config.js') })],
  build: {
    outDir: path.join(os.tmpdir(), 'handoff-ui-bench'),
    emptyOutDir: true,
    // As the app: WebKitGTK 2.4x, WebView2, WKWebView.
    target: 'es2021',
    sourcemap: false,
    reportCompressedSize: false,
    rollupOptions: { input: path.join(here, 'list.html') },
  },
});
