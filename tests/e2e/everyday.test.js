// End-to-end: what makes the page comfortable every day, in the built page (dist/) in Debian's
// headless Chromium. Exports (CSV and JSON of the table, pcap of one connection or of the
// connections shown) caught through playwright's download event and read back with the CLI,
// with tshark and byte by byte; the shortcut help; an accessible name on every control; the
// time-zone and sequence-number toggles; and screenshots at 1280x720, on a 4K screen and in
// dark mode (tests/e2e/out/).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { cli, cliReport, launchBrowser, serveDist, watchProblems } from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const tshark = process.env.TSHARK ?? '/usr/bin/tshark';
const shots = path.join(here, 'out');
const scenarios = path.join(root, 'tests/fixtures/scenarios');
const everyday = path.join(scenarios, 'everyday.client.pcap');
const massReset = path.join(scenarios, 'mass_reset.client.pcap');
const multiInterface = path.join(root, 'tests/fixtures/formats/pcapng-multi-interface.pcapng');
const gzipped = path.join(root, 'tests/fixtures/formats/pcap-gzip.pcap.gz');

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

/** Frame numbers (1-based) of each stream, from the CLI's per-packet listing. */
function framesByStream(file) {
  const lines = execFileSync(cli, ['analyze', file, '--packets'], { encoding: 'utf8' }).trim().split('\n');
  const byStream = new Map();
  for (const line of lines.slice(1)) {
    const [frame, stream] = line.split('\t');
    const list = byStream.get(Number(stream)) ?? [];
    list.push(Number(frame));
    byStream.set(Number(stream), list);
  }
  return byStream;
}

/** Every record of a classic pcap file: time stamp (ns as BigInt), lengths and bytes. */
function pcapRecords(bytes) {
  const magicLe = bytes.readUInt32LE(0);
  const little = magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d;
  const magic = little ? magicLe : bytes.readUInt32BE(0);
  assert.ok([0xa1b2c3d4, 0xa1b23c4d].includes(magic), `a pcap file (magic ${magic.toString(16)})`);
  const nanos = magic === 0xa1b23c4d;
  const u32 = (at) => (little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const records = [];
  let at = 24;
  while (at + 16 <= bytes.length) {
    const secs = BigInt(u32(at));
    const frac = BigInt(u32(at + 4));
    const caplen = u32(at + 8);
    const origLen = u32(at + 12);
    records.push({
      ns: secs * 1_000_000_000n + (nanos ? frac : frac * 1000n),
      origLen,
      data: bytes.subarray(at + 16, at + 16 + caplen),
    });
    at += 16 + caplen;
  }
  return records;
}

/** A small RFC 4180 reader. */
function parseCsv(text) {
  const records = [];
  let record = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else if (ch !== '\r') field += ch;
  }
  return records;
}

async function openPage(options = {}) {
  const page = await browser.newPage({ viewport: options.viewport ?? { width: 1280, height: 800 } });
  const problems = watchProblems(page);
  await page.goto(server.url);
  await page.waitForSelector('.app[data-worker="ready"]', { state: 'attached' });
  return { page, problems };
}

async function openCapture(page, file) {
  await page.setInputFiles('input.drop-zone__input', file);
  await page.waitForSelector('.capture-summary', { timeout: 60_000 });
}

/** Clicks `selector` and returns the download it starts: its name and where it was saved. */
async function downloadOf(page, selector, keep) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  const name = download.suggestedFilename();
  const saved = path.join(shots, keep ?? name);
  await download.saveAs(saved);
  return { name, file: saved };
}

async function tableRows(page) {
  return page.$$eval('tr.connection-table__row', (rows) =>
    rows.map((row) => {
      const cell = (name) => row.querySelector(`td[data-col="${name}"]`)?.textContent ?? '';
      return {
        stream: cell('stream'),
        client: cell('client').replace(/ \?$/, ''),
        server: cell('server'),
        state: cell('state'),
        packets: cell('packets'),
        rsts: cell('rst') || '0',
      };
    }),
  );
}

function csvRows(text) {
  const [header, ...records] = parseCsv(text);
  return records.map((r) => Object.fromEntries(header.map((name, i) => [name, r[i]])));
}

const asTableRow = (r) => ({
  stream: r.stream,
  client: r.client,
  server: r.server,
  state: r.state,
  packets: r.packets,
  rsts: r.rsts,
});

