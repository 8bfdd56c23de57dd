// Join → first remote frame in real Chromium (fake camera, loopback-only
// network namespace: run through scripts/bench). Three flows, interleaved run
// by run so they share the machine's noise:
//   raw     two RTCPeerConnections in one page swapping SDP directly (the floor)
//   peerjs  the peerjs client + the `peer` server (bench/pages/peerjs.html)
//   rtcroom our demo page and RoomService (tests/e2e/harness.mjs helpers)
// Each run: A is in the call with its camera on; B (already logged in /
// connected to the server) joins; we time B's camera + signaling + ICE/DTLS +
// first decoded frame of A's video. Prints JSON: every run and the medians.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join as pathJoin } from 'node:path';
import { startServer, launch, join, createRoom, enterRoom, waitPlaying, ROOT } from '../tests/e2e/harness.mjs';

const RUNS = Number(process.env.BENCH_BROWSER_RUNS || 10);
const OUT = process.argv[2];
const BENCH = pathJoin(ROOT, 'bench');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Static pages for the raw and PeerJS flows. */
function servePages() {
  const files = {
    '/raw.html': [pathJoin(BENCH, 'pages', 'raw.html'), 'text/html'],
    '/peerjs.html': [pathJoin(BENCH, 'pages', 'peerjs.html'), 'text/html'],
    '/peerjs.min.js': [pathJoin(BENCH, 'node_modules', 'peerjs', 'dist', 'peerjs.min.js'), 'text/javascript'],
  };
  const server = createServer((req, res) => {
    const f = files[new URL(req.url, 'http://x').pathname];
    if (!f) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': f[1] }).end(readFileSync(f[0]));
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ base: `http://127.0.0.1:${server.address().port}`, stop: () => server.close() })));
}

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

async function rawRun(browser, pages) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${pages.base}/raw.html`);
  const ms = await page.evaluate(() => window.bench.run());
  await context.close();
  return ms;
}

async function peerjsRun(browser, pages, peer, i) {
  const ctxA = await browser.newContext();
  const ctxB = await browser.newContext();
  const [a, b] = [await ctxA.newPage(), await ctxB.newPage()];
  const url = `${pages.base}/peerjs.html?port=${peer.port}`;
  await a.goto(url);
  await b.goto(url);
  await a.evaluate((id) => window.bench.open(id), `pa${i}`);
  await a.evaluate(() => window.bench.listen());
  await b.evaluate((id) => window.bench.open(id), `pb${i}`);
  const ms = await b.evaluate((id) => window.bench.join(id), `pa${i}`);
  await a.evaluate(() => window.bench.close());
  await b.evaluate(() => window.bench.close());
  await ctxA.close();
  await ctxB.close();
  return ms;
}

async function rtcroomRun(browser, server, i) {
  const a = await join(browser, server.base, `ra${i}`);
  const b = await join(browser, server.base, `rb${i}`);
  await createRoom(a, `bench ${i}`);
  await enterRoom(b, `bench ${i}`);
  await waitPlaying(b, a.userID);
  const ms = await b.page.evaluate((uid) => window.demo.firstFrame[uid] - window.demo.joinStartedAt, a.userID);
  for (const p of [a, b]) await p.context.close();
  return ms;
}

const server = await startServer({ bin: pathJoin(ROOT, 'target', 'release', 'rtcroom-server') });
const peer = await startPeerServer();
const pages = await servePages();
const browser = await launch();
const runs = { raw: [], peerjs: [], rtcroom: [] };
try {
  // One unrecorded round first: Chromium's first call pays for process start-up.
  await rawRun(browser, pages);
  await peerjsRun(browser, pages, peer, 'warm');
  await rtcroomRun(browser, server, 'warm');
  for (let i = 0; i < RUNS; i++) {
    runs.raw.push(await rawRun(browser, pages));
    runs.peerjs.push(await peerjsRun(browser, pages, peer, i));
    runs.rtcroom.push(await rtcroomRun(browser, server, i));
    console.error(`[browser] run ${i + 1}/${RUNS}: raw ${runs.raw[i].toFixed(0)} ms, peerjs ${runs.peerjs[i].toFixed(0)} ms, rtcroom ${runs.rtcroom[i].toFixed(0)} ms`);
  }
} finally {
  await browser.close();
  server.stop();
  peer.stop();
  pages.stop();
}
const result = { scenario: 'browser', runs: RUNS, ms: runs, median_ms: Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)])) };
const text = JSON.stringify(result, null, 2);
if (OUT) writeFileSync(OUT, text); else console.log(text);
