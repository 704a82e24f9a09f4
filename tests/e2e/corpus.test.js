// End-to-end: every capture of the corpus (../shared/captures, through RSTSCOPE_CORPUS), the
// deliberately malformed ones included, opened in the page through its file input one after the
// other. Each must end in the summary or in one clear sentence, with no page error, no console
// error (a panic in the worker would show as one), and the page must keep working.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { launchBrowser, serveDist, watchProblems } from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const corpus = process.env.RSTSCOPE_CORPUS;

let server;
let browser;

before(async () => {
  if (!corpus) return;
  server = await serveDist(path.join(root, 'dist'));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

function captures() {
  const lines = fs.readFileSync(path.join(corpus, 'describe.jsonl'), 'utf8').split('\n').filter(Boolean);
  return lines.map((line) => path.join(corpus, JSON.parse(line).path));
}

test('every corpus capture opens in the page: a summary or one sentence, never a crash', async (t) => {
  if (!corpus) {
    assert.ok(!process.env.CI, 'RSTSCOPE_CORPUS is not set, and CI must run the corpus tests');
    t.skip('NOT RUN: RSTSCOPE_CORPUS is not set (point it at ../shared/captures)');
    return;
  }
  const files = captures();
  assert.ok(files.length > 170, 'the corpus has its captures');
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems = watchProblems(page);
  await page.goto(server.url);
  await page.waitForSelector('.app[data-worker="ready"]', { state: 'attached' });
  let summaries = 0;
  const sentences = [];
  const marks = (name) => page.evaluate((n) => performance.getEntriesByName(n).length, name);
  for (const [i, file] of files.entries()) {
    const name = path.basename(file);
    const shownBefore = await marks('rstscope:report-shown');
    await page.setInputFiles('input.drop-zone__input', file);
    // Done when this file was taken (its mark), nothing is loading, and either a new report was
    // shown under its name or an error names it. (Many corpus files share a name.)
    await page.waitForFunction(
      ({ n, selected, shown }) => {
        const count = (m) => performance.getEntriesByName(m).length;
        if (count('rstscope:file-selected') !== selected || document.querySelector('.progress-bar')) return false;
        const title = document.querySelector('.capture-summary__title')?.textContent;
        const error = document.querySelector('.app__error')?.textContent ?? '';
        return (count('rstscope:report-shown') > shown && title === n) || error.includes(n);
      },
      { n: name, selected: i + 1, shown: shownBefore },
      { timeout: 120_000 },
    );
    const error = await page.$('.app__error');
    if (error) {
      const text = await error.textContent();
      assert.doesNotMatch(text, /panicked|unreachable|RuntimeError|stopped unexpectedly/, `${name}: ${text}`);
      sentences.push(`${path.relative(corpus, file)}: ${text}`);
    } else {
      summaries += 1;
    }
    assert.deepEqual(problems, [], `after ${name}`);
  }
  console.log(`${files.length} captures: ${summaries} analysed, ${sentences.length} refused with a sentence:`);
  for (const s of sentences) console.log(`  ${s}`);
  // Only the snoop file (not pcap or pcapng) is refused outright.
  assert.equal(sentences.length, 1, sentences.join('\n'));
  assert.match(sentences[0], /solaris\.snoop/);
  await page.close();
});
