// Media recovery: a call whose media path is cut comes back by itself — no
// page reload, no app call, no chat message lost.
//  1. All traffic but RoomService's TCP port is dropped inside the test's
//     network namespace (tc: an htb class that queues nothing) until the core
//     acts, then let through again: once just past the ICE restart (which
//     must bring the video back by itself), once past the restart's timeout
//     (the pair starts over); video must play again within a bound each time.
//  2. One page's RTCPeerConnection is closed under it (a broken peer, nothing
//     told): the other side sees ICE fail and the pair is negotiated anew.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startServer, launch, join, createRoom, enterRoom, waitPlaying, sendText, waitReceived } from './harness.mjs';

const tc = (...args) => execFileSync('tc', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** Drops every packet on `lo` except TCP to/from `port` until the returned function is called. */
function cutAllBut(port) {
  tc('qdisc', 'add', 'dev', 'lo', 'root', 'handle', '1:', 'htb', 'default', '1');
  tc('class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:1', 'htb', 'rate', '10gbit');
  tc('class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:2', 'htb', 'rate', '8bit', 'ceil', '8bit');
  tc('qdisc', 'add', 'dev', 'lo', 'parent', '1:2', 'handle', '20:', 'pfifo', 'limit', '0');
  for (const dir of ['sport', 'dport']) {
    tc('filter', 'add', 'dev', 'lo', 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32', 'match', 'ip', dir, String(port), '0xffff', 'flowid', '1:1');
  }
  tc('filter', 'add', 'dev', 'lo', 'parent', '1:', 'protocol', 'ip', 'prio', '2', 'u32', 'match', 'u32', '0', '0', 'flowid', '1:2');
  return () => tc('qdisc', 'del', 'dev', 'lo', 'root');
}

const debugLines = (p, re) => p.page.evaluate((src) => window.demo.log.filter((l) => l[0] === 'debug' && new RegExp(src).test(l[1])).map((l) => l[1]), re.source);

/**
 * Whether new frames of `userID`'s remote video are being decoded and shown
 * right now (counted by the element; a stalled MediaStream's `currentTime`
 * may go on advancing, its frame count does not).
 */
const playing = (p, userID) => p.page.evaluate(async (uid) => {
  const v = document.querySelector(`.tile[data-user="${CSS.escape(uid)}"] video`);
  if (!v || v.videoWidth === 0) return false;
  const f0 = v.getVideoPlaybackQuality().totalVideoFrames;
  await new Promise((r) => setTimeout(r, 500));
  return v.getVideoPlaybackQuality().totalVideoFrames > f0 + 2;
}, userID);

/** Resolves once `userID`'s video shows new frames again. */
async function waitFlowing(p, userID, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) if (await playing(p, userID)) return;
  throw new Error(`${p.userID}: no new frames of ${userID} within ${timeoutMs} ms`);
}

/** Resolves once the remote video of `userID` stops advancing (its media died). */
async function waitFrozen(p, userID, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) if (!(await playing(p, userID))) return;
  throw new Error(`${p.userID}: the video of ${userID} never froze`);
}

async function waitLog(p, re, timeoutMs = 40000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await debugLines(p, re)).length > 0) return;
    await p.page.waitForTimeout(100);
  }
  throw new Error(`${p.userID}: no debug line ${re} in ${JSON.stringify(await debugLines(p, /media to/))}`);
}

