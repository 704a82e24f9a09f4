// End-to-end: the built page (dist/), served on 127.0.0.1, in Debian's headless Chromium,
// driven through the same file input a person uses. Results are checked against the CLI's
// JSON for the same file. Run by `make test` after `trunk build --release`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { cliReport, launchBrowser, serveDist, tableOrder, watchProblems } from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const shots = path.join(here, 'out');

// Captures the project made itself (see tests/fixtures/*/README.md).
const scenario = path.join(root, 'tests/fixtures/scenarios/everyday.client.pcap');
const second = path.join(root, 'tests/fixtures/scenarios/refused.client.pcap');

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

async function openPage() {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems = watchProblems(page);
  await page.goto(server.url);
  await page.waitForSelector('input.drop-zone__input', { state: 'attached' });
  // The worker has loaded and the service worker has cached the app: everything the page
  // needs has been fetched.
  await page.waitForSelector('.app[data-worker="ready"][data-offline="ready"]', { state: 'attached' });
  return { page, problems };
}

async function tableRows(page) {
  return page.$$eval('tr.connection-table__row', (rows) =>
    rows.map((row) => {
      const cell = (name) => row.querySelector(`td[data-col="${name}"]`)?.textContent ?? '';
      return {
        stream: Number(cell('stream')),
        client: cell('client').replace(/ \?$/, ''),
        server: cell('server'),
        packets: Number(cell('packets')),
        rst: cell('rst') !== '',
      };
    }),
  );
}

async function summaryValue(page, key) {
  return page.$eval(`.capture-summary__item[data-key="${key}"] dd`, (dd) => dd.textContent);
}

async function openCapture(page, file) {
  await page.setInputFiles('input.drop-zone__input', file);
  await page.waitForSelector('.capture-summary, .app__error', { timeout: 60_000 });
}

/** The connections in the table's default order: reset connections first, then by stream. */
function expectedRows(report) {
  return tableOrder(report.connections).map((c) => ({
    stream: c.stream,
    client: c.client,
    server: c.server,
    packets: c.packets,
    rst: c.from_client.rst + c.from_server.rst > 0,
  }));
}

