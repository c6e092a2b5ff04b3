#!/usr/bin/env node
// The inbox list benchmark (not a test): builds bench/list.html with Vite into a
// temporary directory, serves it on a free loopback port, opens it in Chromium at
// 1280x800 and prints what the page measured (window.__bench): the real
// ConversationList's first screen for 10,000 and 1,000 conversations, and a plain
// <ul> of 10,000 rows as the baseline. Target (the issue): 10,000 in under 100 ms.
//
//   node ui/bench/run.mjs            (from the repository root, or `node bench/run.mjs` in ui/)
//
// Exits non-zero only when something goes wrong, never because the target was missed.
// Environment: HANDOFF_BENCH_CHROMIUM (default /usr/bin/chromium).

import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { chromium } from '@playwright/test';

const here = path.dirname(fileURLToPath(import.meta.url));
const TARGET_MS = 100;
const TARGET_CASE = 'list-10000';
const CHROMIUM = process.env.HANDOFF_BENCH_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const VIEWPORT = { width: 1280, height: 800 };
const TIMEOUT_MS = 180_000;

/**
 * What bench/list.ts puts on `window.__bench`.
 * @typedef {{ id: string, label: string, conversations: number, runs: number[], rows: number[], sync: number[], median: number, max: number }} CaseResult
 * @typedef {{ done: boolean, error?: string, repeats: number, viewport: { width: number, height: number }, userAgent: string, cases: CaseResult[] }} BenchResult
 */

/** @type {Record<string, string>} */
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/**
 * Serves `dir` on 127.0.0.1 (a free port).
 * @param {string} dir
 * @returns {Promise<{ server: http.Server, url: string }>}
 */
function serve(dir) {
  const server = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    if (pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const file = path.join(dir, pathname === '/' ? 'list.html' : pathname);
    if (file !== dir && !file.startsWith(dir + path.sep)) {
      res.writeHead(403).end();
      return;
    }
    fs.readFile(file).then(
      (body) => {
        res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
        res.end(body);
      },
      () => res.writeHead(404).end(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('no port'));
        return;
      }
      resolve({ server, url: `http://127.0.0.1:${address.port}/list.html` });
    });
  });
}

/** @param {number} ms */
function ms(ms) {
  return `${ms.toFixed(1).padStart(6)} ms`;
}

/** @param {number} n */
function count(n) {
  return n.toLocaleString('en-US');
}

/** @param {CaseResult} c */
function verdict(c) {
  if (c.max < TARGET_MS) return 'met';
  if (c.median < TARGET_MS) return `met by the median, not by the slowest run`;
  return 'MISSED';
}

/** @param {BenchResult} result */
function report(result) {
  const width = Math.max(...result.cases.map((c) => c.label.length)) + 3;
  const lines = [];
  for (const c of result.cases) {
    const rows = [...new Set(c.rows)].map(count).join('/');
    let line = `${c.label.padEnd(width)}median ${ms(c.median)}  max ${ms(c.max)}   rows in DOM ${rows.padEnd(7)}`;
    if (c.id === TARGET_CASE) line += `   target < ${TARGET_MS} ms: ${verdict(c)}`;
    lines.push(line.trimEnd());
  }
  lines.push('');
  lines.push(`each measured ${result.repeats} times (round robin, fresh container each time), t0 before mount, t1 after 2 animation frames;`);
  lines.push('ms per run in order, [of which synchronous: mount(), or building and inserting the <ul>]:');
  for (const c of result.cases) {
    const runs = c.runs.map((r) => r.toFixed(1)).join('  ');
    const sync = c.sync.map((r) => r.toFixed(1)).join('  ');
    lines.push(`  ${c.id.padEnd(15)} ${runs}   [${sync}]`);
  }
  return lines.join('\n');
}

/** @param {BenchResult} result */
function validate(result) {
  if (result.error) throw new Error(`the bench page failed: ${result.error}`);
  for (const c of result.cases) {
    if (c.runs.length !== result.repeats) throw new Error(`${c.id}: ${c.runs.length} runs, expected ${result.repeats}`);
    if (c.runs.some((r) => !Number.isFinite(r) || r <= 0)) throw new Error(`${c.id}: bad timings ${c.runs.join(', ')}`);
    if (c.rows.some((r) => r <= 0)) throw new Error(`${c.id}: no rows rendered`);
    if (c.id.startsWith('baseline') && c.rows.some((r) => r !== c.conversations)) {
      throw new Error(`${c.id}: ${c.rows.join(', ')} rows, expected ${c.conversations}`);
    }
  }
}

async function main() {
  const outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-ui-bench-'));
  /** @type {http.Server | null} */
  let server = null;
  /** @type {import('@playwright/test').Browser | null} */
  let browser = null;
  try {
    process.stdout.write('building bench/list.html ... ');
    await build({ configFile: path.join(here, 'vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
    process.stdout.write('done\n');

    const served = await serve(outDir);
    server = served.server;

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: VIEWPORT, locale: 'en-US', timezoneId: 'UTC' });
    /** @type {string[]} */
    const problems = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console error: ${msg.text()} (${msg.location().url})`);
    });
    page.on('response', (res) => {
      if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
    });

    await page.goto(served.url);
    await page.waitForFunction('window.__bench !== undefined && window.__bench.done', undefined, { timeout: TIMEOUT_MS });
    const result = /** @type {BenchResult} */ (await page.evaluate('window.__bench'));
    if (problems.length > 0) throw new Error(problems.join('\n'));
    validate(result);

    const load = os.loadavg()[0].toFixed(2);
    console.log(`Chromium ${browser.version()}, viewport ${result.viewport.width}x${result.viewport.height}, ${os.cpus().length} CPUs, load average ${load} (1 min)\n`);
    console.log(report(result));
  } finally {
    await browser?.close();
    const s = server;
    if (s) await new Promise((resolve) => s.close(resolve));
    await fs.rm(outDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`\nbench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
