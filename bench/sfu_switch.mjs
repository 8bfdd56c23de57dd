// The mesh → SFU switch, measured: how long remote video freezes while a room
// of three grows to five and moves to the SFU (issue 17's bar: no remote
// video frozen longer than 1 s). The npm package's demo in real Chromium
// pages with fake cameras, a real Janus (scripts/janus-server), RoomService
// with sfu_threshold 4 — as in tests/e2e/sfu_client.test.mjs, without its
// other stages. Each run uses a fresh room and fresh pages:
//   three people in a mesh, a fourth (still mesh), 1 s, then the fifth enters;
//   over the switch, on the first three pages, the longest gap between two
//   requestVideoFrameCallbacks of each remote video the page already had
//   (tests/e2e/pc_spy.js), until every page runs only its two SFU
//   connections and plays four videos, plus 1 s.
// With BENCH_SWITCH_TIMELINE=1 the pages also record a timeline
// (bench/switch_probe.js: video gaps, srcObject swaps, long tasks, connection
// events, sender/receiver stats every 250 ms), written with the result; with
// BENCH_SWITCH_PROFILE=1 the first page's main thread is profiled over the
// switch (CDP Profiler: self time per function, "(program)" being the
// browser's own work: media, layout, paint).
//
// Run inside a loopback-only namespace (it adds the veth pair Janus needs);
// scripts/bench does. Knobs: BENCH_SWITCH_RUNS (5), BENCH_SWITCH_TIMELINE
// (0), BENCH_SWITCH_DEBUG_SERVER (0: the release RoomService),
// BENCH_SWITCH_COMPARE (a www/ directory of another build: each run is made
// with it too, interleaved, reported under `compare`),
// BENCH_SWITCH_DEADLINE_SECS (900: then it stops everything it started and
// exits 1). Prints a summary on stderr; JSON to argv[2] (or stdout).
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, launch, join, createRoom, enterRoom, until, allPlay, ROOT } from '../tests/e2e/harness.mjs';
import { ensureVeth, exitAtDeadline, freePort, startJanus } from '../tests/e2e/janus.mjs';
import { median, loadavg } from './stats.mjs';

const RUNS = Number(process.env.BENCH_SWITCH_RUNS || 5);
const TIMELINE = process.env.BENCH_SWITCH_TIMELINE === '1';
const PROFILE = process.env.BENCH_SWITCH_PROFILE === '1';
// Another build of the demo and package (a www/ directory, e.g. an older commit's): every run is done with
// it too, interleaved, so both share the box's noise.
const COMPARE = process.env.BENCH_SWITCH_COMPARE || '';
const DEADLINE_SECS = Number(process.env.BENCH_SWITCH_DEADLINE_SECS || 900);
const SERVER_BIN = pathJoin(ROOT, 'target', process.env.BENCH_SWITCH_DEBUG_SERVER === '1' ? 'debug' : 'release', 'rtcroom-server');
const OUT = process.argv[2];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (s) => console.error(`[sfu-switch] ${s}`);

/** pc_spy.js, then the timeline probe: one init script. */
function initScript() {
  const spy = readFileSync(pathJoin(ROOT, 'tests', 'e2e', 'pc_spy.js'), 'utf8');
  const probe = TIMELINE ? readFileSync(pathJoin(ROOT, 'bench', 'switch_probe.js'), 'utf8') : '';
  const file = pathJoin(mkdtempSync(pathJoin(tmpdir(), 'rtcroom-switch-')), 'init.js');
  const extra = process.env.BENCH_SWITCH_EXTRA_INIT ? readFileSync(process.env.BENCH_SWITCH_EXTRA_INIT, 'utf8') : '';
  writeFileSync(file, `${spy}\n${probe}\n${extra}`);
  return file;
}

