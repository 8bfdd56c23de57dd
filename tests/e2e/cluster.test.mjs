// Two people on two RoomService nodes sharing one Redis: alice's page is
// served by (and talks to) node A, bob's by node B; they find the same room,
// see each other's video and exchange messages; then the same behind nginx with
// one node SIGKILLed. Skips loudly (node:test reports SKIPPED) without redis-server / nginx.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { startServer, launch, join, createRoom, enterRoom, waitPlaying, sendText, waitReceived, received } from './harness.mjs';

const haveRedis = spawnSync('redis-server', ['--version']).status === 0;
const haveNginx = spawnSync('nginx', ['-v']).status === 0;

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

/** nginx in front of the nodes (round robin, WebSocket upgrade), as README's deployment section. */
async function startNginx(bases) {
  const port = await freePort();
  const dir = mkdtempSync(pathJoin(tmpdir(), 'rtcroom-e2e-nginx-'));
  mkdirSync(pathJoin(dir, 'tmp'));
  const t = pathJoin(dir, 'tmp');
  writeFileSync(pathJoin(dir, 'nginx.conf'), `
daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events {}
http {
  access_log off;
  client_body_temp_path ${t}; proxy_temp_path ${t}; fastcgi_temp_path ${t}; uwsgi_temp_path ${t}; scgi_temp_path ${t};
  upstream rtcroom { ${bases.map((b) => `server ${b.replace('http://', '')} max_fails=1 fail_timeout=30s;`).join(' ')} }
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://rtcroom;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_read_timeout 120s;
      proxy_connect_timeout 1s;
      proxy_next_upstream error timeout;
    }
  }
}`);
  const proc = spawn('nginx', ['-p', dir, '-c', pathJoin(dir, 'nginx.conf'), '-e', pathJoin(dir, 'error.log')], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const up = await new Promise((ok) => { const c = connect(port, '127.0.0.1', () => { c.end(); ok(true); }); c.on('error', () => ok(false)); });
    if (up) return { base: `http://127.0.0.1:${port}`, stop: () => { proc.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }); } };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('nginx did not start');
}

async function sockets(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(/^rtcroom_sockets (\d+)/m.exec(text)?.[1] ?? 0);
}

test('behind nginx, a killed node\'s page reconnects to the other node and the call goes on', { timeout: 120000, skip: haveRedis && haveNginx ? false : 'SKIPPED: redis-server or nginx is not installed' }, async () => {
  const redis = await startRedis();
  const nodes = [await startServer({ extraToml: node(redis.url, 'lb-a') }), await startServer({ extraToml: node(redis.url, 'lb-b') })];
  const lb = await startNginx(nodes.map((n) => n.base));
  const browser = await launch();
  try {
    const a = await join(browser, lb.base, 'alice', 'Alice');
    const b = await join(browser, lb.base, 'bob', 'Bob');
    await createRoom(a, 'Behind nginx');
    await enterRoom(b, 'Behind nginx');
    await waitPlaying(b, 'alice');
    await waitPlaying(a, 'bob');
    // Kill the node holding more of the two sockets (at least one).
    const counts = await Promise.all(nodes.map((n) => sockets(n.base)));
    const victim = counts[0] >= counts[1] ? 0 : 1;
    assert.ok(counts[victim] >= 1, `sockets per node: ${counts}`);
    console.log(`sockets per node ${counts}; SIGKILL node ${victim}`);
    nodes[victim].proc.kill('SIGKILL');
    // Messages sent while a page reconnects are replayed to it from Redis.
    await sendText(a, 'sent during the move');
    await sendText(b, 'also during the move');
    assert.deepEqual(await waitReceived(b, 'text', 'alice', 1, 30000), ['sent during the move']);
    assert.deepEqual(await waitReceived(a, 'text', 'bob', 1, 30000), ['also during the move']);
    for (const p of [a, b]) await p.page.waitForSelector('#conn[data-state="connected"]', { timeout: 30000 });
    assert.equal(await sockets(nodes[1 - victim].base), 2, 'both sockets on the surviving node');
    await waitPlaying(b, 'alice');
    await waitPlaying(a, 'bob');
    await sendText(a, 'after');
    assert.deepEqual(await waitReceived(b, 'text', 'alice', 2), ['sent during the move', 'after']);
    assert.deepEqual(await received(a, 'text', 'bob'), ['also during the move'], 'nothing twice');
  } finally {
    await browser.close();
    nodes.forEach((n) => n.stop());
    lb.stop();
    redis.stop();
  }
});
