// Four people in one room: every page shows three playing remote videos; a
// message from one reaches the other three exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, join, createRoom, enterRoom, playingCount, sendText, waitReceived, received } from './harness.mjs';

test('four people in one room', { timeout: 180000 }, async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const people = [];
    for (const id of ['p1', 'p2', 'p3', 'p4']) people.push(await join(browser, server.base, id, `Person ${id}`));
    await createRoom(people[0], 'Four of us');
    for (const p of people.slice(1)) await enterRoom(p, 'Four of us');

    for (const p of people) {
      const deadline = Date.now() + 30000;
      let n = 0;
      while (Date.now() < deadline && (n = await playingCount(p)) < 3) await p.page.waitForTimeout(300);
      assert.equal(n, 3, `${p.userID} sees ${n} playing remote videos`);
    }

    await sendText(people[2], 'hello everyone');
    for (const p of people.filter((q) => q !== people[2])) {
      assert.deepEqual(await waitReceived(p, 'text', 'p3', 1), ['hello everyone']);
    }
    await people[0].page.waitForTimeout(800);
    for (const p of people.filter((q) => q !== people[2])) {
      assert.deepEqual(await received(p, 'text', 'p3'), ['hello everyone'], `${p.userID} got it exactly once`);
    }
    assert.deepEqual(await received(people[2], 'text', 'p3'), [], 'the sender does not get its own message back');
    assert.deepEqual(people.flatMap((p) => p.errors), []);
  } finally {
    await browser.close();
    server.stop();
  }
});
