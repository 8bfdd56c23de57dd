// The bench's static pages (bench/pages: the raw two-peer floor, PeerJS) on
// an ephemeral loopback port, and the raw floor flow itself: two
// RTCPeerConnections in one page swapping SDP directly, no server. Shared by
// bench/browser.mjs and bench/sfu.mjs.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join as pathJoin } from 'node:path';
import { ROOT } from '../tests/e2e/harness.mjs';

const BENCH = pathJoin(ROOT, 'bench');
const TIMELINE = pathJoin(BENCH, 'timeline.js');

/** Static pages for the raw and PeerJS flows. */
export function servePages() {
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

/** One raw floor run: {guest, host} ms from B's start to each side's first decoded remote frame, and the steps. */
export async function rawRun(browser, pages) {
  const context = await browser.newContext();
  await context.addInitScript({ path: TIMELINE });
  const page = await context.newPage();
  await page.goto(`${pages.base}/raw.html`);
  const ms = await page.evaluate(() => window.bench.run());
  const marks = await page.evaluate(() => window.__timeline.marks);
  const timeline = {};
  for (const [t, label] of marks) if (t >= ms.t0 - 1) timeline[label] = t - ms.t0;
  timeline['B first frame of A'] = ms.guest;
  timeline['A first frame of B'] = ms.host;
  await context.close();
  return { guest: ms.guest, host: ms.host, timeline };
}
