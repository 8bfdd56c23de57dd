// The two subscriber back-ends of bench/janus-load.mjs, one interface:
//   room(k)            → { subscribe(id, offerSdp) → answer SDP }  (the transports of room k)
//   snapshot()         → { id: { state, streams: { key: { kind, packetsReceived, packetsLost, frames } } } }
//   stop()
// * sink: bench/rtp-sink (Rust, one process, a socket and a thread per
//   room): ICE + DTLS handshake, then counts SRTP packets and frames from the
//   clear headers without decrypting; a few µs per packet.
// * chromium: real RTCPeerConnections, one page per room, whose encoded
//   transforms count frames and drop them (bench/pages/janus-load.js).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join as pathJoin } from 'node:path';
import { launch, ROOT } from '../tests/e2e/harness.mjs';

const PAGE_SCRIPT = readFileSync(pathJoin(ROOT, 'bench', 'pages', 'janus-load.js'), 'utf8');
export const SINK_BIN = pathJoin(ROOT, 'target', 'release', 'rtp-sink');

/** bench/rtp-sink as a child process speaking JSON lines. */
export async function sinkReceivers(ip = '10.77.0.1') {
  const proc = spawn(SINK_BIN, [ip], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { err = (err + d).slice(-3000); });
  const waiting = [];
  const lines = createInterface({ input: proc.stdout });
  lines.on('line', (l) => waiting.shift()?.resolve(JSON.parse(l)));
  proc.on('exit', (code) => { for (const w of waiting.splice(0)) w.reject(new Error(`rtp-sink exited ${code}: ${err}`)); });
  const next = () => new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  const ask = (req) => { const p = next(); proc.stdin.write(`${JSON.stringify(req)}\n`); return p; };
  const ready = await next();
  if (!ready.ready) throw new Error(`rtp-sink did not start: ${err}`);
  return {
    kind: 'sink',
    pid: proc.pid,
    room: (k) => ({
      async subscribe(id, offer) {
        const r = await ask({ op: 'answer', id, group: `room${k}`, offer });
        if (r.error) throw new Error(`rtp-sink: ${r.error}`);
        return r.answer;
      },
    }),
    snapshot: async () => (await ask({ op: 'stats' })).stats,
    log: () => err,
    stop: async () => { proc.stdin.end(); proc.kill('SIGKILL'); },
  };
}

/** Headless Chromium, one page of subscriber RTCPeerConnections per room. */
export async function chromiumReceivers() {
  const browser = await launch();
  const pages = [];
  return {
    kind: 'chromium',
    pid: null,
    room: (k) => {
      const ready = (async () => {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.evaluate(PAGE_SCRIPT);
        pages.push(page);
        return page;
      })();
      ready.catch(() => {}); // reported by subscribe(), which awaits it
      return {
        async subscribe(id, offer) {
          const page = await ready;
          return page.evaluate(([i, sdp]) => window.janusLoad.subscribe(i, sdp), [id, offer]);
        },
      };
    },
    snapshot: async () => Object.assign({}, ...(await Promise.all(pages.map((p) => p.evaluate(() => window.janusLoad.snapshot()))))),
    log: () => '',
    stop: () => browser.close().catch(() => {}),
  };
}
