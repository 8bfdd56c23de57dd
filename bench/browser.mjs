// Join → first remote frame in real Chromium (fake camera, loopback-only
// network namespace: run through scripts/bench). Flows, interleaved run by
// run so they share the machine's noise:
//   raw      two RTCPeerConnections in one page swapping SDP directly (the floor)
//   peerjs   the peerjs client + the `peer` server (bench/pages/peerjs.html)
//   rtcroom  our demo page and RoomService (tests/e2e/harness.mjs helpers)
//   rtcroom_before  the same with another build of the page and client
//            (BENCH_BEFORE_WWW: a www/ directory with its pkg/, e.g. main's),
//            against the same server: before/after in one run
//   rtcroom_full, rtcroom_full_before  the whole flow (camera ‖ login →
//            enterRoom) on bench/pages/rtcroom.html, with www/pkg and with
//            BENCH_BEFORE_WWW's pkg
// Each run: A is in the call with its camera on; B (already logged in /
// connected to the server) joins; from B's start (its camera + enterRoom) we
// time two things: B's first decoded frame of A's video (guest) and A's first
// decoded frame of B's video (host), on the pages' shared clock
// (timeOrigin + now). The rtcroom pages also carry bench/timeline.js; the
// median of each step's first time over the runs says where the time goes.
// Prints JSON: every run, the medians and the timelines.
import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { startServer, launch, join, createRoom, enterRoom, waitPlaying, ROOT } from '../tests/e2e/harness.mjs';
import { servePages, rawRun } from './pages.mjs';
import { median } from './stats.mjs';

const RUNS = Number(process.env.BENCH_BROWSER_RUNS || 10);
const BEFORE_WWW = process.env.BENCH_BEFORE_WWW || '';
const OUT = process.argv[2];
const BENCH = pathJoin(ROOT, 'bench');
const TIMELINE = pathJoin(BENCH, 'timeline.js');


function startPeerServer() {
  const proc = spawn(process.execPath, [pathJoin(BENCH, 'peer-server.mjs'), '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((ok, fail) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/PeerJS on (\d+)/);
      if (m) ok({ port: Number(m[1]), stop: () => proc.kill('SIGTERM') });
    });
    proc.on('exit', (code) => fail(new Error(`peer server exited ${code}`)));
  });
}

/** PeerJS: A listens; B calls (`full`: B's clock also covers its connection to the server). */
async function peerjsRun(browser, pages, peer, i, full = false) {
  const ctxA = await browser.newContext();
  const ctxB = await browser.newContext();
  const [a, b] = [await ctxA.newPage(), await ctxB.newPage()];
  const url = `${pages.base}/peerjs.html?port=${peer.port}`;
  await a.goto(url);
  await b.goto(url);
  const [idA, idB] = full ? [`fa${i}`, `fb${i}`] : [`pa${i}`, `pb${i}`];
  await a.evaluate((id) => window.bench.open(id), idA);
  await a.evaluate(() => window.bench.listen());
  if (!full) await b.evaluate((id) => window.bench.open(id), idB);
  const { guest, t0 } = full
    ? await b.evaluate(([id, other]) => window.bench.joinFull(id, other), [idB, idA])
    : await b.evaluate((other) => window.bench.join(other), idA);
  const hostAt = await a.evaluate(() => window.bench.hostFirst());
  await a.evaluate(() => window.bench.close());
  await b.evaluate(() => window.bench.close());
  await ctxA.close();
  await ctxB.close();
  return { guest, host: hostAt - t0 };
}

/**
 * rtcroom, the whole flow on a page using only the npm package
 * (bench/pages/rtcroom.html): B's clock covers camera start ‖ login →
 * enterRoom (credentials fetched before it, as the issue's flow has them).
 */
