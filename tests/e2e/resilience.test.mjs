// A page closed without leaving is noticed within the heartbeat timeout; a
// socket dropped by the server mid-call resumes with the call going on and no
// chat message lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, join, createRoom, enterRoom, waitPlaying, sendText, waitReceived, received } from './harness.mjs';

test('a page closed without leaving: the other gets onPusherQuit within the heartbeat timeout', { timeout: 90000 }, async () => {
  const heartbeatTimeoutSecs = 4;
  const server = await startServer({ heartbeatTimeoutSecs, socketGraceMs: 2000 });
  const browser = await launch();
  try {
    const a = await join(browser, server.base, 'stay');
    const b = await join(browser, server.base, 'vanish');
    await createRoom(a, 'Closing');
    await enterRoom(b, 'Closing');
    await waitPlaying(a, 'vanish');
    const t0 = Date.now();
    await b.context.close(); // no exitRoom, no logout
    await a.page.waitForSelector('.tile[data-user="vanish"]', { state: 'detached', timeout: heartbeatTimeoutSecs * 1000 + 2000 });
    const waited = Date.now() - t0;
    console.log(`closed page noticed after ${waited} ms (heartbeat timeout ${heartbeatTimeoutSecs * 1000} ms)`);
    assert.ok(waited <= heartbeatTimeoutSecs * 1000 + 1000, `${waited} ms`);
  } finally {
    await browser.close();
    server.stop();
  }
});

test('a socket dropped mid-call: the call goes on and no message is lost', { timeout: 90000 }, async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const a = await join(browser, server.base, 'sender');
    const b = await join(browser, server.base, 'dropped');
    await createRoom(a, 'Flaky');
    await enterRoom(b, 'Flaky');
    await waitPlaying(b, 'sender');
    await sendText(a, 'before');
    await waitReceived(b, 'text', 'sender', 1);

    const r = await fetch(`${server.base}/weapp/utils/debug_drop_socket?userID=dropped`, { method: 'POST' });
    assert.equal((await r.json()).code, 0);
    for (const t of ['during 1', 'during 2', 'during 3']) await sendText(a, t);
    const got = await waitReceived(b, 'text', 'sender', 4);
    await b.page.waitForSelector('#conn[data-state="connected"]');
    await b.page.waitForTimeout(500);
    assert.deepEqual(await received(b, 'text', 'sender'), ['before', 'during 1', 'during 2', 'during 3']);
    assert.deepEqual(got.slice(0, 4), ['before', 'during 1', 'during 2', 'during 3']);
    const states = await b.page.evaluate(() => window.demo.log.filter((l) => l[0] === 'debug' && /reconnect|resum/i.test(l[1])).length);
    assert.ok(states > 0, 'the drop was seen and resumed');
    await waitPlaying(b, 'sender'); // media never depended on the signaling socket
    await sendText(b, 'after');
    assert.deepEqual(await waitReceived(a, 'text', 'dropped', 1), ['after']);
    assert.equal(await a.page.locator('.tile[data-user="dropped"]').count(), 1, 'no quit seen');
  } finally {
    await browser.close();
    server.stop();
  }
});
