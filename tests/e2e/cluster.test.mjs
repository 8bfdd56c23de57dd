// Two people on two RoomService nodes sharing one Redis: alice's page is
// served by (and talks to) node A, bob's by node B; they find the same room,
// see each other's video and exchange messages. Skips loudly without redis-server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { startServer, launch, join, createRoom, enterRoom, waitPlaying, sendText, waitReceived } from './harness.mjs';

const haveRedis = spawnSync('redis-server', ['--version']).status === 0;

function freePort() {
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(pathJoin(tmpdir(), 'rtcroom-e2e-redis-'));
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const up = await new Promise((ok) => { const c = connect(port, '127.0.0.1', () => { c.end(); ok(true); }); c.on('error', () => ok(false)); });
    if (up) return { url: `redis://127.0.0.1:${port}`, stop: () => { proc.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }); } };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('redis-server did not start');
}

// Both nodes verify the same app's UserSigs (debug mode signs them with this key).
const node = (url, id) => [
  '[[apps]]', 'sdk_app_id = 1400000000', 'secret_key = "e2e-cluster-secret"',
  '[store]', 'kind = "redis"', `url = "${url}"`, `node_id = "${id}"`, 'node_ttl_ms = 1500',
].join('\n');

test('two people on two nodes see and message each other', { timeout: 120000, skip: haveRedis ? false : 'SKIPPED: redis-server is not installed' }, async () => {
  const redis = await startRedis();
  const na = await startServer({ extraToml: node(redis.url, 'e2e-a') });
  const nb = await startServer({ extraToml: node(redis.url, 'e2e-b') });
  const browser = await launch();
  try {
    const a = await join(browser, na.base, 'alice', 'Alice');
    const b = await join(browser, nb.base, 'bob', 'Bob');
    await createRoom(a, 'Across nodes');
    await enterRoom(b, 'Across nodes');
    await waitPlaying(b, 'alice');
    await waitPlaying(a, 'bob');
    const joinToFrame = await b.page.evaluate(() => window.demo.firstFrame.alice - window.demo.joinStartedAt);
    console.log(`join → first remote frame across nodes: ${joinToFrame.toFixed(0)} ms`);
    await sendText(a, 'Hello from node A');
    assert.deepEqual(await waitReceived(b, 'text', 'alice', 1), ['Hello from node A']);
    await sendText(b, 'Hello from node B');
    assert.deepEqual(await waitReceived(a, 'text', 'bob', 1), ['Hello from node B']);
    await b.page.click('#leave');
    await a.page.waitForSelector('.tile[data-user="bob"]', { state: 'detached', timeout: 5000 });
  } finally {
    await browser.close();
    na.stop();
    nb.stop();
    redis.stop();
  }
});
