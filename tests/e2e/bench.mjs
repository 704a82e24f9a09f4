// Browser benchmark (not a test: node --test does not pick it up). `make bench-browser`, or
//   node tests/e2e/bench.mjs [FILE...]     (default: target/bench/gen-100MB.pcap, gen-1GB.pcap)
//
// Serves the built page (dist/, from `make build`, or BENCH_DIST; nothing is built here), opens it in Debian's
// headless Chromium and, per file:
//   - times the release CLI three times on the same file (`rstscope analyze F --format json`),
//     and three times with `--one-thread`, for the browser/native ratios (against the medians);
//     all native runs are made before Chromium starts, so its processes do not share the cores;
//   - puts the file on the drop zone's input (CDP DOM.setFileInputFiles with the path: the
//     browser reads the file itself, nothing is copied through the driver, whatever the size);
//   - measures, with the page's own clock, the time from the input's change event to both the
//     capture summary (.capture-summary) and the connection table (.connection-table) being in
//     the page, and reads the page's `rstscope:*` performance marks (the page's and, converted
//     to its clock, the worker's) and prints them as a step-by-step breakdown;
//   - samples, every 250 ms, the progress bar's value, the page's JS heap (CDP Performance) and
//     the resident memory of Chromium's renderer processes (/proc: the worker and its wasm
//     memory live there), and reports the peaks;
//   - adds up the CPU time of Chromium's processes, thread by thread (/proc), from the file's
//     choice to the report, by part (the worker, the page's thread, the renderer's other
//     threads, the other processes): divided by the cores, the shortest time this work allows;
//   - checks the page's packet count against the CLI's;
//   - times the same page reading the file alone, as it reads it for the worker but doing
//     nothing with the bytes: the browser's share of the time, which no analysis can remove.
//   - in a fresh page, times the CLI while the page reads the file that way, the two started
//     together (on the CLI's threads, and with `--one-thread`), against the CLI alone in the same
//     minutes: the fastest any page could be on this machine (its analysis at native speed,
//     with nothing after it).
// Then, on the last (largest) file if it has 50 MB or more, a second run that clicks Cancel
// once the progress bar has moved, and expects the cancellation notice (.app__notice); then a
// small capture to show the page still works. Results: a markdown table on stdout and in
// target/bench/browser-results.md.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { launchBrowser, serveDist } from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const cli = process.env.RSTSCOPE_CLI ?? path.join(root, 'target/release/rstscope');
const outDir = path.join(root, 'target/bench');
const small = path.join(root, 'tests/fixtures/scenarios/everyday.client.pcap');
const files = (process.argv.length > 2
  ? process.argv.slice(2)
  : ['gen-100MB.pcap', 'gen-1GB.pcap'].map((f) => path.join(outDir, f))
).map((f) => path.resolve(f));
/** The smallest last file the cancel run is made on. */
const CANCEL_MIN_BYTES = 50e6;
/** Longest wait for one file's report. */
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 20 * 60_000);

function log(...args) {
  console.error('[bench-browser]', ...args);
}

/** The processes of the Chromium this script started (descendants of this process: other
 * engineers' browsers are not counted): pid and command line. */
function chromiumProcesses() {
  const parent = new Map();
  const cmds = new Map();
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      parent.set(pid, /PPid:\s+(\d+)/.exec(status)?.[1]);
      cmds.set(pid, fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  const mine = (pid) => {
    for (let p = parent.get(pid), hops = 0; p && p !== '0' && hops < 20; p = parent.get(p), hops += 1) {
      if (p === String(process.pid)) return true;
    }
    return false;
  };
  return [...cmds].filter(([pid]) => mine(pid));
}

/** Resident memory (bytes) of the renderer processes of the Chromium this script started. */
function rendererRss() {
  let total = 0;
  for (const [pid, cmd] of chromiumProcesses()) {
    if (!cmd.includes('--type=renderer')) continue;
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    } catch {
      // The process ended.
    }
  }
  return total;
}

