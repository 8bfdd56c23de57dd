// Mesh vs SFU with the npm package (the demo page on www/pkg: only the
// package's API), real Chromium pages with fake cameras, a real Janus
// (scripts/janus-server), the release RoomService. Interleaved, round by
// round, so every flow shares the machine's noise:
//   floor   the raw two-peer page of bench/browser.mjs (no server)
//   mesh4   4 people, RoomService without a media server (4 is the mesh
//           maximum): one RTCPeerConnection per pair
//   sfu4    4 people, sfu_threshold 0: one publisher + one subscriber each
//   sfu6    6 people, same
// Per room: the last person enters a running room; their entry → first
// decoded frame of each other member (demo.firstFrame). Then, after 3 s to
// settle, a window of BENCH_SFU_SECS: upload per page (outbound-rtp
// bytesSent over every open connection), CPU per page (the page's Chromium
// renderer process, /proc user+system), the rest of Chromium (browser, GPU,
// utility processes), Janus and RoomService, and received frames per second
// of every remote video.
// Then rooms per Janus: 6-person rooms added one by one (at most
// BENCH_SFU_ROOMS) on the same Janus; after each, a window over every page;
// stops early when a room does not come up or the received frame rate falls
// under half of the one-room rate.
//
// Run inside a loopback-only namespace (it adds the veth pair Janus needs);
// scripts/bench does. Knobs: BENCH_SFU_RUNS (3), BENCH_SFU_SECS (10),
// BENCH_SFU_ROOMS (4), BENCH_SFU_CAMERA (WxH@fps, e.g. 160x120@15: a
// smaller fake camera), BENCH_SFU_DEADLINE_SECS
// (1800: then it stops everything it started and exits 1). Prints a summary on stderr; JSON to argv[2] (or stdout).
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, launch, join, createRoom, enterRoom, playingCount, ROOT } from '../tests/e2e/harness.mjs';
import { ensureVeth, exitAtDeadline, freePort, startJanus, ownProcesses } from '../tests/e2e/janus.mjs';
import { servePages, rawRun } from './pages.mjs';
import { median, loadavg } from './stats.mjs';

const RUNS = Number(process.env.BENCH_SFU_RUNS || 3);
const SECS = Number(process.env.BENCH_SFU_SECS || 10);
const MAX_ROOMS = Number(process.env.BENCH_SFU_ROOMS || 4);
const DEADLINE_SECS = Number(process.env.BENCH_SFU_DEADLINE_SECS || 1800);
// WxH@fps: the fake camera plays an ffmpeg test pattern of that size instead of Chromium's 640x480 one,
// so more pages fit on the box (lighter encoders and decoders; Janus forwards fewer bytes too).
const CAMERA = process.env.BENCH_SFU_CAMERA || '';
const OUT = process.argv[2];
const SPY = pathJoin(ROOT, 'tests', 'e2e', 'pc_spy.js');
const SERVER_BIN = pathJoin(ROOT, 'target', 'release', 'rtcroom-server');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (s) => console.error(`[sfu] ${s}`);

/** Waits until every page plays `want` remote videos. */
async function allPlay(people, want, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let counts = [];
  while (Date.now() < deadline) {
    counts = await Promise.all(people.map((p) => playingCount(p)));
    if (counts.every((n) => n === want)) return;
    await sleep(300);
  }
  throw new Error(`not every page plays ${want} remote videos: ${JSON.stringify(counts)}`);
}

/** What a page's open connections sent and decoded so far (the pc_spy's RTCPeerConnections). */
function counters(p) {
  return p.page.evaluate(async () => {
    const out = { bytesSent: 0, videoBytesSent: 0, framesDecoded: {} };
    for (const pc of window.__pcs) {
      if (pc.connectionState === 'closed' || pc.signalingState === 'closed') continue;
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'outbound-rtp') {
          out.bytesSent += s.bytesSent;
          if (s.kind === 'video') {
            out.videoBytesSent += s.bytesSent;
            if (s.frameWidth) out.sentVideo = `${s.frameWidth}x${s.frameHeight}`;
          }
        }
        if (s.type === 'inbound-rtp' && s.kind === 'video') out.framesDecoded[`${pc.__id ??= Math.random()}:${s.ssrc}`] = s.framesDecoded;
      });
    }
    return out;
  });
}

