// Two people: A creates, B finds the room and enters; each sees the other's
// video playing; text and custom messages both ways; B leaves; A leaves and
// the room is gone. Prints join → first remote frame. Screenshots both sides.
// B's signaling is checked too: its first offer carries the candidates
// gathered so far, and its trickle repeats none of them and sends no
// end-of-candidates (each would be a blocking addIceCandidate on A's page).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join as pathJoin } from 'node:path';
import { startServer, launch, join, createRoom, enterRoom, waitPlaying, sendText, waitReceived, received, OUT, ROOT } from './harness.mjs';

const SPY = pathJoin(ROOT, 'tests', 'e2e', 'signal_spy.js');

test('two people see and message each other', { timeout: 120000 }, async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const a = await join(browser, server.base, 'alice', 'Alice');
    const b = await join(browser, server.base, 'bob', 'Bob', { initScript: SPY });

    await createRoom(a, 'Two of us');
    await enterRoom(b, 'Two of us');
    await waitPlaying(b, 'alice');
    await waitPlaying(a, 'bob');
    const joinToFrame = await b.page.evaluate(() => window.demo.firstFrame.alice - window.demo.joinStartedAt);
    assert.ok(joinToFrame > 0 && joinToFrame < 15000, `join → first frame ${joinToFrame}`);
    console.log(`join → first remote frame (B entering, A's video): ${joinToFrame.toFixed(0)} ms`);

    const sent = await b.page.evaluate(() => window.__sent);
    const addPusher = sent.http.find((h) => /add_pusher/.test(h.url));
    const offer = addPusher && addPusher.body && JSON.parse(addPusher.body).offer;
    assert.ok(offer, 'add_pusher carries the spare offer');
    const listed = offer.split('\r\n').filter((l) => l.startsWith('a=candidate:')).map((l) => l.slice(2));
    assert.ok(listed.some((c) => / udp /.test(c)), `the offer lists its UDP host candidates: ${JSON.stringify(listed)}`);
    const trickled = sent.ws.map((f) => JSON.parse(f)).filter((f) => f.type === 'candidate').map((f) => f.candidate.candidate);
    assert.ok(trickled.every((c) => c), `no end-of-candidates frames: ${JSON.stringify(trickled)}`);
    const again = trickled.filter((c) => listed.includes(c.replace(/ ufrag \S+/, '')));
    assert.deepEqual(again, [], 'no candidate of the offer is sent again');

    // Tiles are labelled with the member's userName and, since names are
    // free text (anyone may call themselves "Alice"), its userID.
    assert.equal(await a.page.textContent('.tile[data-user="bob"] figcaption'), 'Bob (bob)');
    assert.equal(await b.page.textContent('.tile[data-user="alice"] figcaption'), 'Alice (alice)');

    await sendText(a, 'Hello Bob');
    assert.deepEqual(await waitReceived(b, 'text', 'alice', 1), ['Hello Bob']);
    await sendText(b, 'Hi Alice');
    assert.deepEqual(await waitReceived(a, 'text', 'bob', 1), ['Hi Alice']);
    await b.page.click('#like');
    assert.deepEqual(await waitReceived(a, 'custom', 'bob', 1), ['likes this']);
    assert.equal(await a.page.textContent('#messages li.text:not(.mine) .from'), 'Bob (bob):');

    mkdirSync(OUT, { recursive: true });
    await a.page.screenshot({ path: pathJoin(OUT, 'two-people-alice.png'), fullPage: true });
    await b.page.screenshot({ path: pathJoin(OUT, 'two-people-bob.png'), fullPage: true });
    // The README's picture: refreshed on request, so a test run leaves the tree clean.
    if (process.env.RTCROOM_UPDATE_SCREENSHOT === '1') {
      copyFileSync(pathJoin(OUT, 'two-people-alice.png'), pathJoin(ROOT, 'docs', 'demo-call.png'));
    }
    await b.page.setViewportSize({ width: 390, height: 844 }); // phone width
    await b.page.screenshot({ path: pathJoin(OUT, 'two-people-bob-phone.png'), fullPage: true });
    await b.page.setViewportSize({ width: 1000, height: 760 });

    // B leaves: A's remote view goes.
    await b.page.click('#leave');
    await a.page.waitForSelector('.tile[data-user="bob"]', { state: 'detached', timeout: 5000 });
    await b.page.waitForSelector('#lobby:not([hidden])');

    // A leaves: the room is gone from the list.
    await a.page.click('#leave');
    await a.page.waitForSelector('#lobby:not([hidden])');
    await b.page.click('#refresh');
    await b.page.waitForTimeout(300);
    assert.equal(await b.page.locator('#rooms li', { hasText: 'Two of us' }).count(), 0);
    assert.deepEqual(await received(a, 'text', 'bob'), ['Hi Alice'], 'no duplicate messages');
    assert.deepEqual([...a.errors, ...b.errors], []);
  } finally {
    await browser.close();
    server.stop();
  }
});