/** Ticks per second of /proc's CPU times (USER_HZ). */
const ticksPerSecond = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/**
 * CPU time (ms, user + system) used so far by the Chromium this script started, by part: the
 * page's worker (the renderer's `DedicatedWorker` thread), the page's own thread (the renderer's
 * main thread), the renderer's other threads (compilers, garbage collection, raster, IPC), and
 * Chromium's other processes (the browser process reads the file for the page). Threads that
 * ended are not counted, so take it while the page is open.
 */
function chromiumCpu() {
  const cpu = { worker: 0, page: 0, renderer: 0, other: 0 };
  for (const [pid, cmd] of chromiumProcesses()) {
    const renderer = cmd.includes('--type=renderer');
    let tids = [];
    try {
      tids = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      let stat;
      try {
        stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      } catch {
        continue;
      }
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
      let part = 'other';
      if (renderer) part = name === 'DedicatedWorker' ? 'worker' : tid === pid ? 'page' : 'renderer';
      cpu[part] += ms;
    }
  }
  return cpu;
}

/** `b - a`, part by part, with the total. */
function cpuSince(a, b) {
  const d = Object.fromEntries(Object.keys(b).map((k) => [k, b[k] - a[k]]));
  d.total = d.worker + d.page + d.renderer + d.other;
  return d;
}

/** Native runs of the same file (the first also reads it into the page cache): the median. */
function nativeRuns(file, extra = [], runs = 3) {
  const all = Array.from({ length: runs }, () => nativeRun(file, extra));
  all.sort((a, b) => a.seconds - b.seconds);
  return { ...all[Math.floor(runs / 2)], all: all.map((r) => r.seconds) };
}

/** One native run, its JSON written to a file (not piped through node, which would slow it). */
function nativeRun(file, extra = []) {
  const out = path.join(outDir, `native-${path.basename(file)}.json`);
  const fd = fs.openSync(out, 'w');
  const started = process.hrtime.bigint();
  const run = spawnSync(cli, ['analyze', file, '--format', 'json', ...extra], { stdio: ['ignore', fd, 'inherit'] });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  fs.closeSync(fd);
  if (run.status !== 0) throw new Error(`${cli} failed on ${file}`);
  const report = JSON.parse(fs.readFileSync(out, 'utf8'));
  fs.rmSync(out);
  return { seconds, packets: report.capture.packets, connections: report.connections.length };
}

async function openPage(browser, server) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('crash', () => problems.push('the page crashed'));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  await page.goto(server.url);
  await page.waitForSelector('input.drop-zone__input', { state: 'attached' });
  await page.waitForSelector('.app[data-worker="ready"]', { state: 'attached', timeout: 60_000 });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  return { page, problems, cdp };
}

/** Records, with the page's clock, when the input changes and when the report is shown. */
async function installProbes(page) {
  await page.evaluate(() => {
    const w = window;
    w.__bench = { selected: null, summary: null, table: null, notice: null };
    document.querySelector('input.drop-zone__input').addEventListener(
      'change',
      () => {
        w.__bench.selected = performance.now();
      },
      { once: true },
    );
    const look = () => {
      const b = w.__bench;
      const t = performance.now();
      if (b.summary === null && document.querySelector('.capture-summary')) b.summary = t;
      if (b.table === null && document.querySelector('.connection-table')) b.table = t;
      if (b.notice === null && document.querySelector('.app__notice')) b.notice = t;
    };
    new MutationObserver(look).observe(document.body, { childList: true, subtree: true });
  });
}

/** Puts a file on the drop zone's input by path, without copying its bytes. */
async function chooseFile(page, cdp, file) {
  const { root: doc } = await cdp.send('DOM.getDocument', { depth: 0 });
  const { nodeId } = await cdp.send('DOM.querySelector', {
    nodeId: doc.nodeId,
    selector: 'input.drop-zone__input',
  });
  await cdp.send('DOM.setFileInputFiles', { nodeId, files: [file] });
}