/** CPU-seconds deltas between two ownProcesses() snapshots, grouped. */
function cpuDelta(before, after, secs, pages) {
  const d = (pid, p) => (p.seconds - (before.get(pid)?.seconds ?? 0)) / secs;
  const renderers = [];
  const out = { chromiumOther: 0, janus: 0, server: 0, chromium: 0 };
  for (const [pid, p] of after) {
    const cores = d(pid, p);
    if (/chrom/i.test(p.name)) {
      out.chromium += cores;
      if (p.type === 'renderer') renderers.push(cores); else out.chromiumOther += cores;
    } else if (/janus/.test(p.name)) out.janus += cores;
    else if (/rtcroom/.test(p.name)) out.server += cores;
  }
  // One renderer per page; Chromium may keep a spare renderer (idle): the busiest `pages` are the pages'.
  renderers.sort((a, b) => b - a);
  const perPage = renderers.slice(0, pages);
  out.chromiumOther += renderers.slice(pages).reduce((a, b) => a + b, 0);
  return { ...out, perPage };
}

/** A window of SECS over `people`: upload per page, CPU, received fps per remote video. */
async function measure(people) {
  const c0 = await Promise.all(people.map(counters));
  const p0 = ownProcesses();
  const t0 = Date.now();
  await sleep(SECS * 1000);
  const secs = (Date.now() - t0) / 1000;
  const p1 = ownProcesses();
  const c1 = await Promise.all(people.map(counters));
  const upKbps = c1.map((c, i) => ((c.bytesSent - c0[i].bytesSent) * 8) / secs / 1000);
  const fps = [];
  for (const [i, c] of c1.entries()) {
    for (const [k, n] of Object.entries(c.framesDecoded)) if (k in c0[i].framesDecoded) fps.push((n - c0[i].framesDecoded[k]) / secs);
  }
  const cpu = cpuDelta(p0, p1, secs, people.length);
  return {
    secs,
    loadavg: loadavg(),
    sentVideo: [...new Set(c1.map((c) => c.sentVideo))].join(', '),
    uploadKbpsPerPage: { median: median(upKbps), min: Math.min(...upKbps), max: Math.max(...upKbps) },
    rendererCoresPerPage: { median: median(cpu.perPage), min: Math.min(...cpu.perPage), max: Math.max(...cpu.perPage) },
    chromiumOtherCores: cpu.chromiumOther,
    chromiumCores: cpu.chromium,
    janusCores: cpu.janus,
    serverCores: cpu.server,
    receivedFps: { median: median(fps), min: Math.min(...fps), streams: fps.length },
  };
}

/** `n` people in a fresh room on `server`; the last enters a running room. Returns them and its first frames. */
async function fillRoom(browser, server, n, tag) {
  const people = [];
  try {
    for (let i = 1; i <= n; i++) people.push(await join(browser, server.base, `${tag}p${i}`, undefined, { initScript: SPY }));
    const name = `bench ${tag}`;
    await createRoom(people[0], name);
    for (const p of people.slice(1, -1)) await enterRoom(p, name);
    await allPlay(people.slice(0, -1), n - 2, 120000);
    const last = people[n - 1];
    await enterRoom(last, name);
    await allPlay(people, n - 1, 120000);
    const first = await last.page.evaluate(() => Object.values(window.demo.firstFrame).map((t) => t - window.demo.joinStartedAt));
    return { people, first: { median: median(first), max: Math.max(...first) } };
  } catch (e) {
    for (const p of people) await p.context.close().catch(() => {});
    throw e;
  }
}

async function roomRun(browser, server, n, tag) {
  const { people, first } = await fillRoom(browser, server, n, tag);
  try {
    await sleep(3000); // bitrates settle
    return { firstFrameMs: first, ...(await measure(people)) };
  } finally {
    for (const p of people) await p.context.close();
  }
}

