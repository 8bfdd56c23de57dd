// The npm package in SFU rooms, for real: the demo page (only the package's
// API: RTCRoom, addRemoteView, mute…), RoomService driving a real Janus
// (scripts/janus-server), Chromium pages with fake cameras. One room goes
// through every stage, threshold 4:
//   three people in a mesh → a fourth (mesh) → a fifth moves the room to SFU
//   (make-before-break: the longest gap between requestVideoFrameCallbacks of
//   every remote video is measured over the switch, and numbered messages are
//   sent throughout: none may be lost) → a sixth enters the SFU room: every
//   page plays five remote videos and sends exactly one outbound video stream
//   → camera off / mute / switch camera in SFU mode → Janus killed (its PID)
//   and restarted: every page plays five videos again, without reloading.
//
// Janus needs an address besides `lo` for ICE (NOTES.md): inside the
// loopback-only namespace of scripts/test-e2e this test adds the veth pair.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, launch, join, createRoom, enterRoom, received, until, allPlay, ROOT } from './harness.mjs';
import { ensureVeth, freePort, startJanus } from './janus.mjs';

const SPY = pathJoin(ROOT, 'tests', 'e2e', 'pc_spy.js');
const ROOM = 'SFU room';

/** Waits until every page renders fresh frames of `want` remote videos; returns the ms it took. */
async function allFresh(people, want, timeoutMs) {
  const t0 = Date.now();
  let got = [];
  while (Date.now() < t0 + timeoutMs) {
    got = await Promise.all(people.map((p) => p.page.evaluate(() => window.__fresh(1000))));
    if (got.every((g) => g.length === want)) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not every page renders ${want} remote videos: ${JSON.stringify(got)}`);
}

/** Entry → first rendered frame of each remote member on the demo page, ms (median, max). */
async function firstFrames(p) {
  const ms = await p.page.evaluate(() => Object.values(window.demo.firstFrame).map((t) => t - window.demo.joinStartedAt));
  const s = [...ms].sort((a, b) => a - b);
  return { median: Math.round(s[Math.floor(s.length / 2)]), max: Math.round(s[s.length - 1]), n: s.length };
}

/** Records the package's SFU events on the page. */
async function listen(p) {
  await p.page.evaluate(() => {
    window.__events = [];
    for (const name of ['roomMode', 'sfuStateChange']) window.demo.room.on(name, (...a) => window.__events.push([name, ...a]));
  });
}

/** Starts sending numbered text messages every `ms` through the package API. */
async function startCounting(p, ms) {
  await p.page.evaluate((every) => {
    window.__sent = [];
    window.__sendErrors = [];
    let n = 0;
    window.__counter = setInterval(() => {
      const text = `n${++n}`;
      window.demo.room.sendRoomTextMsg(text).then(() => window.__sent.push(text), (e) => window.__sendErrors.push(`${text}: ${e.code} ${e.message}`));
    }, every);
  }, ms);
}

async function stopCounting(p) {
  return p.page.evaluate(async () => {
    clearInterval(window.__counter);
    await new Promise((r) => setTimeout(r, 1500)); // the last acks
    return { sent: window.__sent, errors: window.__sendErrors };
  });
}

test('the npm package in an SFU room through a real Janus: switch, six people, mute, Janus restart', { timeout: 420000 }, async () => {
  const removeVeth = ensureVeth();
  const janusPort = freePort();
  const apiSecret = randomBytes(12).toString('hex');
  const adminKey = randomBytes(12).toString('hex');
  const runDir = mkdtempSync(pathJoin(tmpdir(), 'rtcroom-janus-client-'));
  let janus = startJanus({ port: janusPort, apiSecret, adminKey, runDir });
  await janus.ready;
  const server = await startServer({
    extraToml: ['[media]', `janus_url = "ws://127.0.0.1:${janusPort}"`, `api_secret = "${apiSecret}"`, `admin_key = "${adminKey}"`, 'sfu_threshold = 4', 'max_members_sfu = 16'].join('\n'),
  });
  const browser = await launch();
  const people = [];
  try {
    for (let i = 1; i <= 6; i++) {
      const p = await join(browser, server.base, `p${i}`, `Person ${i}`, { initScript: SPY });
      await listen(p);
      people.push(p);
    }
    const [p1, p2, p3, p4, p5, p6] = people;

    // Three in a mesh.
    await createRoom(p1, ROOM);
    await enterRoom(p2, ROOM);
    await enterRoom(p3, ROOM);
    await allPlay([p1, p2, p3], 2, 60000);
    // A fourth: still mesh.
    await enterRoom(p4, ROOM);
    await allPlay([p1, p2, p3, p4], 3, 60000);
    console.log(`entering a mesh room of 3: first remote frames ${JSON.stringify(await firstFrames(p4))}`);
    for (const p of [p1, p2, p3, p4]) assert.deepEqual(await p.page.evaluate(() => window.__events), [], `${p.userID}: still mesh`);

    // The fifth moves the room to SFU. Over the switch: video gaps and numbered messages.
    const senders = [p1, p2, p3];
    for (const p of senders) await p.page.evaluate(() => window.__gaps.watch());
    for (const p of senders) await startCounting(p, 200);
    await new Promise((r) => setTimeout(r, 1000));
    const switchAt = Date.now();
    await enterRoom(p5, ROOM);
    const five = [p1, p2, p3, p4, p5];
    await until('every page heard roomMode sfu', async () => {
      const ev = await Promise.all(five.map((p) => p.page.evaluate(() => window.__events)));
      return ev.every((e) => e.some(([n, m]) => n === 'roomMode' && m === 'sfu')) || ev;
    }, 30000);
    // Make-before-break done: only the two SFU connections stay open on every page.
    await until('mesh peers closed after the switch', async () => {
      const open = await Promise.all(five.map((p) => p.page.evaluate(() => window.__open())));
      return open.every((n) => n === 2) || open;
    }, 60000);
    const switched = Date.now() - switchAt;
    await allPlay(five, 4, 60000);
    await new Promise((r) => setTimeout(r, 1000));
    const gaps = await Promise.all(senders.map((p) => p.page.evaluate(() => window.__gaps.stop())));
    const detail = await Promise.all(senders.map((p) => p.page.evaluate(() => window.__gaps.detail())));
    console.log(`gap start vs view swaps (page ms; load: a new srcObject, track: first frame of the SFU track): ${JSON.stringify(detail)}`);
    const counted = await Promise.all(senders.map((p) => stopCounting(p)));
    // Longest freeze, over the switch, of each remote video the three senders already had.
    const longest = {};
    for (const [i, g] of gaps.entries()) {
      for (const other of senders) if (other !== senders[i]) longest[`${senders[i].userID}←${other.userID}`] = Math.round(g[other.userID] ?? Infinity);
    }
    const worst = Math.max(...Object.values(longest));
    console.log(`switch mesh → SFU: mesh peers closed ${switched} ms after the fifth entered; longest remote-video gap ${worst} ms ${JSON.stringify(longest)}`);
    // No room message lost: each sender's acked messages reached the two others, once each, in order.
    for (const [i, s] of senders.entries()) {
      assert.deepEqual(counted[i].errors, [], `${s.userID}: sends failed`);
      assert.ok(counted[i].sent.length >= 10, `${s.userID} sent ${counted[i].sent.length}`);
      for (const r of senders.filter((q) => q !== s)) {
        const got = (await received(r, 'text', s.userID)).filter((t) => /^n\d+$/.test(t));
        assert.deepEqual(got, counted[i].sent, `${r.userID} got every message of ${s.userID}, once, in order`);
      }
    }
    console.log(`messages over the switch: ${counted.map((c, i) => `${senders[i].userID} ${c.sent.length}`).join(', ')}, none lost`);
    // No time bar here: the switch's own freeze is gone (each mesh peer closes only once both ends play
    // each other through the SFU, and views swap tracks, not srcObject), but requestVideoFrameCallback
    // runs on the page's main thread, which the shared 2-core box starves for seconds at a load average
    // of 30-40 (7.8 s measured so). The 1 s bar is in bench/sfu_switch.mjs (docs/BENCHMARKS.md). What
    // must hold: every video plays on after it.
    assert.ok(Number.isFinite(worst), 'every remote video rendered frames over the switch');
    await allFresh(five, 4, 30000);

    // A sixth enters the SFU room: five remote videos each, one outbound video per page.
    await enterRoom(p6, ROOM);
    const t6 = await allPlay(people, 5, 90000);
    await allFresh(people, 5, 30000);
    console.log(`six people: every page plays 5 remote videos ${t6} ms after the sixth entered`);
    console.log(`entering an SFU room of 5: first remote frames ${JSON.stringify(await firstFrames(p6))}`);
    const rtp = await Promise.all(people.map((p) => p.page.evaluate(() => window.__rtp())));
    for (const [i, r] of rtp.entries()) {
      assert.equal(r.outboundVideo, 1, `${people[i].userID}: ${JSON.stringify(r)}`);
      assert.equal(r.outboundAudio, 1, `${people[i].userID}: ${JSON.stringify(r)}`);
      assert.ok(r.inboundVideo >= 5, `${people[i].userID}: ${JSON.stringify(r)}`);
      assert.deepEqual(r.degradation, ['maintain-resolution'], `${people[i].userID}: the SFU video sender keeps its resolution`);
    }

    // Camera off, on, switch camera, mute in SFU mode.
    const bright = () => p2.page.evaluate(() => window.__brightness('p1'));
    const before = await bright();
    assert.ok(before > 20, `p1's camera seen by p2: brightness ${before}`);
    await p1.page.evaluate(() => window.demo.room.muteLocalVideo(true));
    await until("p1's camera off seen by p2 (black frames)", async () => { const b = await bright(); return b >= 0 && b < 5 || b; }, 15000);
    await p1.page.evaluate(() => window.demo.room.muteLocalVideo(false));
    await until("p1's camera back on at p2", async () => { const b = await bright(); return b > 20 || b; }, 15000);
    await p1.page.evaluate(() => window.demo.room.switchCamera());
    await p1.page.evaluate(() => window.demo.room.setMute(true));
    const muted = await p1.page.evaluate(() => window.__pcs.filter((pc) => pc.connectionState !== 'closed')
      .flatMap((pc) => pc.getSenders()).filter((s) => s.track && s.track.kind === 'audio').map((s) => s.track.enabled));
    assert.deepEqual(muted, [false], 'the publisher sends a muted microphone');
    await p1.page.evaluate(() => window.demo.room.setMute(false));
    await allPlay(people, 5, 30000);

    // Janus killed mid-call, restarted: every page plays again, without reloading.
    janus.proc.kill('SIGKILL');
    await until('every page heard sfuStateChange lost', async () => {
      const ev = await Promise.all(people.map((p) => p.page.evaluate(() => window.__events)));
      return ev.every((e) => e.some(([n, s]) => n === 'sfuStateChange' && s === 'lost')) || ev;
    }, 30000);
    // Media really stopped (so the check below can fail): no page renders a remote frame.
    await allFresh(people, 0, 15000);
    janus = startJanus({ port: janusPort, apiSecret, adminKey, runDir });
    await janus.ready;
    const restartedAt = Date.now();
    await allFresh(people, 5, 60000);
    const back = Date.now() - restartedAt;
    await allPlay(people, 5, 30000);
    const ready = await Promise.all(people.map((p) => p.page.evaluate(() => window.__events.filter(([n]) => n === 'sfuStateChange').map(([, s]) => s))));
    for (const [i, r] of ready.entries()) assert.deepEqual(r, ['lost', 'ready'], people[i].userID);
    console.log(`Janus killed and restarted: every page renders fresh frames of 5 remote videos again ${back} ms after the new Janus listened`);
    assert.deepEqual(people.flatMap((p) => p.errors), []);
  } finally {
    await browser.close();
    server.stop();
    janus.stop();
    removeVeth();
  }
});
