// End-to-end: from the connection table to one connection's sequence diagram and back, in the
// built page (dist/) in Debian's headless Chromium: open a reset connection, move through its
// packets with the keyboard, read a packet's hex dump, export the diagram as SVG, and return
// with the browser's Back button.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { cliReport, launchBrowser, serveDist, watchProblems } from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const shots = path.join(here, 'out');
const scenario = path.join(root, 'tests/fixtures/scenarios/everyday.client.pcap');

let server;
let browser;

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  server = await serveDist(path.join(root, 'dist'));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const selectedFrame = (page) =>
  page.$eval('.sequence-diagram', (d) => d.getAttribute('data-selected-frame'));

test('a reset connection opens as a sequence diagram that keys, export and Back work on', async () => {
  const report = cliReport(scenario);
  const reset = report.connections.find((c) => c.from_client.rst + c.from_server.rst > 0);
  assert.ok(reset, 'the fixture has a reset connection');

  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems = watchProblems(page);
  await page.goto(server.url);
  await page.waitForSelector('.app[data-worker="ready"]', { state: 'attached' });
  await page.setInputFiles('input.drop-zone__input', scenario);
  await page.waitForSelector('tr.connection-table__row');
  // Reset connections come first.
  const firstRow = await page.$eval('tr.connection-table__row', (row) => Number(row.dataset.stream));
  assert.equal(firstRow, reset.stream);
  await page.screenshot({ path: path.join(shots, 'summary-table.png'), fullPage: true });

  await page.click(`tr.connection-table__row[data-stream="${reset.stream}"]`);
  await page.waitForSelector('g.sequence-diagram__arrow--rst');
  assert.equal(new URL(page.url()).hash, `#stream=${reset.stream}`);
  const arrows = await page.$$eval('g.sequence-diagram__arrow[data-pos]', (gs) => gs.length);
  assert.equal(arrows, reset.packets);

  // Down selects the first packet, n jumps to the next problem; the detail pane follows.
  await page.focus('.sequence-diagram__scroll');
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction(() => document.querySelector('.sequence-diagram')?.dataset.selectedFrame);
  assert.equal(await selectedFrame(page), String(reset.first_frame));
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction(
    (f) => document.querySelector('.sequence-diagram')?.dataset.selectedFrame !== f,
    String(reset.first_frame),
  );
  const second = Number(await selectedFrame(page));
  assert.ok(second > reset.first_frame);
  await page.keyboard.press('n');
  await page.waitForFunction(
    (f) => Number(document.querySelector('.sequence-diagram')?.dataset.selectedFrame) > f,
    second,
  );
  const problem = Number(await selectedFrame(page));
  const selected = await page.$(`g.sequence-diagram__arrow--selected[data-frame="${problem}"]`);
  assert.ok(selected, 'the problem packet is drawn selected');
  const hex = await page.waitForSelector('.detail-pane__hex');
  assert.match(await hex.textContent(), /^0000 {2}[0-9a-f]{2} /);
  const pane = await page.$eval('.detail-pane', (p) => p.dataset.frame);
  assert.equal(Number(pane), problem);
  assert.ok(await page.$('.detail-pane__field[data-layer="TCP"]'), 'TCP fields are listed');
  await page.screenshot({ path: path.join(shots, 'diagram.png'), fullPage: true });

  // Export: a download of a self-contained SVG document.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('.sequence-diagram__export')]);
  assert.equal(download.suggestedFilename(), `tcp-stream-${reset.stream}.svg`);
  const svg = fs.readFileSync(await download.path(), 'utf8');
  // Parsed in a blank page: the app's Content-Security-Policy (rightly) refuses the file's
  // inline <style> if it is parsed there.
  const blank = await browser.newPage();
  const parsed = await blank.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    return {
      root: doc.documentElement.nodeName,
      error: doc.querySelector('parsererror')?.textContent ?? null,
      arrows: doc.querySelectorAll('g[data-frame]').length,
      rst: doc.querySelectorAll('g.sequence-diagram__arrow--rst').length,
      styled: doc.querySelector('style')?.textContent.includes('.sequence-diagram__arrow--rst') ?? false,
    };
  }, svg);
  await blank.close();
  assert.deepEqual(parsed, { root: 'svg', error: null, arrows: reset.packets, rst: parsed.rst, styled: true });
  assert.ok(parsed.rst >= 1);

  // Escape closes the detail pane; Back returns to the table.
  await page.focus('.sequence-diagram__scroll');
  await page.keyboard.press('Escape');
  await page.waitForSelector('.detail-pane', { state: 'detached' });
  await page.goBack();
  await page.waitForSelector('tr.connection-table__row');
  assert.equal(new URL(page.url()).hash, '');
  assert.equal(await page.$('.sequence-diagram'), null);
  // Enter on a row opens it too; the in-page back button returns as well.
  await page.focus(`tr.connection-table__row[data-stream="${reset.stream}"]`);
  await page.keyboard.press('Enter');
  await page.waitForSelector('g.sequence-diagram__arrow--rst');
  await page.click('.explorer__back');
  await page.waitForSelector('tr.connection-table__row');
  assert.deepEqual(problems, []);
  await page.close();
});

test('brushing the timeline filters the connection table', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(server.url);
  await page.waitForSelector('.app[data-worker="ready"]', { state: 'attached' });
  await page.setInputFiles('input.drop-zone__input', scenario);
  await page.waitForSelector('tr.connection-table__row');
  const all = await page.$$eval('tr.connection-table__row', (rows) => rows.length);
  const timeline = await page.$('.timeline__svg');
  await timeline.scrollIntoViewIfNeeded();
  const box = await timeline.boundingBox();
  // Drag across the first tenth of the capture.
  await page.mouse.move(box.x + 2, box.y + box.height / 3);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.1, box.y + box.height / 3, { steps: 4 });
  await page.mouse.up();
  await page.waitForSelector('.timeline__clear');
  const some = await page.$$eval('tr.connection-table__row', (rows) => rows.length);
  assert.ok(some >= 1 && some < all, `${some} of ${all} rows after brushing`);
  await page.click('.timeline__clear');
  await page.waitForFunction((n) => document.querySelectorAll('tr.connection-table__row').length === n, all);
  await page.close();
});
