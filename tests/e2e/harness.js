// Shared pieces of the end-to-end tests: a static server for dist/ on 127.0.0.1 and Debian's
// Chromium, launched headless with the flags that work on these machines. No browser is ever
// downloaded.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

/** The repository, the release CLI the tests compare with, and where screenshots go. */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const cli = process.env.RSTSCOPE_CLI ?? path.join(root, 'target/release/rstscope');
export const shots = path.join(root, 'tests/e2e/out');

/** The CLI's JSON report of a capture: what the page must agree with. */
export function cliReport(file) {
  return JSON.parse(execFileSync(cli, ['analyze', file, '--format', 'json'], { encoding: 'utf8' }));
}

/**
 * Collects every page error and console error of `page` (a panic in the page or its worker,
 * or a Content-Security-Policy violation, shows as one); tests assert the list stays empty.
 */
export function watchProblems(page) {
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  return problems;
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.pcap': 'application/vnd.tcpdump.pcap',
};

/**
 * Serves `dir` under `prefix` (default `/`) on an ephemeral port of 127.0.0.1. Every request
 * it receives is logged in `requests`, so tests can count them.
 */
export async function serveDist(dir, prefix = '/') {
  if (!fs.existsSync(path.join(dir, 'index.html'))) {
    throw new Error(`${dir}/index.html is missing: build the page first (trunk build --release --offline)`);
  }
  const requests = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url);
    const url = new URL(req.url, 'http://127.0.0.1');
    if (!url.pathname.startsWith(prefix)) {
      res.writeHead(404).end();
      return;
    }
    let rel = decodeURIComponent(url.pathname.slice(prefix.length));
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
    const file = path.resolve(dir, rel);
    if (!file.startsWith(path.resolve(dir)) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Debian's Chromium, headless. */
export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rstscope-e2e-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
  return {
    context,
    newPage: async (options) => {
      const page = await context.newPage();
      if (options?.viewport) await page.setViewportSize(options.viewport);
      return page;
    },
    close: async () => {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The order the connection table shows connections in by default: those with resets first,
 * then by stream (src/view/table.rs).
 */
export function tableOrder(connections) {
  const reset = (c) => c.from_client.rst + c.from_server.rst > 0;
  return [...connections].sort((a, b) => reset(b) - reset(a) || a.stream - b.stream);
}
