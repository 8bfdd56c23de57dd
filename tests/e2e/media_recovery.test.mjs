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
import { startServer, launch, join, createRoom, enterRoom, waitPlaying, sendText, waitReceived } from './harness.mjs';
import { cutAllBut, debugLines, waitFlowing, waitFrozen, waitLog } from './media_cut.mjs';

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
    await waitLog(a, /media ben: lost, ICE restart/);
    await sendText(a, 'during 1'); // signaling is not cut
    reopen();
    let openedAt = Date.now();
    await waitFlowing(b, 'ana', 20000);
    await waitFlowing(a, 'ben', 20000);
    await waitLog(a, /media ben: back/, 10000);
    let back = Date.now() - openedAt;
    let aLog = await debugLines(a, /media ben:/);
    console.log(`cut 1 (${openedAt - cutAt} ms, until the ICE restart): video plays again ${back} ms after the path reopened; ana's core: ${JSON.stringify(aLog)}`);
    assert.ok(back < 20000, `${back} ms`);
    assert.ok(!aLog.some((l) => /starting over/.test(l)), `the ICE restart sufficed: ${JSON.stringify(aLog)}`);
    assert.ok((await debugLines(b, /media ana: lost, awaiting ICE restart/)).length <= 1, 'ben (the answerer) never offered');

    // 2. A cut that outlasts the ICE restart: the pair starts over from
    //    scratch (fresh peer connections, renegotiate) and the video comes back.
    const seen = (await debugLines(a, /media ben:/)).length;
    uncut = cutAllBut(port);
    cutAt = Date.now();
    await waitFrozen(b, 'ana');
    await waitLog(a, /media ben: still lost, starting over/);
    await sendText(a, 'during 2');
    reopen();
    openedAt = Date.now();
    await waitFlowing(b, 'ana', 40000);
    await waitFlowing(a, 'ben', 40000);
    back = Date.now() - openedAt;
    aLog = (await debugLines(a, /media ben:/)).slice(seen);
    console.log(`cut 2 (${openedAt - cutAt} ms, past the ICE restart): video plays again ${back} ms after the path reopened; ana's core: ${JSON.stringify(aLog)}`);
    assert.ok(back < 40000, `${back} ms`);
    assert.ok(aLog.some((l) => /ICE restart/.test(l)) && aLog.some((l) => /starting over/.test(l)), JSON.stringify(aLog));

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
    const aLog = await debugLines(a, /media dan:/);
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