test('the table exports its rows as CSV and JSON: all of them as the CLI has them, then the filtered ones', async () => {
  const expected = cliReport(massReset);
  const { page, problems } = await openPage();
  await openCapture(page, massReset);
  await page.waitForSelector('tr.connection-table__row');

  const json = await downloadOf(page, '.connection-table__export-json');
  assert.equal(json.name, 'mass_reset.client-connections.json');
  assert.deepEqual(JSON.parse(fs.readFileSync(json.file, 'utf8')), expected);

  const csv = await downloadOf(page, '.connection-table__export-csv');
  assert.equal(csv.name, 'mass_reset.client-connections.csv');
  const text = fs.readFileSync(csv.file, 'utf8');
  assert.match(text, /^stream,client,server,roles_guessed,state,history,packets,bytes_c2s,bytes_s2c,/);
  const rows = csvRows(text);
  assert.equal(rows.length, expected.connections.length);
  assert.deepEqual(rows.map(asTableRow), await tableRows(page));
  for (const row of rows) {
    const c = expected.connections.find((x) => String(x.stream) === row.stream);
    assert.equal(row.start, c.start);
    assert.equal(row.bytes_c2s, String(c.from_client.bytes));
    assert.equal(row.cause, c.resets[0]?.cause ?? '');
  }

  // Filtered: only the connections with a given client address and port.
  const client = expected.connections[2].client;
  await page.fill('.connection-table__filter', client);
  await page.waitForFunction(() => document.querySelectorAll('tr.connection-table__row').length === 1);
  const filteredCsv = csvRows(fs.readFileSync((await downloadOf(page, '.connection-table__export-csv', 'filtered.csv')).file, 'utf8'));
  assert.deepEqual(filteredCsv.map(asTableRow), await tableRows(page));
  const filteredJson = JSON.parse(fs.readFileSync((await downloadOf(page, '.connection-table__export-json', 'filtered.json')).file, 'utf8'));
  assert.deepEqual(filteredJson.connections, expected.connections.filter((c) => c.client === client));
  assert.deepEqual(filteredJson.capture, expected.capture);
  assert.equal(filteredJson.schema, expected.schema);
  assert.deepEqual(problems, []);
  await page.close();
});

test('one connection exports from its diagram as a pcap file that the CLI and tshark read back byte for byte', async () => {
  const expected = cliReport(everyday);
  const reset = expected.connections.find((c) => c.from_client.rst + c.from_server.rst > 0);
  const frames = framesByStream(everyday).get(reset.stream);
  assert.equal(frames.length, reset.packets);

  const { page, problems } = await openPage();
  await openCapture(page, everyday);
  await page.click(`tr.connection-table__row[data-stream="${reset.stream}"]`);
  await page.waitForSelector('g.sequence-diagram__arrow--rst');
  const exported = await downloadOf(page, '.explorer__export-pcap');
  assert.equal(exported.name, `everyday.client-stream-${reset.stream}.pcap`);

  // The CLI: one connection with exactly that connection's packets.
  const again = cliReport(exported.file);
  assert.equal(again.connections.length, 1);
  assert.equal(again.connections[0].packets, reset.packets);
  assert.equal(again.connections[0].client, reset.client);
  assert.equal(again.connections[0].resets.length, reset.resets.length);

  // tshark: the same number of frames, of the same lengths.
  const lengths = (file, filter) =>
    execFileSync(tshark, ['-r', file, ...(filter ? ['-Y', filter] : []), '-T', 'fields', '-e', 'frame.len'], {
      encoding: 'utf8',
    }).trim().split('\n');
  assert.deepEqual(lengths(exported.file), lengths(everyday, `tcp.stream == ${reset.stream}`));

  // Byte for byte: every record is the original frame, with its time stamp and length.
  const original = pcapRecords(fs.readFileSync(everyday));
  const records = pcapRecords(fs.readFileSync(exported.file));
  assert.equal(records.length, frames.length);
  records.forEach((record, i) => {
    const source = original[frames[i] - 1];
    assert.equal(record.ns, source.ns, `frame ${frames[i]}: time stamp`);
    assert.equal(record.origLen, source.origLen, `frame ${frames[i]}: length`);
    assert.ok(record.data.equals(source.data), `frame ${frames[i]}: bytes`);
  });
  assert.deepEqual(problems, []);
  await page.close();
});