/**
 * Puts `file` on a hidden input of its own (not the drop zone's), for `readOnce`: the page then
 * holds the file without opening it.
 */
async function holdFile(page, cdp, file) {
  await page.evaluate(() => {
    document.getElementById('bench-read-alone')?.remove();
    const input = document.createElement('input');
    input.type = 'file';
    input.id = 'bench-read-alone';
    input.hidden = true;
    document.body.append(input);
  });
  const { root: doc } = await cdp.send('DOM.getDocument', { depth: 0 });
  const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: doc.nodeId, selector: '#bench-read-alone' });
  await cdp.send('DOM.setFileInputFiles', { nodeId, files: [file] });
}

/**
 * Reads the file `holdFile` gave the page once, as the page reads it for the worker (8 MiB
 * slices, the first 2 MiB, four asked ahead, on the page's thread) but with nothing done with
 * the bytes, and answers how long that took in ms: the part of the page's time that no analysis
 * can remove.
 */
async function readOnce(page) {
  return page.evaluate(async () => {
    const blob = document.getElementById('bench-read-alone').files[0];
    // As web::worker slices it: 2 MiB first, then 8 MiB.
    const slice = 8 * 1024 * 1024;
    const end = (start) => Math.min(blob.size, start + (start === 0 ? 2 * 1024 * 1024 : slice));
    // As the page does (web::app::read_blob): each slice read with a BYOB reader into one of
    // four buffers that are used again once their slice is read.
    const readInto = async (part, buffer) => {
      const reader = part.stream().getReader({ mode: 'byob' });
      let filled = 0;
      while (filled < part.size) {
        const { value } = await reader.read(new Uint8Array(buffer, filled, part.size - filled));
        buffer = value.buffer;
        if (value.byteLength === 0) break;
        filled += value.byteLength;
      }
      return { buffer, filled };
    };
    const start = performance.now();
    const spare = [1, 2, 3, 4].map(() => new ArrayBuffer(slice));
    const reading = [];
    let asked = 0;
    let read = 0;
    while (read < blob.size) {
      while (reading.length < 4 && asked < blob.size) {
        reading.push(readInto(blob.slice(asked, end(asked)), spare.pop()));
        asked = end(asked);
      }
      const { buffer, filled } = await reading.shift();
      spare.push(buffer);
      read += filled;
    }
    return performance.now() - start;
  });
}

/** How long the browser alone takes to read the file (`readOnce`), best of two, in ms. */
async function readAlone(page, cdp, file) {
  await holdFile(page, cdp, file);
  return Math.min(await readOnce(page), await readOnce(page));
}