test('a capture opened through the file input shows the same connections as the CLI', async () => {
  const expected = cliReport(scenario);
  assert.ok(expected.connections.length > 0, 'the fixture has connections');
  const { page, problems } = await openPage();
  await page.screenshot({ path: path.join(shots, 'empty.png') });
  await openCapture(page, scenario);
  assert.deepEqual(await tableRows(page), expectedRows(expected));
  assert.equal(await summaryValue(page, 'packets'), String(expected.capture.packets));
  assert.equal(await summaryValue(page, 'tcp_packets'), String(expected.capture.tcp_packets));
  assert.equal(await summaryValue(page, 'connections'), String(expected.connections.length));
  await page.screenshot({ path: path.join(shots, 'connections.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('the worker and the page warm up before the page says it is ready, and nothing of it shows', async () => {
  const { page, problems } = await openPage();
  // The worker analysed a capture of its own and sent its report as job 0: the page read it,
  // but shows no report, and set none of the marks the browser benchmark reads.
  assert.equal(await page.$('.capture-summary, .connection-table, .resets-summary, .app__error'), null);
  assert.ok(await page.$('input.drop-zone__input'), 'the drop zone is there');
  // The page drew that report too, off the document: no connection was opened in the URL.
  assert.equal(await page.evaluate(() => location.hash), '');
  const marks = await page.evaluate(() =>
    performance.getEntriesByType('mark').map((m) => m.name).filter((n) => n.startsWith('rstscope:')));
  assert.deepEqual(marks, []);
  // The first file is then read as usual, with its own marks.
  await openCapture(page, second);
  assert.equal(await summaryValue(page, 'packets'), String(cliReport(second).capture.packets));
  await page.waitForFunction(() => performance.getEntriesByName('rstscope:report-shown').length === 1);
  const received = await page.evaluate(() => performance.getEntriesByName('rstscope:report-received').length);
  assert.equal(received, 1);
  assert.deepEqual(problems, []);
  await page.close();
});

test('loading a second file replaces the first', async () => {
  const expected = cliReport(second);
  const { page, problems } = await openPage();
  await openCapture(page, scenario);
  await openCapture(page, second);
  await page.waitForFunction(
    (n) => document.querySelectorAll('tr.connection-table__row').length === n,
    expected.connections.length,
  );
  assert.deepEqual(await tableRows(page), expectedRows(expected));
  const title = await page.$eval('.capture-summary__title', (h) => h.textContent);
  assert.equal(title, path.basename(second));
  assert.deepEqual(problems, []);
  await page.close();
});

test('a file that is not a capture gets one clear sentence, not a blank page', async () => {
  const { page, problems } = await openPage();
  await page.setInputFiles('input.drop-zone__input', {
    name: 'notes.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('these are my notes, not a capture\n'),
  });
  const error = await page.waitForSelector('.app__error', { timeout: 30_000 });
  const text = await error.textContent();
  assert.match(text, /notes\.txt could not be read/);
  assert.match(text, /not a pcap or pcapng capture/);
  // The drop zone is still there for the next file.
  assert.ok(await page.$('input.drop-zone__input'));
  assert.deepEqual(problems, []);
  await page.close();
});

/** A valid pcap of `count` copies of one small TCP packet, written to a temporary file. */
function bigCapture(count) {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  // Ethernet + IPv4 + TCP (ACK), 54 bytes.
  const frame = Buffer.from(
    '0200000000020200000000010800' +
      '45000028000140004006' + '0000' + '0a000001' + '0a000002' +
      'c35000500000000100000001' + '5010ffff' + '00000000',
    'hex',
  );
  const record = Buffer.alloc(16 + frame.length);
  record.writeUInt32LE(1_700_000_000, 0);
  record.writeUInt32LE(frame.length, 8);
  record.writeUInt32LE(frame.length, 12);
  frame.copy(record, 16);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rstscope-big-')), 'big.pcap');
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, header);
  const block = Buffer.concat(Array(10_000).fill(record));
  for (let i = 0; i < count / 10_000; i++) fs.writeSync(fd, block);
  fs.closeSync(fd);
  return file;
}

test('a long read shows its progress and can be cancelled, and the page goes on working', async () => {
  const big = bigCapture(4_000_000); // 280 MB
  const { page, problems } = await openPage();
  await page.setInputFiles('input.drop-zone__input', big);
  const bar = await page.waitForSelector('progress.progress-bar__bar');
  await page.waitForFunction(() => Number(document.querySelector('progress.progress-bar__bar')?.value) > 0);
  const first = Number(await bar.getAttribute('value'));
  await page.waitForFunction(
    (before) => Number(document.querySelector('progress.progress-bar__bar')?.value) > before,
    first,
  );
  await page.click('.progress-bar__cancel');
  const notice = await page.waitForSelector('.app__notice');
  assert.match(await notice.textContent(), /big\.pcap was cancelled/);
  // The same worker takes the next file.
  await openCapture(page, scenario);
  assert.deepEqual(await tableRows(page), expectedRows(cliReport(scenario)));
  assert.deepEqual(problems, []);
  fs.rmSync(path.dirname(big), { recursive: true, force: true });
  await page.close();
});

test('after the page has loaded it makes no network request at all', async () => {
  const seen = [];
  const onRequest = (request) => seen.push(request.url());
  browser.context.on('request', onRequest);
  const { page, problems } = await openPage();
  page.on('request', onRequest);
  page.on('worker', (worker) => worker.on?.('request', onRequest));
  const loadedAt = seen.length;
  const servedAt = server.requests.length;
  assert.ok(loadedAt > 0, 'the page load itself was observed');

  await openCapture(page, scenario);
  await openCapture(page, second);
  await page.setInputFiles('input.drop-zone__input', {
    name: 'notes.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('not a capture'),
  });
  await page.waitForSelector('.app__error');
  await openCapture(page, scenario);
  await page.mouse.wheel(0, 400);

  browser.context.off('request', onRequest);
  assert.deepEqual(seen.slice(loadedAt), [], 'requests made after the page had loaded');
  assert.deepEqual(server.requests.slice(servedAt), [], 'requests the server received after load');
  // Nothing about the capture went into the URL or the page's storage.
  assert.equal(new URL(page.url()).search, '');
  const stored = await page.evaluate(() => [localStorage.length, sessionStorage.length]);
  assert.deepEqual(stored, [0, 0]);
  assert.deepEqual(problems, []);
  await page.close();
});

test('"Try a sample" opens the built-in sample capture in one click, without a request', async () => {
  const expected = cliReport(scenario);
  const { page, problems } = await openPage();
  const servedAt = server.requests.length;
  await page.click('.drop-zone__sample');
  await page.waitForSelector('.connection-table');
  assert.deepEqual(await tableRows(page), expectedRows(expected));
  const title = await page.$eval('.capture-summary__title', (h) => h.textContent);
  assert.equal(title, 'sample-keepalive-race.pcap');
  assert.ok((await tableRows(page)).some((row) => row.rst), 'the sample has a reset');
  assert.deepEqual(server.requests.slice(servedAt), []);
  assert.deepEqual(problems, []);
  await page.close();
});

test('the table filters by text, state, resets and retransmissions, and sorts by a column', async () => {
  const report = cliReport(scenario);
  const { page, problems } = await openPage();
  await openCapture(page, scenario);
  const streams = async () => (await tableRows(page)).map((row) => row.stream);
  const all = tableOrder(report.connections).map((c) => c.stream);
  assert.deepEqual(await streams(), all);

  await page.check('.connection-table__only-resets');
  const reset = report.connections.filter((c) => c.from_client.rst + c.from_server.rst > 0).map((c) => c.stream);
  assert.ok(reset.length > 0 && reset.length < all.length);
  await page.waitForFunction((n) => document.querySelectorAll('tr.connection-table__row').length === n, reset.length);
  assert.deepEqual(await streams(), reset);
  await page.uncheck('.connection-table__only-resets');

  const one = report.connections[2];
  await page.fill('.connection-table__filter', one.client);
  await page.waitForFunction(() => document.querySelectorAll('tr.connection-table__row').length === 1);
  assert.deepEqual(await streams(), [one.stream]);
  await page.fill('.connection-table__filter', '');

  await page.selectOption('.connection-table__state', 'RSTR');
  const rstr = report.connections.filter((c) => c.state === 'RSTR').map((c) => c.stream);
  await page.waitForFunction((n) => document.querySelectorAll('tr.connection-table__row').length === n, rstr.length);
  assert.deepEqual(await streams(), rstr);
  await page.selectOption('.connection-table__state', '');

  await page.click('th[data-col="packets"] button');
  const byPackets = [...report.connections]
    .sort((a, b) => b.packets - a.packets || a.stream - b.stream)
    .map((c) => c.stream);
  await page.waitForSelector('th[data-col="packets"][aria-sort="descending"]');
  assert.deepEqual(await streams(), byPackets);
  await page.click('th[data-col="packets"] button');
  await page.waitForSelector('th[data-col="packets"][aria-sort="ascending"]');
  assert.deepEqual(await streams(), [...byPackets].reverse().sort((a, b) => {
    const pa = report.connections[a].packets;
    const pb = report.connections[b].packets;
    return pa - pb || a - b;
  }));
  assert.deepEqual(problems, []);
  await page.close();
});

test('the resets summary comes first and agrees with the CLI, reset by reset', async () => {
  const file = path.join(root, 'tests/fixtures/scenarios/mass_reset.client.pcap');
  const expected = cliReport(file);
  const { page, problems } = await openPage();
  await openCapture(page, file);
  const first = await page.$eval('.app__main > section', (s) => s.className);
  assert.match(first, /resets-summary/, 'the resets summary is the first view after loading');
  const title = await page.$eval('.resets-summary__title', (h) => h.textContent);
  assert.equal(title, `${expected.summary.resets} resets`);
  const findings = await page.$$eval('.resets-summary__finding', (items) => items.map((i) => i.textContent));
  assert.deepEqual(findings, expected.summary.findings);
  const causes = await page.$$eval('.resets-summary__cause', (items) => items.map((i) => i.dataset.cause));
  assert.deepEqual(causes, expected.summary.by_cause.map((c) => c.cause));
  const shown = await page.$$eval('.resets-summary__reset', (items) =>
    items.map((i) => ({ frame: Number(i.dataset.frame), cause: i.dataset.cause })),
  );
  const resets = expected.connections.flatMap((c) => c.resets.map((r) => ({ frame: r.frame, cause: r.cause })));
  assert.deepEqual(shown, resets);
  // Each cause opens to its plain-language explanation.
  await page.click('.resets-summary__cause summary');
  const explanation = await page.$eval('.resets-summary__cause .resets-summary__explanation', (p) => p.textContent);
  assert.match(explanation, /\w+/);
  await page.screenshot({ path: path.join(shots, 'resets.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});
