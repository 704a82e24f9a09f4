// End-to-end: strings from a capture are shown as text, never as markup (SECURITY.md, privacy
// promise 4). tests/fixtures/formats/hostile-strings.pcapng (made by examples/make_fixtures.rs)
// carries markup and script in its section comments, hardware/OS/application, interface name
// and description, a packet comment and the text of its RST; the page must show each one
// literally, create no element from any of them, run none of them, and log no error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { launchBrowser, serveDist, watchProblems } from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const fixture = path.join(root, 'tests/fixtures/formats/hostile-strings.pcapng');

// What the fixture carries, as the page must show it (text content).
const SUMMARY_STRINGS = [
  '<img src=x onerror="window.__rstscope_pwned=1">',
  '<script>window.__rstscope_pwned=2</script>',
  '"><svg onload=window.__rstscope_pwned=3>',
  'javascript:window.__rstscope_pwned=4 &lt;b&gt;',
  '<iframe src="javascript:window.__rstscope_pwned=5"></iframe>',
  '<style>*{display:none}</style>',
  '"><svg onload=window.__rstscope_pwned=7> on the RST',
  'javascript:alert(1)//javascript:alert(1)//',
];
const RESET_CAUSE = '<script>window.__rstscope_pwned=8</script><img src=x onerror="window.__rstscope_pwned=9">';
const PACKET_COMMENT = '"><svg onload=window.__rstscope_pwned=7> on the RST';

let server;
let browser;

before(async () => {
  server = await serveDist(path.join(root, 'dist'));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Elements that the strings would create if any of them were parsed as HTML. */
const injected = (page, scope) =>
  page.$$eval(
    `${scope} img, ${scope} svg[onload], ${scope} iframe, ${scope} script, ${scope} style, ${scope} b, ${scope} [onerror], ${scope} [onload]`,
    (els) => els.map((e) => e.outerHTML),
  );

test('strings from a capture are shown as text, never as markup', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems = watchProblems(page);
  page.on('dialog', async (dialog) => {
    problems.push(`dialog: ${dialog.type()} ${dialog.message()}`);
    await dialog.dismiss();
  });
  await page.goto(server.url);
  await page.waitForSelector('.app[data-worker="ready"]', { state: 'attached' });
  await page.setInputFiles('input.drop-zone__input', fixture);
  await page.waitForSelector('tr.connection-table__row');

  // The summary lists every string literally.
  const summary = await page.waitForSelector('.capture-summary__strings');
  const text = await summary.textContent();
  for (const s of SUMMARY_STRINGS) assert.ok(text.includes(s), `the summary shows ${s}`);
  // The packet comment names its frame; the long comment is cut and says so.
  const frames = await page.$$eval('.capture-summary__comment[data-frame]', (els) => els.map((e) => e.dataset.frame));
  assert.deepEqual(frames, ['5']);
  assert.ok(text.includes('…'), 'the long comment is cut');
  assert.deepEqual(await injected(page, '.capture-summary'), []);
  // The <style> in the interface description hid nothing.
  assert.ok(await page.isVisible('.capture-summary__title'));

  // The RST: its packet comment and its text ("reset cause") in the detail pane.
  const stream = await page.$eval('tr.connection-table__row', (row) => row.dataset.stream);
  await page.click(`tr.connection-table__row[data-stream="${stream}"]`);
  const arrow = await page.waitForSelector('g.sequence-diagram__arrow--rst');
  await arrow.click();
  await page.waitForSelector('.detail-pane[data-frame="5"] .detail-pane__fields');
  const cause = await page.$$eval('.detail-pane__field', (rows) =>
    rows
      .filter((r) => r.querySelector('.detail-pane__name')?.textContent === 'Reset cause')
      .map((r) => r.querySelector('.detail-pane__value').textContent),
  );
  assert.deepEqual(cause, [RESET_CAUSE]);
  const comments = await page.$$eval('.detail-pane__comment', (els) => els.map((e) => e.textContent));
  assert.deepEqual(comments, [PACKET_COMMENT]);
  assert.deepEqual(await injected(page, '.detail-pane'), []);

  // Nothing ran: no global set, no dialog, no error (a CSP violation would be one).
  assert.equal(await page.evaluate(() => typeof window.__rstscope_pwned), 'undefined');
  assert.equal(await page.evaluate(() => document.querySelectorAll('img[src="x"], svg[onload], iframe').length), 0);
  assert.deepEqual(problems, []);
  await page.close();
});