/** One native run, its JSON thrown away, timed in ms; it does not block the page's driver. */
function nativeRunAsync(file, extra = []) {
  return new Promise((resolve, reject) => {
    const out = fs.openSync('/dev/null', 'w');
    const started = process.hrtime.bigint();
    const run = spawn(cli, ['analyze', file, '--format', 'json', ...extra], { stdio: ['ignore', out, 'inherit'] });
    run.on('error', reject);
    run.on('exit', (status) => {
      fs.closeSync(out);
      if (status !== 0) reject(new Error(`${cli} failed on ${file}`));
      else resolve(Number(process.hrtime.bigint() - started) / 1e6);
    });
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** The CLI (with `extra` arguments) and the page's reading of the file started together: ms until both are done. */
async function bothDone(page, file, extra = []) {
  const started = process.hrtime.bigint();
  const [native, read] = await Promise.all([nativeRunAsync(file, extra), readOnce(page)]);
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, native, read };
}

/**
 * The fastest any page could be on this machine, measured: the CLI analysing the file at native
 * speed (the file mapped) while the page reads the same file as it must to analyse it
 * (`readOnce`), the two started together, until both are done; on the CLI's threads, and with
 * `--one-thread` (all the work on one thread, as the page's one worker does it). A page cannot do
 * better: its analysis needs the bytes the reading hands over, and it must still copy them into
 * WebAssembly memory, send the report to the page and draw it, none of which is in this time.
 * `runs` rounds, each timing the CLI alone first (the same minutes, with the page idle); the
 * medians.
 */
async function nativeWhileReading(page, cdp, file, runs) {
  await holdFile(page, cdp, file);
  const alone = [];
  const together = [];
  const oneThread = [];
  const read = [];
  for (let run = 0; run < runs; run++) {
    alone.push(await nativeRunAsync(file));
    const both = await bothDone(page, file);
    together.push(both.ms);
    read.push(both.read);
    oneThread.push((await bothDone(page, file, ['--one-thread'])).ms);
    log(`${path.basename(file)}: native alone ${alone.at(-1).toFixed(0)} ms; with the page reading it, both done in ${both.ms.toFixed(0)} ms (read ${both.read.toFixed(0)} ms), on one thread ${oneThread.at(-1).toFixed(0)} ms`);
  }
  return {
    aloneMs: median(alone),
    togetherMs: median(together),
    oneThreadMs: median(oneThread),
    readMs: median(read),
  };
}

async function heapMetrics(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const get = (name) => metrics.find((m) => m.name === name)?.value ?? 0;
  return { used: get('JSHeapUsedSize'), total: get('JSHeapTotalSize') };
}

/** Samples progress and memory until `done()` says stop. */
async function sample(page, cdp, done) {
  const progress = [];
  let heapPeak = 0;
  let rssPeak = 0;
  while (!(await done())) {
    const value = await page
      .$eval('progress.progress-bar__bar', (el) => Number(el.value) / Number(el.max || 1))
      .catch(() => null);
    if (value !== null && progress.at(-1) !== value) progress.push(value);
    const heap = await heapMetrics(cdp).catch(() => ({ used: 0 }));
    heapPeak = Math.max(heapPeak, heap.used);
    rssPeak = Math.max(rssPeak, rendererRss());
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { progress, heapPeak, rssPeak };
}

async function summaryValue(page, key) {
  return page
    .$eval(`.capture-summary__item[data-key="${key}"] dd`, (dd) => dd.textContent)
    .catch(() => null);
}

/** The native runs of a file, made before Chromium starts (its processes would share the cores). */
function nativeOf(file) {
  log(`${path.basename(file)}: native runs`);
  const native = nativeRuns(file);
  const oneThread = nativeRuns(file, ['--one-thread']);
  const times = (r) => r.all.map((t) => t.toFixed(3)).join(', ');
  log(`${path.basename(file)}: native ${times(native)} s, one thread ${times(oneThread)} s`);
  return { native, oneThread };
}

async function runFile(browser, server, file, { native, oneThread }) {
  const bytes = fs.statSync(file).size;
  log(`${path.basename(file)}: browser run`);
  const { page, problems, cdp } = await openPage(browser, server);
  await installProbes(page);
  const rssBefore = rendererRss();
  const cpuBefore = chromiumCpu();
  const started = Date.now();
  await chooseFile(page, cdp, file);
  const finished = async () => {
    if (problems.some((p) => p.includes('crashed'))) return true;
    if (Date.now() - started > TIMEOUT_MS) return true;
    return page
      .evaluate(
        () => (window.__bench.summary !== null && window.__bench.table !== null)
          || document.querySelector('.app__error') !== null,
      )
      .catch(() => true);
  };
  const sampled = await sample(page, cdp, finished);
  // Up to the sample that saw the report (up to 250 ms late; it is idle time).
  const cpu = cpuSince(cpuBefore, chromiumCpu());
  const result = {
    file: path.basename(file),
    bytes,
    native,
    oneThread,
    problems,
    progress: sampled.progress,
    heapPeak: sampled.heapPeak,
    rssPeak: sampled.rssPeak,
    rssBefore,
    cpu,
  };
  if (problems.some((p) => p.includes('crashed'))) {
    result.error = 'the page crashed';
    await page.close().catch(() => {});
    return result;
  }
  const probes = await page.evaluate(() => window.__bench);
  result.error = await page.$eval('.app__error', (e) => e.textContent).catch(() => null);
  if (result.error === null && probes.summary === null) result.error = `no report after ${TIMEOUT_MS} ms`;
  result.summaryMs = probes.summary - probes.selected;
  result.tableMs = probes.table - probes.selected;
  result.shownMs = Math.max(probes.summary, probes.table) - probes.selected;
  result.marks = await page.evaluate(() => performance
    .getEntriesByType('mark')
    .filter((m) => m.name.startsWith('rstscope:'))
    .map((m) => ({ name: m.name, at: m.startTime })));
  result.pagePackets = Number((await summaryValue(page, 'packets'))?.replace(/[^0-9]/g, '') ?? NaN);
  result.workerMs = Number((await summaryValue(page, 'millis'))?.replace(/[^0-9.]/g, '') ?? NaN);
  result.rows = await page.$$eval('tr.connection-table__row', (rows) => rows.length);
  const heap = await heapMetrics(cdp);
  result.heapAfter = heap.used;
  result.heapPeak = Math.max(result.heapPeak, heap.used);
  // Is the page responsive once the report is shown? Time one round trip through its main thread.
  const t = Date.now();
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve())));
  result.frameMs = Date.now() - t;
  await page.screenshot({ path: path.join(outDir, `browser-${result.file}.png`) }).catch(() => {});
  const cpuBeforeRead = chromiumCpu();
  result.readAloneMs = await readAlone(page, cdp, file).catch(() => NaN);
  // Two reads: half of it each.
  result.readAloneCpuMs = cpuSince(cpuBeforeRead, chromiumCpu()).total / 2;
  await page.close();
  // In a fresh page, so the renderer no longer holds this file's analysis.
  const fresh = await openPage(browser, server);
  result.floor = await nativeWhileReading(fresh.page, fresh.cdp, file, bytes > 500e6 ? 3 : 5)
    .catch((error) => {
      log(`${path.basename(file)}: the native run beside the page's reading failed: ${error.message}`);
      return null;
    });
  await fresh.page.close();
  return result;
}

