// End-to-end: the page as it is hosted. The release build made for GitHub Pages
// (`make pages`, public URL /rstscope/) served under that sub-path, and the page working with
// no network after its first visit (service worker).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { cliReport, launchBrowser, serveDist, tableOrder, watchProblems } from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const capture = path.join(root, 'tests/fixtures/scenarios/everyday.client.pcap');
const pagesDist = path.join(root, 'dist-pages');

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

async function streamsShown(page) {
  return page.$$eval('tr.connection-table__row', (rows) => rows.map((row) => Number(row.dataset.stream)));
}

function streamsOfCli() {
  const report = cliReport(capture);
  return tableOrder(report.connections).map((c) => c.stream);
}

async function openCapture(page) {
  await page.setInputFiles('input.drop-zone__input', capture);
  await page.waitForSelector('.connection-table', { timeout: 60_000 });
}

test('the Pages build works under its sub-path /rstscope/, and works offline after one visit', async () => {
  const server = await serveDist(pagesDist, '/rstscope/');
  const page = await browser.newPage();
  const problems = watchProblems(page);

  await page.goto(server.url);
  await page.waitForSelector('.app[data-worker="ready"][data-offline="ready"]', { state: 'attached' });
  const outside = server.requests.filter((url) => !url.startsWith('/rstscope/'));
  assert.deepEqual(outside, [], 'every file is fetched under the sub-path');
  await openCapture(page);
  assert.deepEqual(await streamsShown(page), streamsOfCli());

  // No network at all: the browser is offline and the server is gone.
  await browser.context.setOffline(true);
  await server.close();
  await page.reload();
  await page.waitForSelector('.app[data-worker="ready"]', { state: 'attached' });
  await openCapture(page);
  assert.deepEqual(await streamsShown(page), streamsOfCli());
  assert.deepEqual(problems, []);
  await browser.context.setOffline(false);
  await page.close();
});
