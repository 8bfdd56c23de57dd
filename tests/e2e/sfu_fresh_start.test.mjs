// SFU links that ICE restarts cannot bring back start afresh, for real: two
// demo pages in an SFU room (threshold 0) through a real Janus; every packet
// but RoomService's and Janus' WebSocket TCP is dropped (tc, media_cut.mjs)
// for longer than the ICE restarts last, so the pages close both SFU links
// and open new ones (`sfu_publish {fresh}` / a plain `sfu_subscribe`, the
// server making new Janus handles); once the cut ends, video plays again on
// both pages without a reload, and a room message sent during the cut arrives.
// The pages are given `sfuIceRestarts` (an RTCRoom option) of 1 and 2: each
// starts afresh after exactly that many ICE restarts of the link that failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, launch, join, createRoom, enterRoom, waitPlaying, sendText, waitReceived } from './harness.mjs';
import { ensureVeth, freePort, startJanus } from './janus.mjs';
import { cutAllBut, debugLines, waitFlowing, waitFrozen, waitLog } from './media_cut.mjs';

/** The -1017 notices the page's `error` event got. */
const freshNotices = (p) => p.page.evaluate(() => window.__freshNotices.length);

/** A page init script that gives the demo's RTCRoom `options`. */
function withOptions(dir, name, options) {
  const file = pathJoin(dir, `${name}.js`);
  writeFileSync(file, `window.rtcroomDemoOptions = ${JSON.stringify(options)};`);
  return file;
}

/** The ICE restarts of the link that started afresh first, before it did (its debug lines). */
async function restartsBeforeFresh(p) {
  const lines = await debugLines(p, /SFU \w+: (lost, ICE restart|still lost, fresh start)/);
  const fresh = lines.findIndex((l) => /still lost/.test(l));
  const link = lines[fresh].split(' ')[1];
  return lines.slice(0, fresh).filter((l) => l.startsWith(`SFU ${link} lost`)).length;
}

test('SFU media cut past the ICE restarts: both links start afresh and video plays again', { timeout: 240000 }, async () => {
  const removeVeth = ensureVeth();
  const janusPort = freePort();
  const apiSecret = randomBytes(12).toString('hex');
  const adminKey = randomBytes(12).toString('hex');
  const runDir = mkdtempSync(pathJoin(tmpdir(), 'rtcroom-janus-fresh-'));
  const janus = startJanus({ port: janusPort, apiSecret, adminKey, runDir });
  await janus.ready;
  const server = await startServer({
    extraToml: ['[media]', `janus_url = "ws://127.0.0.1:${janusPort}"`, `api_secret = "${apiSecret}"`, `admin_key = "${adminKey}"`, 'sfu_threshold = 0'].join('\n'),
  });
  const port = Number(new URL(server.base).port);
  const browser = await launch();
  let uncut = null;
  const reopen = () => { if (uncut) uncut(); uncut = null; };
  try {
    const a = await join(browser, server.base, 'fia', undefined, { initScript: withOptions(runDir, 'fia', { sfuIceRestarts: 1 }) });
    const b = await join(browser, server.base, 'gus', undefined, { initScript: withOptions(runDir, 'gus', { sfuIceRestarts: 2 }) });
    for (const p of [a, b]) {
      await p.page.evaluate(() => {
        window.__freshNotices = [];
        window.demo.room.on('error', (code, message) => { if (code === -1017) window.__freshNotices.push(message); });
      });
    }
    await createRoom(a, 'Fresh');
    await enterRoom(b, 'Fresh');
    await waitPlaying(a, 'gus', 40000);
    await waitPlaying(b, 'fia', 40000);
    assert.ok((await debugLines(a, /SFU room/)).length > 0, 'the room runs through the SFU');

    const t0 = Date.now();
    uncut = cutAllBut(port, janusPort);
    await waitFrozen(b, 'fia');
    await waitLog(a, /SFU \w+: lost, ICE restart/, 30000);
    // Past the restarts (2 s grace, then waits of 5, 10, 20 s: fia's 1 restart, gus' 2): a fresh start.
    await waitLog(a, /still lost, fresh start 1/, 90000);
    await waitLog(b, /still lost, fresh start 1/, 60000);
    const freshAt = Date.now() - t0;
    assert.equal(await restartsBeforeFresh(a), 1, 'fia (sfuIceRestarts 1) started afresh after one ICE restart');
    assert.equal(await restartsBeforeFresh(b), 2, 'gus (sfuIceRestarts 2) started afresh after two ICE restarts');
    await sendText(a, 'during the cut');
    reopen();
    const t1 = Date.now();
    await waitFlowing(b, 'fia', 45000);
    await waitFlowing(a, 'gus', 45000);
    console.log(`SFU media cut: fresh start ${freshAt} ms after the cut; video flowing again ${Date.now() - t1} ms after it ended`);
    for (const p of [a, b]) assert.ok((await freshNotices(p)) >= 1, `${p.userID} got the -1017 notice`);
    await waitReceived(b, 'text', 'fia', 1);
    assert.equal(await a.page.evaluate(() => performance.getEntriesByType('navigation').length), 1, 'no reload');
  } finally {
    reopen();
    await browser.close();
    await server.stop();
    janus.stop();
    removeVeth();
  }
});
