import os from 'node:os';
import path from 'node:path';
import { defineConfig } from '@playwright/test';

// Run through scripts/web-e2e.sh, which starts a real server and the WhatsApp sandbox
// and passes their URLs (HANDOFF_E2E_URL, HANDOFF_E2E_SANDBOX_URL). The browser is
// Debian's Chromium: never `npx playwright install`.
const serverUrl = process.env.HANDOFF_E2E_URL;

export default defineConfig({
  testDir: './e2e',
  outputDir: process.env.HANDOFF_E2E_ARTIFACTS ?? path.join(os.tmpdir(), 'handoff-playwright'),
  fullyParallel: true,
  workers: 2,
  retries: 0,
  forbidOnly: true,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: {
    baseURL: serverUrl,
    viewport: { width: 1280, height: 800 },
    locale: 'en-US',
    timezoneId: 'UTC',
    actionTimeout: 15_000,
    navigationTimeout: 20_000,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.HANDOFF_E2E_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  projects: [
    { name: 'e2e', testMatch: '*.spec.ts' },
    { name: 'screenshots', testMatch: 'screenshots.shot.ts', fullyParallel: false, workers: 1 },
  ],
});
