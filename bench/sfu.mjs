// Six-person room, mesh vs SFU, same pages (tests/e2e/sfu_page.html), same
// camera (fake, 320x240@15), same machine: per-page upload bitrate and CPU,
// and join → first remote frame. Mesh: RoomService without a media server,
// one RTCPeerConnection per pair through its signaling relay. SFU: a real
// Janus (scripts/janus-server), sfu_threshold 0, one publisher and one
// subscriber connection per page.
//
// Run inside a loopback-only namespace (it adds the veth pair Janus needs):
//   cargo build -p rtcroom-server && unshare -n bash -c 'ip link set lo up; node bench/sfu.mjs'
// Knobs: BENCH_SFU_PAGES (6), BENCH_SFU_SECS (measuring window, 15), BENCH_SFU_MODES (mesh,sfu).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, launch, ROOT } from '../tests/e2e/harness.mjs';
import { ensureVeth, freePort, startJanus, cpuSeconds, allPlaying } from '../tests/e2e/janus.mjs';

const PAGES = Number(process.env.BENCH_SFU_PAGES || 6);
const SECS = Number(process.env.BENCH_SFU_SECS || 15);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

async function run(mode) {
  let janus = null;
  let extraToml = '';
  if (mode === 'sfu') {
    const port = freePort();
    const apiSecret = randomBytes(12).toString('hex');
    const adminKey = randomBytes(12).toString('hex');
    janus = startJanus({ port, apiSecret, adminKey, runDir: mkdtempSync(pathJoin(tmpdir(), 'rtcroom-janus-bench-')) });
    await janus.ready;
    extraToml = ['[media]', `janus_url = "ws://127.0.0.1:${port}"`, `api_secret = "${apiSecret}"`, `admin_key = "${adminKey}"`, 'sfu_threshold = 0'].join('\n');
  }
  const server = await startServer({ staticDir: pathJoin(ROOT, 'tests', 'e2e'), extraToml });
  const browser = await launch();
  try {
    const pages = [];
    for (let i = 0; i < PAGES; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${server.base}/sfu_page.html`);
      const userID = `u${i + 1}`;
      await page.evaluate((a) => window.sfu.start(a), { userID, roomID: `bench-${mode}`, meshOnly: mode === 'mesh' });
      pages.push({ userID, page });
    }
    await allPlaying(pages, PAGES - 1, 120000);
    // The last page entered a running call: its join → first frame of each of the others.
    const last = pages[PAGES - 1].page;
    const firsts = Object.values(await last.evaluate(() => window.sfu.firstFrames(window.sfu.state.enteredAt)));
    await new Promise((r) => setTimeout(r, 3000)); // let bitrates settle
    const rtp0 = await Promise.all(pages.map((p) => p.page.evaluate(() => window.sfu.rtp())));
    const cpu0 = cpuSeconds();
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, SECS * 1000));
    const secs = (Date.now() - t0) / 1000;
    const cpu1 = cpuSeconds();
    const rtp1 = await Promise.all(pages.map((p) => p.page.evaluate(() => window.sfu.rtp())));
    const up = rtp1.map((r, i) => ((r.bytesSent - rtp0[i].bytesSent) * 8) / secs / 1000);
    const cores = (k) => (cpu1[k] - cpu0[k]) / secs;
    return {
      mode,
      pages: PAGES,
      outboundVideoPerPage: median(rtp1.map((r) => r.outboundVideo)),
      uploadKbpsPerPage: { median: median(up), min: Math.min(...up), max: Math.max(...up) },
      chromiumCoresPerPage: cores('chromium') / PAGES,
      chromiumCores: cores('chromium'),
      janusCores: cores('janus'),
      roomServiceCores: cores('server'),
      lastJoinFirstFrameMs: { median: median(firsts), max: Math.max(...firsts) },
    };
  } finally {
    await browser.close();
    server.stop();
    janus?.stop();
  }
}

const removeVeth = ensureVeth();
try {
  const results = [];
  for (const mode of (process.env.BENCH_SFU_MODES || 'mesh,sfu').split(',')) {
    const r = await run(mode);
    results.push(r);
    console.log(`${mode}: ${r.pages} pages, ${r.outboundVideoPerPage} outbound video stream(s) per page, upload per page median ${r.uploadKbpsPerPage.median.toFixed(0)} kbit/s (${r.uploadKbpsPerPage.min.toFixed(0)}-${r.uploadKbpsPerPage.max.toFixed(0)}), Chromium ${r.chromiumCoresPerPage.toFixed(2)} cores per page (${r.chromiumCores.toFixed(2)} in all), Janus ${r.janusCores.toFixed(2)}, RoomService ${r.roomServiceCores.toFixed(2)} cores; last page join → first remote frame median ${r.lastJoinFirstFrameMs.median.toFixed(0)} ms, max ${r.lastJoinFirstFrameMs.max.toFixed(0)} ms`);
  }
  console.log(JSON.stringify(results));
} finally {
  removeVeth();
}