const removeVeth = ensureVeth();
const janusPort = freePort();
const apiSecret = randomBytes(12).toString('hex');
const adminKey = randomBytes(12).toString('hex');
const janus = startJanus({ port: janusPort, apiSecret, adminKey, runDir: mkdtempSync(pathJoin(tmpdir(), 'rtcroom-janus-bench-')) });
const servers = [];
let browser = null;
let pages = null;
let cleaned = false;
/** Stops everything this bench started (by handle), once. */
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  if (browser) await browser.close().catch(() => {});
  for (const s of servers) s.stop();
  pages?.stop();
  janus.stop();
  removeVeth();
}
exitAtDeadline(DEADLINE_SECS, cleanup, log);
const result = { scenario: 'sfu', runs: RUNS, secs: SECS, loadavgStart: loadavg(), flows: { floor: [], mesh4: [], sfu4: [], sfu6: [] }, failures: [], rooms: [] };
try {
  await janus.ready;
  const mesh = await startServer({ bin: SERVER_BIN });
  servers.push(mesh);
  const sfu = await startServer({
    bin: SERVER_BIN,
    extraToml: ['[media]', `janus_url = "ws://127.0.0.1:${janusPort}"`, `api_secret = "${apiSecret}"`, `admin_key = "${adminKey}"`, 'sfu_threshold = 0', 'max_members_sfu = 8'].join('\n'),
  });
  servers.push(sfu);
  pages = await servePages();
  const extraArgs = [];
  if (CAMERA) {
    const [, w, h, fps] = CAMERA.match(/^(\d+)x(\d+)@(\d+)$/) ?? [];
    if (!w) throw new Error(`BENCH_SFU_CAMERA: want WxH@fps, got ${CAMERA}`);
    const y4m = pathJoin(mkdtempSync(pathJoin(tmpdir(), 'rtcroom-bench-camera-')), 'camera.y4m');
    execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc=size=${w}x${h}:rate=${fps}:duration=10`, '-pix_fmt', 'yuv420p', y4m]);
    extraArgs.push(`--use-file-for-fake-video-capture=${y4m}`);
    result.camera = CAMERA;
  }
  browser = await launch(extraArgs);
  const flows = {
    floor: (i) => rawRun(browser, pages).then((r) => ({ firstFrameMs: { median: r.guest, max: r.guest } })),
    mesh4: (i) => roomRun(browser, mesh, 4, `m4r${i}`),
    sfu4: (i) => roomRun(browser, sfu, 4, `s4r${i}`),
    sfu6: (i) => roomRun(browser, sfu, 6, `s6r${i}`),
  };
  await rawRun(browser, pages); // unrecorded: Chromium's first call pays for process start-up
  for (let i = 0; i < RUNS; i++) {
    for (const [k, f] of Object.entries(flows)) {
      let r;
      try {
        r = await f(i);
      } catch (e) {
        result.failures.push({ flow: k, run: i + 1, error: String(e.message).slice(0, 500) });
        log(`run ${i + 1}/${RUNS} ${k} failed: ${e.message}`);
        continue;
      }
      result.flows[k].push(r);
      log(`run ${i + 1}/${RUNS} ${k}: first remote frame median ${r.firstFrameMs.median.toFixed(0)} ms` + (r.uploadKbpsPerPage
        ? `, upload/page ${r.uploadKbpsPerPage.median.toFixed(0)} kbit/s, renderer/page ${r.rendererCoresPerPage.median.toFixed(2)} cores, Chromium other ${r.chromiumOtherCores.toFixed(2)}, Janus ${r.janusCores.toFixed(3)}, received ${r.receivedFps.median.toFixed(1)} fps, load ${r.loadavg}` : ''));
    }
  }

  // Rooms per Janus.
  const held = [];
  try {
    for (let k = 1; k <= MAX_ROOMS; k++) {
      let room;
      try {
        room = await fillRoom(browser, sfu, 6, `janus-room${k}`);
      } catch (e) {
        result.rooms.push({ rooms: k, failed: String(e.message) });
        log(`room ${k} did not come up: ${e.message}`);
        break;
      }
      held.push(...room.people);
      await sleep(3000);
      const m = await measure(held);
      result.rooms.push({ rooms: k, pages: held.length, firstFrameMs: room.first, ...m });
      log(`${k} room(s), ${held.length} pages, sending ${m.sentVideo}: received ${m.receivedFps.median.toFixed(1)} fps median (min ${m.receivedFps.min.toFixed(1)}, ${m.receivedFps.streams} streams), Janus ${m.janusCores.toFixed(3)} cores, Chromium ${m.chromiumCores.toFixed(2)}, load ${m.loadavg}`);
      if (m.receivedFps.median < result.rooms[0].receivedFps.median / 2) { log('frame rate halved: stop'); break; }
    }
  } finally {
    for (const p of held) await p.context.close();
  }
} finally {
  await cleanup();
}
result.loadavgEnd = loadavg();
const pick = (runs, f) => median(runs.map(f));
result.median = Object.fromEntries(Object.entries(result.flows).map(([k, runs]) => [k, {
  firstFrameMs: pick(runs, (r) => r.firstFrameMs.median),
  firstFrameMaxMs: pick(runs, (r) => r.firstFrameMs.max),
  ...(runs[0]?.uploadKbpsPerPage ? {
    uploadKbpsPerPage: pick(runs, (r) => r.uploadKbpsPerPage.median),
    rendererCoresPerPage: pick(runs, (r) => r.rendererCoresPerPage.median),
    chromiumOtherCores: pick(runs, (r) => r.chromiumOtherCores),
    janusCores: pick(runs, (r) => r.janusCores),
    serverCores: pick(runs, (r) => r.serverCores),
    receivedFps: pick(runs, (r) => r.receivedFps.median),
  } : {}),
}]));
const text = JSON.stringify(result, null, 2);
if (OUT) writeFileSync(OUT, text); else console.log(text);
