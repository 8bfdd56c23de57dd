// Six people in one SFU room, for real: RoomService drives a real Janus
// (scripts/janus-server), six Chromium pages (fake cameras) each speak our
// WebSocket protocol with one publisher and one multistream subscriber
// RTCPeerConnection (tests/e2e/sfu_page.html). The room runs mesh up to
// sfu_threshold = 4; the fifth member moves it to SFU and every page switches.
// Checked: every page plays five remote videos (videoWidth > 0, currentTime
// advancing) and sends exactly one outbound video RTP stream; no frame a page
// receives carries a Janus secret or room id; Janus killed mid-call and
// restarted → every page plays five videos again, without reloading.
// Prints first-remote-frame times and CPU per page.
//
// Janus needs an address besides `lo` for ICE (NOTES.md): inside the
// loopback-only namespace of scripts/test-e2e this test adds the veth pair
// itself, and refuses to run in a namespace that has other interfaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, launch, ROOT } from './harness.mjs';
import { ensureVeth, freePort, startJanus, cpuSeconds, allPlaying } from './janus.mjs';

const PAGES = 6;
const ROOM = 'sfu-six';

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

test('six people in one SFU room through a real Janus', { timeout: 240000 }, async () => {
  const removeVeth = ensureVeth();
  const janusPort = freePort();
  const apiSecret = randomBytes(12).toString('hex');
  const adminKey = randomBytes(12).toString('hex');
  const runDir = mkdtempSync(pathJoin(tmpdir(), 'rtcroom-janus-e2e-'));
  let janus = startJanus({ port: janusPort, apiSecret, adminKey, runDir });
  await janus.ready;
  const server = await startServer({
    staticDir: pathJoin(ROOT, 'tests', 'e2e'),
    extraToml: ['[media]', `janus_url = "ws://127.0.0.1:${janusPort}"`, `api_secret = "${apiSecret}"`, `admin_key = "${adminKey}"`, 'sfu_threshold = 4', 'max_members_sfu = 16'].join('\n'),
  });
  const browser = await launch();
  const pages = [];
  try {
    for (let i = 0; i < PAGES; i++) {
      const userID = `u${i + 1}`;
      const context = await browser.newContext();
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${server.base}/sfu_page.html`);
      await page.evaluate((a) => window.sfu.start(a), { userID, roomID: ROOM });
      pages.push({ userID, page, errors });
    }
    // The first four were a mesh room; the fifth moved it to SFU: every page heard it.
    const modes = await Promise.all(pages.map((p) => p.page.evaluate(() => window.sfu.state.mode)));
    assert.deepEqual(modes, Array(PAGES).fill('sfu'));

    const t0 = Date.now();
    const playing = await allPlaying(pages, PAGES - 1, 90000);
    console.log(`all ${PAGES} pages play ${PAGES - 1} remote videos ${Date.now() - t0} ms after the last page entered`);
    for (const [i, l] of playing.entries()) {
      assert.deepEqual(l, pages.map((p) => p.userID).filter((u) => u !== pages[i].userID));
    }

    // Exactly one outbound video RTP stream per page, whatever the room size.
    const rtp = await Promise.all(pages.map((p) => p.page.evaluate(() => window.sfu.rtp())));
    for (const [i, r] of rtp.entries()) {
      assert.equal(r.outboundVideo, 1, `${pages[i].userID}: ${JSON.stringify(r)}`);
      assert.equal(r.outboundAudio, 1, `${pages[i].userID}: ${JSON.stringify(r)}`);
      assert.ok(r.inboundVideo >= PAGES - 1, `${pages[i].userID}: ${JSON.stringify(r)}`);
    }

    // First remote frames. The switch: on pages 1-5, room_mode sfu → first frame of each other of
    // the five who switched together. A newcomer to an SFU room: page 6, add_pusher → first frame of each.
    const newcomer = pages[PAGES - 1].userID;
    const switched = (await Promise.all(pages.slice(0, PAGES - 1).map((p) => p.page.evaluate((skip) => {
      const f = window.sfu.firstFrames(window.sfu.state.sfuAt);
      return Object.entries(f).filter(([u]) => u !== skip).map(([, t]) => t);
    }, newcomer)))).flat();
    const joined = Object.values(await pages[PAGES - 1].page.evaluate(() => window.sfu.firstFrames(window.sfu.state.enteredAt)));
    assert.equal(switched.length, (PAGES - 1) * (PAGES - 2));
    assert.equal(joined.length, PAGES - 1);
    console.log(`mesh → SFU switch (room_mode → first remote frame): median ${median(switched).toFixed(0)} ms, max ${Math.max(...switched).toFixed(0)} ms over ${switched.length} remote videos`);
    console.log(`newcomer to the SFU room (add_pusher → first remote frame): median ${median(joined).toFixed(0)} ms, max ${Math.max(...joined).toFixed(0)} ms over ${joined.length} remote videos`);

    // Upload and CPU per page over 10 s of the six-way call.
    const cpu0 = cpuSeconds();
    const bytes0 = rtp.map((r) => r.bytesSent);
    const wall0 = Date.now();
    await new Promise((r) => setTimeout(r, 10000));
    const secs = (Date.now() - wall0) / 1000;
    const rtp1 = await Promise.all(pages.map((p) => p.page.evaluate(() => window.sfu.rtp())));
    const up = rtp1.map((r, i) => (r.bytesSent - bytes0[i]) * 8 / secs / 1000);
    const cpu1 = cpuSeconds();
    const cores = (k) => (cpu1[k] - cpu0[k]) / secs;
    console.log(`SFU, ${PAGES} pages at 320x240@15: upload per page median ${median(up).toFixed(0)} kbit/s (min ${Math.min(...up).toFixed(0)}, max ${Math.max(...up).toFixed(0)}); Chromium ${cores('chromium').toFixed(2)} cores in all (${(cores('chromium') / PAGES).toFixed(2)} per page), Janus ${cores('janus').toFixed(2)} cores, RoomService ${cores('server').toFixed(2)} cores`);

    // No frame any page received names a Janus secret or room.
    for (const p of pages) {
      const frames = await p.page.evaluate(() => window.sfu.state.frames);
      assert.ok(frames.length > 10);
      for (const f of frames) {
        assert.ok(!f.includes(apiSecret) && !f.includes(adminKey), `secret leaked to ${p.userID}: ${f.slice(0, 200)}`);
        assert.ok(!f.includes('rtcroom-'), `Janus room id leaked to ${p.userID}: ${f.slice(0, 300)}`);
      }
    }

    // Janus killed mid-call and restarted: every page plays again, without reloading.
    janus.stop();
    await new Promise((r) => janus.proc.once('exit', r));
    const killedAt = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    janus = startJanus({ port: janusPort, apiSecret, adminKey, runDir });
    await janus.ready;
    await allPlaying(pages, PAGES - 1, 30000);
    const back = Date.now() - killedAt;
    console.log(`Janus killed, restarted 1 s later: every page plays ${PAGES - 1} remote videos again ${back} ms after the kill`);
    const states = await Promise.all(pages.map((p) => p.page.evaluate(() => window.sfu.state.states.map((x) => x.state))));
    for (const s of states) assert.deepEqual(s, ['lost', 'ready']);
    assert.ok(back < 10000 + 1000, `recovery took ${back} ms`);

    // One leaves: the others drop its view and keep playing the other four.
    await pages[PAGES - 1].page.evaluate(() => window.sfu.leave());
    await allPlaying(pages.slice(0, PAGES - 1), PAGES - 2, 20000);

    for (const p of pages) {
      const errs = await p.page.evaluate(() => window.sfu.state.errors);
      assert.deepEqual([...p.errors, ...errs], [], `${p.userID} errors`);
    }
  } catch (e) {
    console.log(`janus output (tail):\n${janus.log()}`);
    throw e;
  } finally {
    await browser.close();
    server.stop();
    janus.stop();
    removeVeth();
  }
});