test('media cut inside the namespace: ICE restarts, or starts over, and video plays again; no message lost', { timeout: 150000 }, async () => {
  const server = await startServer();
  const port = Number(new URL(server.base).port);
  const browser = await launch();
  let uncut = null;
  const reopen = () => { if (uncut) uncut(); uncut = null; };
  try {
    const a = await join(browser, server.base, 'ana');
    const b = await join(browser, server.base, 'ben');
    // ana offers: the later joiner (join order), and ana < ben (the userID rule).
    await createRoom(b, 'Cut');
    await enterRoom(a, 'Cut');
    await waitPlaying(a, 'ben');
    await waitPlaying(b, 'ana');
    await sendText(a, 'before');
    await waitReceived(b, 'text', 'ana', 1);

    // 1. A cut that lasts until ana's core restarts ICE, then the path
    //    reopens: the ICE restart alone brings the video back.
    uncut = cutAllBut(port);
    let cutAt = Date.now();
    await waitFrozen(b, 'ana');
    await waitLog(a, /media to ben lost: restarting ICE/);
    await sendText(a, 'during 1'); // signaling is not cut
    reopen();
    let openedAt = Date.now();
    await waitFlowing(b, 'ana', 20000);
    await waitFlowing(a, 'ben', 20000);
    await waitLog(a, /media to ben is back/, 10000);
    let back = Date.now() - openedAt;
    let aLog = await debugLines(a, /media to ben/);
    console.log(`cut 1 (${openedAt - cutAt} ms, until the ICE restart): video plays again ${back} ms after the path reopened; ana's core: ${JSON.stringify(aLog)}`);
    assert.ok(back < 20000, `${back} ms`);
    assert.ok(!aLog.some((l) => /starting over/.test(l)), `the ICE restart sufficed: ${JSON.stringify(aLog)}`);
    assert.ok((await debugLines(b, /media to ana lost: waiting for its ICE restart/)).length <= 1, 'ben (the answerer) never offered');

    // 2. A cut that outlasts the ICE restart: the pair starts over from
    //    scratch (fresh peer connections, renegotiate) and the video comes back.
    const seen = (await debugLines(a, /media to ben/)).length;
    uncut = cutAllBut(port);
    cutAt = Date.now();
    await waitFrozen(b, 'ana');
    await waitLog(a, /media to ben still lost: starting over/);
    await sendText(a, 'during 2');
    reopen();
    openedAt = Date.now();
    await waitFlowing(b, 'ana', 40000);
    await waitFlowing(a, 'ben', 40000);
    back = Date.now() - openedAt;
    aLog = (await debugLines(a, /media to ben/)).slice(seen);
    console.log(`cut 2 (${openedAt - cutAt} ms, past the ICE restart): video plays again ${back} ms after the path reopened; ana's core: ${JSON.stringify(aLog)}`);
    assert.ok(back < 40000, `${back} ms`);
    assert.ok(aLog.some((l) => /restarting ICE/.test(l)) && aLog.some((l) => /starting over/.test(l)), JSON.stringify(aLog));

    await sendText(a, 'after');
    await sendText(b, 'ben after');
    assert.deepEqual(await waitReceived(b, 'text', 'ana', 4), ['before', 'during 1', 'during 2', 'after']);
    assert.deepEqual(await waitReceived(a, 'text', 'ben', 1), ['ben after']);
    assert.deepEqual(a.errors.concat(b.errors), []);
    assert.equal(await a.page.locator('.tile[data-user="ben"]').count(), 1, 'no quit seen');
  } finally {
    reopen();
    await browser.close();
    server.stop();
  }
});

test('a peer connection closed under a page: the pair negotiates anew by itself', { timeout: 120000 }, async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const a = await join(browser, server.base, 'cleo');
    const b = await join(browser, server.base, 'dan');
    // cleo offers: the later joiner (join order), and cleo < dan (the userID rule).
    await createRoom(b, 'Broken');
    await enterRoom(a, 'Broken');
    await waitPlaying(a, 'dan');
    await waitPlaying(b, 'cleo');

    // dan's connection to cleo dies without anyone being told.
    const closedAt = Date.now();
    await b.page.evaluate(() => window.demo.room.media.peers.get('cleo').pc.close());
    await waitFrozen(a, 'dan');
    await waitFlowing(a, 'dan', 60000);
    await waitFlowing(b, 'cleo', 60000);
    const back = Date.now() - closedAt;
    const aLog = await debugLines(a, /media to dan/);
    console.log(`peer closed under dan: video both ways again after ${back} ms; cleo's core: ${JSON.stringify(aLog)}`);
    assert.ok(aLog.some((l) => /starting over/.test(l)), JSON.stringify(aLog));
    await sendText(b, 'still here');
    assert.deepEqual(await waitReceived(a, 'text', 'dan', 1), ['still here']);
    assert.deepEqual(a.errors.concat(b.errors), []);
  } finally {
    await browser.close();
    server.stop();
  }
});
