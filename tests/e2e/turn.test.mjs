// TURN on coturn, for real: scripts/turn-server starts a loopback coturn with
// TURN REST authentication; RoomService (with [turn] configured) mints each
// login's credentials; two Chromium pages with iceTransportPolicy 'relay',
// using the iceServers from their own real logins, connect through it (the
// selected candidate pair is relay/relay and a data channel message goes
// through). Wrong and expired credentials are refused by coturn (no relay
// candidate, a 401 candidate error). Runs inside scripts/test-e2e's
// loopback-only namespace; coturn gets --allow-loopback-peers because both
// peers are on 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { ROOT, launch, startServer } from './harness.mjs';

const SECRET = randomBytes(16).toString('hex');

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

async function waitForTcp(port, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const up = await new Promise((ok) => {
      const c = connect(port, '127.0.0.1', () => { c.destroy(); ok(true); });
      c.on('error', () => ok(false));
    });
    if (up) return;
    if (Date.now() > end) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startTurn(port, dir) {
  const proc = spawn(pathJoin(ROOT, 'scripts', 'turn-server'), ['--port', String(port), '--run-dir', dir, '--allow-loopback-peers'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, TURN_SECRET: SECRET },
  });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((_, fail) => proc.on('exit', (c) => fail(new Error(`turn-server exited ${c}: ${stderr}`))));
  await Promise.race([waitForTcp(port), exited]);
  return proc;
}

/** RoomService serving the TURN test page, with `[turn]` pointing at coturn on `turnPort`. */
function startRoomService(turnPort) {
  return startServer({
    staticDir: pathJoin(ROOT, 'tests', 'e2e', 'turn-page'),
    extraToml: ['[turn]', `secret = "${SECRET}"`, 'ttl_secs = 600', `urls = ["turn:127.0.0.1:${turnPort}?transport=udp"]`].join('\n'),
  });
}

/** A real login (debug identity, then `login` with its userSig): the answer's iceServers. */
async function loginIceServers(base, userID) {
  const info = await (await fetch(`${base}/weapp/utils/get_login_info?userID=${userID}`)).json();
  assert.equal(info.code, 0, JSON.stringify(info));
  const q = new URLSearchParams({ sdkAppID: String(info.sdkAppID), accountType: info.accType ?? '0', userID, userSig: info.userSig });
  const r = await (await fetch(`${base}/weapp/rtc_room/login?${q}`, { method: 'POST', body: '' })).json();
  assert.equal(r.code, 0, JSON.stringify(r));
  return r.iceServers;
}

test('two pages call each other through coturn with credentials from their logins; bad ones are refused', { timeout: 90000 }, async () => {
  const dir = mkdtempSync(pathJoin(tmpdir(), 'rtcroom-turn-e2e-'));
  const turnPort = await freePort();
  const turn = await startTurn(turnPort, pathJoin(dir, 'turn'));
  const rs = await startRoomService(turnPort);
  const browser = await launch();
  try {
    const alice = await loginIceServers(rs.base, 'alice');
    const bob = await loginIceServers(rs.base, 'bob');
    const turnEntry = alice.find((s) => s.urls.some((u) => u.startsWith('turn:')));
    assert.ok(turnEntry, `login should hand out the TURN server: ${JSON.stringify(alice)}`);
    const [expiry, user] = turnEntry.username.split(':');
    assert.equal(user, 'alice');
    const ttl = Number(expiry) - Date.now() / 1000;
    assert.ok(ttl > 590 && ttl <= 601, `expiry ${expiry} is now + ttl_secs`);

    const page = async () => {
      const p = await (await browser.newContext()).newPage();
      await p.goto(`${rs.base}/index.html`);
      return p;
    };
    const [pa, pb] = [await page(), await page()];
    const t0 = Date.now();
    await pa.evaluate((s) => window.turnPeer.open(s, true), alice);
    await pb.evaluate((s) => window.turnPeer.open(s, false), bob);
    const offer = await pa.evaluate(() => window.turnPeer.offer());
    assert.match(offer, / typ relay /, 'the offer carries relay candidates');
    assert.doesNotMatch(offer, / typ host /, 'relay policy: no host candidates');
    const answer = await pb.evaluate((sdp) => window.turnPeer.answer(sdp), offer);
    await pa.evaluate((sdp) => window.turnPeer.accept(sdp), answer);
    await Promise.all([pa.evaluate(() => window.turnPeer.connected()), pb.evaluate(() => window.turnPeer.connected())]);
    const connectedMs = Date.now() - t0;
    for (const p of [pa, pb]) {
      const pair = await p.evaluate(() => window.turnPeer.selectedPair());
      assert.deepEqual([pair?.local, pair?.remote], ['relay', 'relay'], JSON.stringify(pair));
    }
    await pa.evaluate(() => new Promise((ok) => {
      const dc = window.turnPeer.dc;
      if (dc.readyState === 'open') ok(); else dc.onopen = ok;
    }));
    await pa.evaluate(() => window.turnPeer.dc.send('through the relay'));
    await pb.waitForFunction(() => window.turnPeer.received.includes('through the relay'), null, { timeout: 10000 });

    // Refused: a wrong password, and a correctly signed but expired username.
    const expiredUser = `${Math.floor(Date.now() / 1000) - 60}:carol`;
    const refusals = [
      ['wrong credential', { ...turnEntry, credential: 'd3JvbmcgcGFzc3dvcmQ=' }],
      ['expired username', { ...turnEntry, username: expiredUser, credential: createHmac('sha1', SECRET).update(expiredUser).digest('base64') }],
    ];
    for (const [what, server] of refusals) {
      const pc = await page();
      await pc.evaluate((s) => window.turnPeer.open(s, true), [server]);
      const got = await pc.evaluate(() => window.turnPeer.gatherOnly());
      assert.equal(got.relayCandidates, 0, `${what}: coturn must not allocate a relay (${JSON.stringify(got)})`);
      assert.ok(got.errors.some((e) => e.code === 401), `${what}: a 401 from coturn (${JSON.stringify(got)})`);
    }
    console.log(`turn: relay/relay call connected in ${connectedMs} ms; wrong and expired credentials refused with 401`);
  } finally {
    await browser.close();
    rs.proc.kill('SIGTERM');
    turn.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    rmSync(dir, { recursive: true, force: true });
  }
});