/** A CPU profile's self time per function (ms), the 25 largest: where p1's main thread went. */
function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const ms = new Map();
  for (const [i, id] of profile.samples.entries()) {
    const f = byId.get(id).callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber}`;
    ms.set(key, (ms.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  return [...ms].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => [k, Math.round(v)]);
}

/** One switch in a fresh room: longest gap per (viewer ← member) over it, ms. */
async function switchRun(browser, server, script, run) {
  const people = [];
  try {
    for (let i = 1; i <= 5; i++) people.push(await join(browser, server.base, `r${run}p${i}`, undefined, { initScript: script }));
    const room = `switch ${run}`;
    const [p1, p2, p3, p4, p5] = people;
    await createRoom(p1, room);
    await enterRoom(p2, room);
    await enterRoom(p3, room);
    await allPlay([p1, p2, p3], 2, 60000);
    await enterRoom(p4, room);
    await allPlay([p1, p2, p3, p4], 3, 60000);
    const viewers = [p1, p2, p3];
    for (const p of viewers) await p.page.evaluate(() => window.__gaps.watch());
    if (TIMELINE) for (const p of people) await p.page.evaluate(() => window.__probe.start());
    let cdp = null;
    if (PROFILE) {
      cdp = await p1.context.newCDPSession(p1.page);
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 1000 });
      await cdp.send('Profiler.start');
    }
    await sleep(1000);
    const switchAt = Date.now();
    await enterRoom(p5, room);
    await until('mesh peers closed after the switch', async () => {
      const open = await Promise.all(people.map((p) => p.page.evaluate(() => window.__open())));
      return open.every((n) => n === 2) || open;
    }, 60000);
    const closedMs = Date.now() - switchAt;
    await allPlay(people, 4, 60000);
    await sleep(1000);
    const gaps = await Promise.all(viewers.map((p) => p.page.evaluate(() => window.__gaps.stop())));
    const longest = {};
    for (const [i, g] of gaps.entries()) {
      for (const other of viewers) if (other !== viewers[i]) longest[`${viewers[i].userID}←${other.userID}`] = Math.round(g[other.userID] ?? Infinity);
    }
    const out = { switchAt, meshClosedMs: closedMs, worstGapMs: Math.max(...Object.values(longest)), longest, loadavg: loadavg() };
    if (cdp) out.profile = selfTimes((await cdp.send('Profiler.stop')).profile);
    if (TIMELINE) {
      out.timeline = {};
      for (const p of people) {
        out.timeline[p.userID] = (await p.page.evaluate(() => window.__probe.stop())).map(([t, l, d]) => [t - switchAt, l, d]);
      }
    }
    return out;
  } finally {
    for (const p of people) await p.context.close().catch(() => {});
  }
}

const removeVeth = ensureVeth();
const janusPort = freePort();
const apiSecret = randomBytes(12).toString('hex');
const adminKey = randomBytes(12).toString('hex');
const janus = startJanus({ port: janusPort, apiSecret, adminKey, runDir: mkdtempSync(pathJoin(tmpdir(), 'rtcroom-janus-switch-')) });
let server = null;
let other = null;
let browser = null;
let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  if (browser) await browser.close().catch(() => {});
  server?.stop();
  other?.stop();
  janus.stop();
  removeVeth();
}
exitAtDeadline(DEADLINE_SECS, cleanup, log);

const result = { scenario: 'sfu-switch', runs: [], failures: [], loadavgStart: loadavg() };
if (COMPARE) result.compare = { www: COMPARE, runs: [], failures: [] };
const summarize = (into, label) => {
  const worst = into.runs.map((r) => r.worstGapMs);
  into.summary = { runs: worst.length, medianWorstGapMs: median(worst), maxWorstGapMs: Math.max(...worst), under1s: worst.filter((w) => w < 1000).length, medianMeshClosedMs: median(into.runs.map((r) => r.meshClosedMs)) };
  log(`${label}: longest gap per run ${JSON.stringify(worst)}: median ${into.summary.medianWorstGapMs} ms, worst ${into.summary.maxWorstGapMs} ms, ${into.summary.under1s}/${worst.length} under 1 s`);
};
try {
  await janus.ready;
  const media = ['[media]', `janus_url = "ws://127.0.0.1:${janusPort}"`, `api_secret = "${apiSecret}"`, `admin_key = "${adminKey}"`, 'sfu_threshold = 4', 'max_members_sfu = 16'].join('\n');
  server = await startServer({ bin: SERVER_BIN, extraToml: media });
  if (COMPARE) other = await startServer({ bin: SERVER_BIN, extraToml: media, staticDir: COMPARE });
  browser = await launch();
  const script = initScript();
  const flows = [[server, result, 'this build']];
  if (COMPARE) flows.unshift([other, result.compare, COMPARE]);
  for (let i = 1; i <= RUNS; i++) {
    for (const [srv, into, label] of flows) {
      try {
        const r = await switchRun(browser, srv, script, i);
        into.runs.push(r);
        log(`${label} run ${i}/${RUNS}: longest remote-video gap ${r.worstGapMs} ms ${JSON.stringify(r.longest)}; mesh closed ${r.meshClosedMs} ms after the fifth entered; load ${r.loadavg}`);
      } catch (e) {
        into.failures.push({ run: i, error: String(e.message).slice(0, 500) });
        log(`${label} run ${i}/${RUNS} failed: ${e.message}`);
      }
    }
  }
} finally {
  await cleanup();
}
result.loadavgEnd = loadavg();
if (COMPARE) summarize(result.compare, COMPARE);
summarize(result, 'this build');
const text = JSON.stringify(result, null, 2);
if (OUT) writeFileSync(OUT, text); else console.log(text);