async function rtcroomFullRun(browser, server, i, query = '') {
  const open = async (userID) => {
    const context = await browser.newContext();
    await context.addInitScript({ path: TIMELINE });
    const page = await context.newPage();
    if (process.env.BENCH_DEBUG) page.on('console', (m) => console.error(userID, m.text()));
    await page.goto(`${server.base}/rtcroom.html${query}`);
    await page.waitForFunction(() => window.benchReady === true);
    await page.evaluate((u) => window.bench.credentials(u), userID);
    return { context, page };
  };
  const [a, b] = [await open(`fa${i}`), await open(`fb${i}`)];
  const roomID = `full_${i}_${Date.now()}`;
  await a.page.evaluate((r) => window.bench.host(r), roomID);
  await a.page.evaluate(() => window.__timeline.reset());
  await b.page.evaluate(() => window.__timeline.reset());
  const { guest, t0 } = await b.page.evaluate((r) => window.bench.join(r), roomID);
  const hostAt = await a.page.evaluate(() => window.bench.hostFirst());
  const timeline = {};
  for (const [who, p] of [['A', a], ['B', b]]) {
    const marks = await p.page.evaluate(() => window.__timeline.marks); // on the wall clock (timeOrigin + now)
    for (const [t, label] of marks) if (t >= t0 - 1) timeline[`${who} ${label}`] = t - t0;
  }
  timeline['B first frame of A'] = guest;
  timeline['A first frame of B'] = hostAt - t0;
  for (const p of [a, b]) { await p.page.evaluate(() => window.bench.close()); await p.context.close(); }
  return { guest, host: hostAt - t0, timeline };
}

/** A static directory for RoomService: `www`'s pkg/ (copied: the server serves no symlinks out of it) and the npm-package page. */
function packagePageDir(www = pathJoin(ROOT, 'www')) {
  const dir = mkdtempSync(pathJoin(tmpdir(), 'rtcroom-bench-pkg-'));
  cpSync(pathJoin(www, 'pkg'), pathJoin(dir, 'pkg'), { recursive: true });
  cpSync(pathJoin(BENCH, 'pages', 'rtcroom.html'), pathJoin(dir, 'rtcroom.html'));
  return dir;
}

async function rtcroomRun(browser, server, i, tag) {
  const opts = { initScript: TIMELINE };
  const a = await join(browser, server.base, `${tag}a${i}`, undefined, opts);
  const b = await join(browser, server.base, `${tag}b${i}`, undefined, opts);
  await createRoom(a, `bench ${tag} ${i}`);
  // B's login, before the clock: its steps from the login call on, and the wasm's fetch.
  const login = await b.page.evaluate(() => {
    const marks = window.__timeline.marks;
    const t0 = (marks.find(([, l]) => l === 'http login start') ?? marks[0])[0];
    const out = {};
    for (const [t, l] of marks) if (t >= t0) out[`B ${l}`] = t - t0;
    const wasm = performance.getEntriesByType('resource').find((e) => e.name.endsWith('.wasm'));
    if (wasm) out['(page) wasm fetched, ms after navigation'] = wasm.responseEnd;
    return out;
  });
  await b.page.evaluate(() => window.__timeline.reset());
  await a.page.evaluate(() => window.__timeline.reset());
  await enterRoom(b, `bench ${tag} ${i}`);
  await Promise.all([waitPlaying(b, a.userID), waitPlaying(a, b.userID)]);
  const abs = (p, uid) => p.page.evaluate((u) => ({
    start: performance.timeOrigin + window.demo.joinStartedAt,
    first: performance.timeOrigin + window.demo.firstFrame[u],
    marks: window.__timeline.marks,
  }), uid);
  const [ra, rb] = [await abs(a, b.userID), await abs(b, a.userID)];
  const t0 = rb.start;
  const timeline = {};
  for (const [who, r] of [['A', ra], ['B', rb]]) {
    for (const [t, label] of r.marks) if (t >= t0 - 1) timeline[`${who} ${label}`] = t - t0;
  }
  timeline['B first frame of A'] = rb.first - t0;
  timeline['A first frame of B'] = ra.first - t0;
  for (const p of [a, b]) await p.context.close();
  return { guest: rb.first - t0, host: ra.first - t0, timeline, login };
}

