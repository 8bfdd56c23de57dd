// Fresh TURN credentials reach a call's existing peer connections. With
// [turn] configured, every WebSocket `welcome` mints new credentials; after
// the server drops a page's socket mid-call and the page resumes, the peer
// connection already carrying the call must hold the new ones (for its next
// ICE restart), not login's, which lapse after `ttl_secs`. The TURN URL
// points at a port nothing listens on: only the configuration is checked,
// the call itself runs on loopback host candidates. Runs inside
// scripts/test-e2e's loopback-only namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { startServer, launch, join, createRoom, enterRoom, waitPlaying } from './harness.mjs';

// Records every RTCPeerConnection the page makes (window.__pcs).
const SPY = `(() => {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); window.__pcs.push(this); }
  };
})();`;

/** The index and TURN username of each connected peer connection of the page. */
const connectedTurnUsers = (p) => p.page.evaluate(() => window.__pcs
  .map((pc, i) => ({ i, state: pc.connectionState, turn: pc.getConfiguration().iceServers.find((s) => [].concat(s.urls).some((u) => u.startsWith('turn:'))) }))
  .filter((x) => x.state === 'connected')
  .map((x) => ({ i: x.i, username: x.turn?.username })));

test('a resumed socket hands its fresh TURN credentials to the peer connection of a call in progress', { timeout: 90000 }, async () => {
  const dir = mkdtempSync(pathJoin(tmpdir(), 'rtcroom-turn-refresh-'));
  const spy = pathJoin(dir, 'spy.js');
  writeFileSync(spy, SPY);
  const server = await startServer({
    extraToml: ['[turn]', 'secret = "turn-refresh-test"', 'ttl_secs = 600', 'urls = ["turn:127.0.0.1:9?transport=udp"]'].join('\n'),
  });
  const browser = await launch();
  try {
    const a = await join(browser, server.base, 'alice', 'alice', { initScript: spy });
    const b = await join(browser, server.base, 'bob', 'bob', { initScript: spy });
    await createRoom(a, 'Refresh');
    await enterRoom(b, 'Refresh');
    await waitPlaying(a, 'bob');
    await waitPlaying(b, 'alice');
    const before = await connectedTurnUsers(b);
    assert.equal(before.length, 1, `one connected peer connection: ${JSON.stringify(before)}`);
    const [oldExpiry, oldUser] = before[0].username.split(':');
    assert.equal(oldUser, 'bob');

    await new Promise((r) => setTimeout(r, 1500)); // the next credentials expire a second later at least
    const r = await fetch(`${server.base}/weapp/utils/debug_drop_socket?userID=bob`, { method: 'POST' });
    assert.equal((await r.json()).code, 0);
    let after = before;
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline && after[0]?.username === before[0].username) {
      await new Promise((ok) => setTimeout(ok, 200));
      after = await connectedTurnUsers(b);
    }
    assert.equal(after.length, 1, `still one connected peer connection: ${JSON.stringify(after)}`);
    assert.equal(after[0].i, before[0].i, 'the same peer connection, not a new one');
    const [newExpiry, newUser] = after[0].username.split(':');
    assert.equal(newUser, 'bob');
    assert.ok(Number(newExpiry) > Number(oldExpiry), `fresh credentials: ${before[0].username} → ${after[0].username}`);
    await waitPlaying(b, 'alice'); // the call went on
    console.log(`turn refresh: ${before[0].username} → ${after[0].username} on the live peer connection`);
  } finally {
    await browser.close();
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