test('the connections shown export as one pcap file, also from compressed and multi-interface captures', async () => {
  // The filtered set from the table: the connections that closed normally (SF), not the reset one.
  const expected = cliReport(everyday);
  const { page, problems } = await openPage();
  await openCapture(page, everyday);
  await page.selectOption('.connection-table__state', 'SF');
  await page.waitForFunction(() => document.querySelectorAll('tr.connection-table__row').length === 3);
  const shown = (await tableRows(page)).map((r) => Number(r.stream));
  const want = expected.connections.filter((c) => c.state === 'SF');
  assert.deepEqual(shown.sort(), want.map((c) => c.stream).sort());
  const exported = await downloadOf(page, '.connection-table__export-pcap', 'sf.pcap');
  assert.equal(exported.name, 'everyday.client-connections.pcap');
  const again = cliReport(exported.file);
  assert.deepEqual(again.connections.map((c) => [c.client, c.server, c.packets, c.state]),
    want.map((c) => [c.client, c.server, c.packets, c.state]));
  const frames = framesByStream(everyday);
  const wanted = shown.flatMap((s) => frames.get(s)).sort((a, b) => a - b);
  const original = pcapRecords(fs.readFileSync(everyday));
  const records = pcapRecords(fs.readFileSync(exported.file));
  assert.equal(records.length, wanted.length);
  records.forEach((record, i) => {
    const source = original[wanted[i] - 1];
    assert.ok(record.data.equals(source.data) && record.ns === source.ns, `frame ${wanted[i]}`);
  });

  // A gzip'd capture: its packets are decoded again to be read back.
  await openCapture(page, gzipped);
  await page.waitForFunction(() => document.querySelector('.capture-summary__title')?.textContent === 'pcap-gzip.pcap.gz');
  const fromGzip = cliReport(gzipped);
  if (fromGzip.connections.length > 0) {
    const gz = await downloadOf(page, '.connection-table__export-pcap', 'gzip.pcap');
    const back = cliReport(gz.file);
    assert.equal(back.capture.tcp_packets, fromGzip.capture.tcp_packets);
    assert.equal(back.connections.length, fromGzip.connections.length);
  }

  // Several link types: pcapng, one interface per link type, read back by tshark.
  await openCapture(page, multiInterface);
  await page.waitForFunction(() => document.querySelector('.capture-summary__title')?.textContent === 'pcapng-multi-interface.pcapng');
  const fromMulti = cliReport(multiInterface);
  if (fromMulti.connections.length > 0) {
    const multi = await downloadOf(page, '.connection-table__export-pcap', 'multi.pcapng');
    const back = cliReport(multi.file);
    assert.equal(back.capture.tcp_packets, fromMulti.capture.tcp_packets);
    const types = new Set(fromMulti.capture.link_types.filter((l) => l.packets > 0).map((l) => l.link_type));
    if (types.size > 1) assert.ok(multi.name.endsWith('.pcapng'), multi.name);
    const count = execFileSync(tshark, ['-r', multi.file, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' })
      .trim().split('\n').length;
    assert.equal(count, fromMulti.capture.tcp_packets);
  }
  assert.deepEqual(problems, []);
  await page.close();
});

test('? opens a help that lists every shortcut, keeps focus inside, and Escape closes it', async () => {
  const { page, problems } = await openPage();
  await openCapture(page, everyday);
  await page.focus('.connection-table__filter');
  // Typed into a text field, ? is text, not a shortcut.
  await page.keyboard.type('?');
  assert.equal(await page.$('.shortcut-help'), null);
  await page.fill('.connection-table__filter', '');
  await page.focus('tr.connection-table__row');
  await page.keyboard.press('?');
  await page.waitForSelector('.shortcut-help__dialog[role="dialog"][aria-modal="true"]');
  const keys = await page.$$eval('.shortcut-help__keys', (ks) => ks.map((k) => k.textContent));
  for (const key of ['?', 'Esc', 'Enter', '↑ / ↓', 'n / p', '+ / −', 't', 's']) assert.ok(keys.includes(key), key);
  const inside = () => page.evaluate(() => document.querySelector('.shortcut-help__dialog').contains(document.activeElement));
  assert.ok(await inside(), 'focus moves into the help');
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press('Tab');
    assert.ok(await inside(), 'Tab stays inside the help');
  }
  await page.keyboard.press('Shift+Tab');
  assert.ok(await inside(), 'Shift+Tab stays inside the help');
  await page.screenshot({ path: path.join(shots, 'shortcuts.png') });
  await page.keyboard.press('Escape');
  await page.waitForSelector('.shortcut-help', { state: 'detached' });
  assert.ok(await page.evaluate(() => document.activeElement?.classList.contains('connection-table__row')),
    'focus returns where it was');
  // The header's button opens it too.
  await page.click('.app__help-button');
  await page.waitForSelector('.shortcut-help');
  await page.click('.shortcut-help__close');
  await page.waitForSelector('.shortcut-help', { state: 'detached' });
  assert.deepEqual(problems, []);
  await page.close();
});

/** Controls with no accessible name, from Chromium's own accessibility tree. */
async function unnamedControls(page) {
  const cdp = await page.context().newCDPSession(page);
  const { nodes } = await cdp.send('Accessibility.getFullAXTree');
  await cdp.detach();
  const controls = new Set(['button', 'textbox', 'searchbox', 'combobox', 'checkbox', 'radio', 'slider', 'spinbutton', 'listbox', 'switch', 'link']);
  const named = nodes.filter((n) => !n.ignored && controls.has(n.role?.value));
  return {
    count: named.length,
    unnamed: named.filter((n) => !(n.name?.value ?? '').trim()).map((n) => `${n.role.value} (${n.backendDOMNodeId})`),
  };
}

test('every button, input and select has an accessible name, in every view', async () => {
  const { page, problems } = await openPage();
  const empty = await unnamedControls(page);
  assert.deepEqual(empty.unnamed, [], 'the empty page');
  await openCapture(page, everyday);
  const table = await unnamedControls(page);
  assert.ok(table.count > 15, `${table.count} controls`);
  assert.deepEqual(table.unnamed, [], 'the summary and table');
  // The DOM agrees: every button, input and select has a name a person or a reader can use.
  const bare = await page.$$eval('button, input, select', (els) =>
    els.filter((el) => {
      const label = el.getAttribute('aria-label') || el.labels?.[0]?.textContent || el.textContent || el.title;
      return !label?.trim();
    }).map((el) => el.outerHTML.slice(0, 80)));
  assert.deepEqual(bare, []);
  const reset = cliReport(everyday).connections.find((c) => c.from_client.rst + c.from_server.rst > 0);
  await page.click(`tr.connection-table__row[data-stream="${reset.stream}"]`);
  await page.waitForSelector('g.sequence-diagram__arrow--rst');
  await page.click('g.sequence-diagram__arrow--rst');
  await page.waitForSelector('.detail-pane__hex');
  const diagram = await unnamedControls(page);
  assert.deepEqual(diagram.unnamed, [], 'the diagram and detail pane');
  await page.keyboard.press('?');
  await page.waitForSelector('.shortcut-help');
  assert.deepEqual((await unnamedControls(page)).unnamed, [], 'the shortcut help');
  assert.deepEqual(problems, []);
  await page.close();
});

test('times show in UTC or the browser\'s local time, sequence numbers relative or absolute', async () => {
  const expected = cliReport(everyday);
  const reset = expected.connections.find((c) => c.from_client.rst + c.from_server.rst > 0);
  const { page, problems } = await openPage();
  // A browser far from UTC, with a half-hour offset and no daylight saving.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setTimezoneOverride', { timezoneId: 'Asia/Kolkata' });
  await openCapture(page, everyday);
  const startCell = () => page.$eval(`tr.connection-table__row[data-stream="${reset.stream}"] td[data-col="start"]`, (td) => td.textContent);
  const utc = reset.start.slice(11, 26);
  assert.equal(await startCell(), utc);
  assert.match(await page.$eval('.capture-summary__item[data-key="first_time"] dd', (d) => d.textContent), / UTC$/);
  assert.equal(await page.textContent('.app__zone'), 'Times: UTC');
  assert.match(await page.getAttribute('.app__zone', 'title'), /this browser's time zone/);

  await page.click('.app__zone');
  await page.waitForSelector('.app[data-zone="local"]');
  const local = new Date(Date.parse(reset.start.slice(0, 23) + 'Z') + 330 * 60_000).toISOString().slice(11, 23);
  assert.equal((await startCell()).slice(0, 12), local);
  assert.match(await page.$eval('th[data-col="start"]', (th) => th.textContent), /Start \(local\)/);
  assert.match(await page.$eval('.capture-summary__item[data-key="first_time"] dd', (d) => d.textContent), / UTC\+05:30$/);
  // t flips it back.
  await page.focus('tr.connection-table__row');
  await page.keyboard.press('t');
  await page.waitForSelector('.app[data-zone="utc"]');
  assert.equal(await startCell(), utc);

  // Sequence numbers: relative by default, absolute as tshark reads them off the wire.
  await page.click(`tr.connection-table__row[data-stream="${reset.stream}"]`);
  await page.waitForSelector('g.sequence-diagram__arrow--rst');
  const firstLabel = () => page.$eval('g.sequence-diagram__arrow[data-pos="0"] .sequence-diagram__label', (t) => t.textContent);
  assert.match(await firstLabel(), /Seq=0 /);
  const [seqRaw, ackRaw] = execFileSync(tshark, ['-r', everyday, '-Y', `frame.number == ${reset.first_frame}`,
    '-T', 'fields', '-e', 'tcp.seq_raw', '-e', 'tcp.ack_raw'], { encoding: 'utf8' }).trim().split('\t');
  await page.click('.sequence-diagram__seq');
  await page.waitForFunction(() => document.querySelector('.sequence-diagram__seq')?.textContent === 'Seq: absolute');
  assert.match(await firstLabel(), new RegExp(`Seq=${seqRaw} `));
  // The RST's label agrees with tshark too, in the diagram and in the detail pane.
  const rstFrame = await page.$eval('g.sequence-diagram__arrow--rst', (g) => g.dataset.frame);
  const [rstSeq] = execFileSync(tshark, ['-r', everyday, '-Y', `frame.number == ${rstFrame}`,
    '-T', 'fields', '-e', 'tcp.seq_raw'], { encoding: 'utf8' }).trim().split('\t');
  await page.click('g.sequence-diagram__arrow--rst');
  await page.waitForSelector('.detail-pane__hex');
  assert.match(await page.textContent('.detail-pane__summary'), new RegExp(`Seq=${rstSeq} `));
  assert.ok(ackRaw !== undefined);
  await page.screenshot({ path: path.join(shots, 'diagram-absolute.png'), fullPage: true });
  // s flips back to relative.
  await page.focus('.sequence-diagram__scroll');
  await page.keyboard.press('s');
  await page.waitForFunction(() => document.querySelector('.sequence-diagram__seq')?.textContent === 'Seq: relative');
  assert.match(await firstLabel(), /Seq=0 /);
  assert.deepEqual(problems, []);
  await page.close();
});

test('screenshots at 1280x720, on a 4K screen and in dark mode', async () => {
  const reset = cliReport(everyday).connections.find((c) => c.from_client.rst + c.from_server.rst > 0);
  // A 4K screen as the system usually scales it (200 %: 1920x1080 CSS pixels, every one drawn
  // with 2x2 device pixels), and unscaled (3840x2160 CSS pixels).
  const sizes = [
    { name: '1280x720', viewport: { width: 1280, height: 720 }, scale: 1 },
    { name: '4k', viewport: { width: 1920, height: 1080 }, scale: 2 },
    { name: '4k-unscaled', viewport: { width: 3840, height: 2160 }, scale: 1 },
  ];
  for (const { name, viewport, scale } of sizes) {
    for (const scheme of ['light', 'dark']) {
      const { page, problems } = await openPage({ viewport });
      if (scale !== 1) {
        const cdp = await page.context().newCDPSession(page);
        await cdp.send('Emulation.setDeviceMetricsOverride', { ...viewport, deviceScaleFactor: scale, mobile: false });
      }
      await page.emulateMedia({ colorScheme: scheme });
      await openCapture(page, everyday);
      await page.waitForSelector('tr.connection-table__row');
      await page.screenshot({ path: path.join(shots, `table-${name}-${scheme}.png`) });
      // Nothing is wider than the window: no sideways scrolling of the page.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${name} ${scheme}: the page is ${overflow}px too wide`);
      await page.click(`tr.connection-table__row[data-stream="${reset.stream}"]`);
      await page.waitForSelector('g.sequence-diagram__arrow--rst');
      await page.click('g.sequence-diagram__arrow--rst');
      await page.waitForSelector('.detail-pane__hex');
      await page.screenshot({ path: path.join(shots, `diagram-${name}-${scheme}.png`) });
      if (name === '1280x720') {
        await page.keyboard.press('?');
        await page.waitForSelector('.shortcut-help');
        await page.screenshot({ path: path.join(shots, `shortcuts-${scheme}.png`) });
      }
      assert.deepEqual(problems, []);
      await page.close();
    }
  }
});