/** Each step's median time over the runs where it happened, in time order. */
function medianTimeline(runs, field = 'timeline') {
  const byLabel = {};
  for (const r of runs) for (const [k, v] of Object.entries(r[field])) (byLabel[k] ??= []).push(v);
  return Object.entries(byLabel)
    .map(([label, ts]) => ({ label, ms: Math.round(median(ts)), runs: ts.length }))
    .sort((x, y) => x.ms - y.ms);
}

const server = await startServer({ bin: pathJoin(ROOT, 'target', 'release', 'rtcroom-server') });
const before = BEFORE_WWW ? await startServer({ bin: pathJoin(ROOT, 'target', 'release', 'rtcroom-server'), staticDir: BEFORE_WWW }) : null;
const full = await startServer({ bin: pathJoin(ROOT, 'target', 'release', 'rtcroom-server'), staticDir: packagePageDir() });
const fullBefore = BEFORE_WWW ? await startServer({ bin: pathJoin(ROOT, 'target', 'release', 'rtcroom-server'), staticDir: packagePageDir(BEFORE_WWW) }) : null;
const peer = await startPeerServer();
const pages = await servePages();
// BENCH_CHROMIUM_ARGS: extra Chromium flags (e.g. --js-flags=... for an experiment).
const browser = await launch(process.env.BENCH_CHROMIUM_ARGS ? process.env.BENCH_CHROMIUM_ARGS.split(" ") : []);
const only = process.env.BENCH_FLOWS ? process.env.BENCH_FLOWS.split(',') : null;
const flows = {
  raw: (i) => rawRun(browser, pages, i),
  peerjs: (i) => peerjsRun(browser, pages, peer, i),
  rtcroom: (i) => rtcroomRun(browser, server, i, 'r'),
  peerjs_full: (i) => peerjsRun(browser, pages, peer, i, true),
  rtcroom_full: (i) => rtcroomFullRun(browser, full, i),
  rtcroom_full_views: (i) => rtcroomFullRun(browser, full, i, '?views=made'),
  ...(before ? {
    rtcroom_before: (i) => rtcroomRun(browser, before, i, 'm'),
    rtcroom_full_before: (i) => rtcroomFullRun(browser, fullBefore, i),
    rtcroom_full_views_before: (i) => rtcroomFullRun(browser, fullBefore, i, '?views=made'),
  } : {}),
};
if (only) for (const k of Object.keys(flows)) if (!only.includes(k)) delete flows[k];
const runs = Object.fromEntries(Object.keys(flows).map((k) => [k, []]));
try {
  // One unrecorded round first: Chromium's first call pays for process start-up.
  for (const f of Object.values(flows)) await f('warm');
  for (let i = 0; i < RUNS; i++) {
    for (const [k, f] of Object.entries(flows)) runs[k].push(await f(i));
    console.error(`[browser] run ${i + 1}/${RUNS}: ${Object.keys(flows).map((k) => `${k} ${runs[k][i].guest.toFixed(0)}/${runs[k][i].host.toFixed(0)}`).join(', ')} ms (guest/host)`);
  }
} finally {
  await browser.close();
  server.stop();
  full.stop();
  if (before) before.stop();
  if (fullBefore) fullBefore.stop();
  peer.stop();
  pages.stop();
}
const pick = (k, dir) => runs[k].map((r) => r[dir]);
const result = {
  scenario: 'browser',
  runs: RUNS,
  ms: Object.fromEntries(Object.keys(runs).map((k) => [k, { guest: pick(k, 'guest'), host: pick(k, 'host') }])),
  median_ms: Object.fromEntries(Object.keys(runs).map((k) => [k, { guest: median(pick(k, 'guest')), host: median(pick(k, 'host')) }])),
  timeline: Object.fromEntries(Object.keys(runs).filter((k) => !k.startsWith('peerjs')).map((k) => [k, medianTimeline(runs[k])])),
  login_timeline: Object.fromEntries(Object.keys(runs).filter((k) => runs[k].length && runs[k][0].login).map((k) => [k, medianTimeline(runs[k], 'login')])),
};
const text = JSON.stringify(result, null, 2);
if (OUT) writeFileSync(OUT, text); else console.log(text);