async function cancelRun(browser, server, file) {
  log(`${path.basename(file)}: cancel run`);
  const { page, problems, cdp } = await openPage(browser, server);
  await installProbes(page);
  await chooseFile(page, cdp, file);
  const bar = 'progress.progress-bar__bar';
  await page.waitForSelector(bar, { timeout: 60_000 });
  const progressAt = async () => page.$eval(bar, (el) => Number(el.value) / Number(el.max || 1));
  const deadline = Date.now() + 120_000;
  let value = 0;
  while ((value = await progressAt().catch(() => 0)) < 0.05 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const clicked = await page.evaluate(() => performance.now());
  await page.click('.progress-bar__cancel');
  await page.waitForSelector('.app__notice', { timeout: 60_000 });
  const probes = await page.evaluate(() => window.__bench);
  const result = {
    progressAtCancel: value,
    noticeMs: probes.notice - clicked,
    notice: await page.$eval('.app__notice', (e) => e.textContent),
    barGone: (await page.$(bar)) === null,
    problems,
  };
  // The page still works after a cancel: a small capture gets its report.
  await chooseFile(page, cdp, small);
  await page.waitForSelector('.capture-summary', { timeout: 60_000 });
  result.afterCancel = await summaryValue(page, 'packets');
  await page.close();
  return result;
}

const mb = (b) => (b / 1e6).toFixed(0);

function table(results, cancel) {
  const lines = [];
  lines.push(`## Browser: the page in headless Chromium (${new Date().toISOString().slice(0, 10)})`);
  lines.push('');
  lines.push('Time from the file input\'s change event to the summary and the table in the page (page clock);');
  lines.push('"worker" is the page\'s own "Analysed in". Native: the median of three `rstscope analyze F --format json` runs (several threads), and of three with `--one-thread` (all on one thread, as the page works), made before Chromium starts.');
  lines.push('');
  lines.push('"read alone": the same page reading the file the way it reads it for the worker, with nothing done with the bytes (best of two).');
  lines.push('');
  lines.push('| file | size | packets | native s | native one thread s | page: summary s | page: table s | worker s | read alone s | browser/native | browser/native one thread | packets/s (page) | JS heap peak MB | renderer RSS peak MB (growth) | progress values seen | table rows drawn | problems |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of results) {
    if (r.error) {
      lines.push(`| ${r.file} | ${mb(r.bytes)} MB | ${r.native.packets} | ${r.native.seconds.toFixed(3)} | ${r.oneThread.seconds.toFixed(3)} | - | - | - | - | - | - | - | ${mb(r.heapPeak)} | ${mb(r.rssPeak)} (+${mb(r.rssPeak - r.rssBefore)}) | ${r.progress.length} | - | **${r.error}** ${r.problems.join('; ')} |`);
      continue;
    }
    const s = r.shownMs / 1000;
    lines.push(`| ${r.file} | ${mb(r.bytes)} MB | ${r.pagePackets} | ${r.native.seconds.toFixed(3)} | ${r.oneThread.seconds.toFixed(3)} | ${(r.summaryMs / 1000).toFixed(2)} | ${(r.tableMs / 1000).toFixed(2)} | ${(r.workerMs / 1000).toFixed(2)} | ${(r.readAloneMs / 1000).toFixed(2)} | **${(s / r.native.seconds).toFixed(1)}x** | ${(s / r.oneThread.seconds).toFixed(1)}x | ${(r.pagePackets / s).toFixed(0)} | ${mb(r.heapPeak)} | ${mb(r.rssPeak)} (+${mb(r.rssPeak - r.rssBefore)}) | ${r.progress.length} | ${r.rows} | ${r.pagePackets === r.native.packets ? '' : `packets differ from the CLI (${r.native.packets}); `}${r.problems.join('; ')} |`);
  }
  lines.push('');
  if (results.some((r) => r.marks?.length)) {
    lines.push('Performance marks (`rstscope:*`, page clock; the worker\'s steps are converted to it), in ms after');
    lines.push('`rstscope:file-selected`, and the time since the mark before:');
    for (const r of results) {
      const marks = [...(r.marks ?? [])].sort((a, b) => a.at - b.at);
      const selected = marks.find((m) => m.name === 'rstscope:file-selected')?.at;
      if (selected === undefined) continue;
      // The page's first render is not the DOM update the probe sees: show that too.
      if (!r.error) marks.push({ name: '(summary and table in the DOM)', at: selected + r.shownMs });
      marks.sort((a, b) => a.at - b.at);
      lines.push('');
      lines.push(`| ${r.file} | ms | step ms |`);
      lines.push('|---|---:|---:|');
      let before = selected;
      for (const m of marks) {
        if (m.at < selected) continue;
        lines.push(`| ${m.name.replace('rstscope:', '')} | ${(m.at - selected).toFixed(0)} | ${(m.at - before).toFixed(0)} |`);
        before = m.at;
      }
    }
  } else {
    lines.push('Performance marks: the page sets no `rstscope:*` marks.');
  }
  const measured = results.filter((r) => !r.error && r.cpu);
  if (measured.length) {
    const cores = os.cpus().length;
    lines.push('');
    lines.push(`CPU time of Chromium's processes (all of them: /proc, user + system) from the file's choice to the`);
    lines.push(`report in the page, in s. The page's work cannot take less wall time than its CPU time shared`);
    lines.push(`over this machine's ${cores} cores ("CPU / ${cores}"), whatever runs beside what; "read alone CPU" is the`);
    lines.push('CPU the same reading takes with nothing done with the bytes.');
    lines.push('');
    lines.push(`| file | worker | page thread | renderer, other threads | other processes | total | CPU / ${cores} | page wall | 2 x native | read alone CPU |`);
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    const sec = (ms) => (ms / 1000).toFixed(2);
    for (const r of measured) {
      const c = r.cpu;
      lines.push(`| ${r.file} | ${sec(c.worker)} | ${sec(c.page)} | ${sec(c.renderer)} | ${sec(c.other)} | ${sec(c.total)} | ${sec(c.total / cores)} | ${sec(r.shownMs)} | ${(2 * r.native.seconds).toFixed(2)} | ${sec(r.readAloneCpuMs)} |`);
    }
  }
  const floors = results.filter((r) => !r.error && r.floor);
  if (floors.length) {
    lines.push('');
    lines.push('The fastest a page could be here: the CLI (`rstscope analyze F --format json`, the file mapped) started');
    lines.push('together with the page reading the same file as it must (`readOnce`, nothing done with the bytes),');
    lines.push('until both are done, on the CLI\'s threads and with `--one-thread` (the page\'s one worker works on');
    lines.push('one thread); the CLI alone timed just before each round, with the page idle (medians of 5 rounds, 3');
    lines.push('above 500 MB; in a fresh page). A page\'s report cannot come sooner: its analysis needs those bytes,');
    lines.push('and copying them into WebAssembly memory, sending the report to the page and drawing it come on top.');
    lines.push('');
    lines.push('| file | native alone s | native with the reading, both done s | the reading meanwhile s | floor / native alone | one thread with the reading s | one-thread floor / native alone | page wall s | page / native alone |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of floors) {
      const f = r.floor;
      const s3 = (ms) => (ms / 1000).toFixed(3);
      lines.push(`| ${r.file} | ${s3(f.aloneMs)} | ${s3(f.togetherMs)} | ${s3(f.readMs)} | **${(f.togetherMs / f.aloneMs).toFixed(2)}x** | ${s3(f.oneThreadMs)} | **${(f.oneThreadMs / f.aloneMs).toFixed(2)}x** | ${(r.shownMs / 1000).toFixed(2)} | ${(r.shownMs / f.aloneMs).toFixed(1)}x |`);
    }
  }
  if (cancel) {
    lines.push('');
    lines.push(`Cancel (second run of ${cancel.file}): clicked at ${(cancel.progressAtCancel * 100).toFixed(0)}% read; `
      + `notice after ${cancel.noticeMs.toFixed(0)} ms ("${cancel.notice}"); progress bar gone: ${cancel.barGone}; `
      + `a small capture afterwards: ${cancel.afterCancel} packets${cancel.problems.length ? `; problems: ${cancel.problems.join('; ')}` : ''}.`);
  }
  return lines.join('\n');
}

async function main() {
  for (const f of files) {
    if (!fs.existsSync(f)) throw new Error(`${f} is missing: run \`make bench\` first (it generates target/bench/gen-*.pcap)`);
  }
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: cargo build --release`);
  fs.mkdirSync(outDir, { recursive: true });
  const natives = files.map(nativeOf);
  const server = await serveDist(path.resolve(root, process.env.BENCH_DIST ?? 'dist'));
  const browser = await launchBrowser();
  const results = [];
  let cancel = null;
  try {
    for (const [i, f] of files.entries()) {
      const r = await runFile(browser, server, f, natives[i]);
      log(JSON.stringify({ ...r, progress: r.progress.length }));
      results.push(r);
    }
    const last = files.at(-1);
    // A small file is read before a click could land: no cancel run then.
    if (fs.statSync(last).size >= CANCEL_MIN_BYTES) {
      cancel = { file: path.basename(last), ...(await cancelRun(browser, server, last)) };
      log(JSON.stringify(cancel));
    } else {
      log(`${path.basename(last)}: under ${mb(CANCEL_MIN_BYTES)} MB, no cancel run`);
    }
  } finally {
    await browser.close();
    await server.close();
  }
  const text = table(results, cancel);
  fs.writeFileSync(path.join(outDir, 'browser-results.md'), `${text}\n`);
  console.log(text);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
