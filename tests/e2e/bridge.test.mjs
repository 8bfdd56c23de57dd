// Browser → mini-program, for real: a room with a mini-program member runs in
// SFU mode and RoomService bridges each browser member to RTMP (Janus
// rtp_forward → ffmpeg → nginx-rtmp, server/src/media/bridge.rs).
//
// An ffmpeg "live-pusher" (testsrc + sine, libx264 baseline + AAC — what
// <live-pusher> sends) joins through the component's own HTTP flow: login →
// get_push_url → push to the signed URL (through our on_publish check) →
// add_pusher. A Chromium member (tests/e2e/sfu_page.html, fake camera)
// enters and publishes H.264 to Janus. Checked: its accelerateURL (from
// get_pushers and pusher_join) plays with ffprobe/ffmpeg as H.264 + AAC, with
// decoded frames advancing; the time from the browser's entry to the first
// RTMP frame is printed; the member leaving stops its ffmpeg; a second
// member's ffmpeg dies with RoomService when RoomService is SIGKILLed
// (parent-death signal); ffmpeg runs in its own process group.
//
// Runs inside scripts/test-e2e's loopback-only namespace (adds the veth pair
// Janus needs, like sfu.test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, launch, ROOT } from './harness.mjs';
import { startBridgeStack, startJanus } from './janus.mjs';

const ROOM = 'bridge-room';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** ffmpeg processes whose parent is `ppid`: [{pid, pgid, kind}], `kind` 'bridge' (browser → RTMP,
 * FLV out) or 'ingest' (RTMP → Janus, RTP out); only those of `kind` when given. */
function ffmpegChildrenOf(ppid, kind) {
  const out = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (name !== 'ffmpeg' || Number(f[1]) !== ppid || f[0] === 'Z') continue;
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const k = args.includes('rtp') ? 'ingest' : 'bridge';
      if (!kind || kind === k) out.push({ pid: Number(pid), pgid: Number(f[2]), kind: k });
    } catch { /* gone */ }
  }
  return out;
}

function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch { return false; }
}

async function until(what, fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The mini-program's HTTP flow (what the <rtc-room> component does), for `userID`. */
async function miniProgramLogin(base, userID) {
  const info = await (await fetch(`${base}/weapp/utils/get_login_info?userID=${userID}`)).json();
  const login = await (await fetch(`${base}/weapp/rtc_room/login?sdkAppID=${info.sdkAppID}&accountType=${info.accType}&userID=${userID}&userSig=${encodeURIComponent(info.userSig)}`, { method: 'POST' })).json();
  assert.equal(login.code, 0, JSON.stringify(login));
  const api = async (cmd, body) => {
    const r = await (await fetch(`${base}/weapp/rtc_room/${cmd}?userID=${userID}&token=${login.token}`, { method: 'POST', body: JSON.stringify(body) })).json();
    assert.equal(r.code, 0, `${cmd}: ${JSON.stringify(r)}`);
    return r;
  };
  return { api };
}

/** ffmpeg as <live-pusher>: H.264 baseline + AAC over RTMP, what <live-pusher> sends. The video
 * (640x480, 15 fps, one keyframe a second) is a pixel clock painted here: Date.now() as 42
 * black/white 16 px blocks (bit 41 first, 20 a row), the layout tests/e2e/sfu_page.html paints,
 * so the receiver measures latency; the audio a 440 Hz tone. */
function livePusher(url, { width = 640, height = 480, fps = 15 } = {}) {
  let err = '';
  const proc = spawn('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error',
    '-f', 'rawvideo', '-pix_fmt', 'gray', '-s', `${width}x${height}`, '-framerate', String(fps), '-use_wallclock_as_timestamps', '1', '-i', 'pipe:0',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-profile:v', 'baseline', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', String(fps),
    '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', url], { stdio: ['pipe', 'ignore', 'pipe'] });
  proc.stderr.on('data', (d) => { err += d; });
  proc.stdin.on('error', () => {});
  const frame = Buffer.alloc(width * height);
  const paint = () => {
    const now = Date.now();
    frame.fill(128);
    for (let i = 0; i < 42; i++) {
      const v = Math.floor(now / 2 ** (41 - i)) % 2 ? 255 : 0;
      const x0 = (i % 20) * 16; const y0 = Math.floor(i / 20) * 16;
      for (let y = y0; y < y0 + 16; y++) frame.fill(v, y * width + x0, y * width + x0 + 16);
    }
    if (proc.exitCode === null && proc.stdin.writable) proc.stdin.write(frame);
  };
  const timer = setInterval(paint, 1000 / fps);
  proc.on('exit', () => clearInterval(timer));
  return { proc, log: () => err };
}

/** ffprobe of a live RTMP stream: "codec_name,width,height" lines. It joins mid-stream and waits for
 * the next keyframe (one a second): give it 3 s. */
function probe(url) {
  return execFileSync('ffprobe', ['-v', 'error', '-analyzeduration', '3000000', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', url], { timeout: 15000 }).toString().trim().split('\n').sort();
}

/** ffmpeg as <live-player>: decodes the video frame by frame (no duplicates) for `secs`
 * seconds of wall time after its first frame (or gives up after `waitMs` without one);
 * returns the per-frame CRCs and when the first one arrived (ms since `t0`). */
function readFrames(url, secs, t0, waitMs = 8000) {
  return new Promise((ok) => {
    const proc = spawn('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'warning', '-fflags', 'nobuffer', '-analyzeduration', '200000', '-i', url,
      '-map', '0:v', '-fps_mode', 'passthrough', '-flush_packets', '1', '-f', 'framecrc', '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = ''; let err = ''; let first = null;
    let timer = setTimeout(() => proc.kill('SIGKILL'), waitMs);
    proc.stdout.on('data', (d) => {
      out += d;
      if (first === null && /^0,/m.test(out)) {
        first = Date.now() - t0;
        if (process.env.BRIDGE_DEBUG) console.log(`first frame at ${new Date().toISOString()}`);
        clearTimeout(timer);
        timer = setTimeout(() => proc.kill('SIGKILL'), secs * 1000);
      }
    });
    proc.stderr.on('data', (d) => { err += d; });
    proc.on('exit', () => {
      clearTimeout(timer);
      const lines = out.split('\n').filter((l) => /^0,/.test(l));
      ok({ crcs: lines.map((l) => l.split(',').pop().trim()), pts: lines.map((l) => Number(l.split(',')[2])), first, err });
    });
  });
}

/** Reads the pixel clock (tests/e2e/sfu_page.html `clock: true`) from `url` for `ms`:
 * per decoded frame, now − the painted Date.now() (ms). */
function readClock(url, ms, width = 320, height = 240) {
  return new Promise((ok) => {
    const proc = spawn('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-fflags', 'nobuffer', '-analyzeduration', '3000000', '-i', url,
      '-map', '0:v', '-fps_mode', 'passthrough', '-flush_packets', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d) => { err += d; });
    const size = width * height;
    let buf = Buffer.alloc(0);
    const lat = []; let bad = 0;
    proc.stdout.on('data', (d) => {
      const now = Date.now();
      buf = Buffer.concat([buf, d]);
      while (buf.length >= size) {
        let v = 0;
        for (let i = 0; i < 42; i++) {
          const x = (i % 20) * 16 + 8; const y = Math.floor(i / 20) * 16 + 8;
          v = v * 2 + (buf[y * width + x] > 128 ? 1 : 0);
        }
        if (Math.abs(now - v) < 60000) lat.push(now - v); else bad++;
        buf = buf.subarray(size);
      }
    });
    const timer = setTimeout(() => proc.kill('SIGKILL'), ms);
    proc.on('exit', () => { clearTimeout(timer); ok({ lat, bad, err }); });
  });
}

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };

async function metric(base, name) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = text.match(new RegExp(`^${name} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : NaN;
}

/** The mini-program member `user` (logged in as `mp`) enters `room` as <rtc-room> does: get_push_url,
 * push there (on_publish checks it), add_pusher, heartbeats. */
async function miniProgramEnters(mp, room, user, nginxLog) {
  const { pushURL } = await mp.api('get_push_url', {});
  const pusher = livePusher(pushURL);
  await sleep(1500);
  assert.equal(pusher.proc.exitCode, null, `live-pusher refused: ${pusher.log()} ${nginxLog()}`);
  await mp.api('add_pusher', { roomID: room, userName: user, userAvatar: '', pushURL });
  const heartbeat = setInterval(() => mp.api('pusher_heartbeat', { roomID: room }).catch(() => {}), 3000);
  return { pusher, heartbeat, pushURL };
}

test('a browser member plays on the mini-program side through the RTMP bridge', { timeout: 240000 }, async () => {
  const stack = await startBridgeStack({ staticDir: pathJoin(ROOT, 'tests', 'e2e') });
  const { janus, serverOptions, nginx, rtmpPort } = stack;
  let server = stack.server;
  const browser = await launch();
  let pusher = null;
  let heartbeat = null;
  const serverPids = [server.proc.pid];
  try {
    const mp = await miniProgramLogin(server.base, 'mp1');
    ({ pusher, heartbeat } = await miniProgramEnters(mp, ROOM, 'mp1', stack.nginxLog));
    assert.deepEqual(ffmpegChildrenOf(server.proc.pid), [], 'a bridge runs with no browser member');

    // A browser member enters: the room is SFU (mini-program member), it publishes H.264.
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${server.base}/sfu_page.html`);
    const room = (await mp.api('get_pushers', { roomID: ROOM }));
    assert.equal(room.pushers.length, 1);
    const t0 = Date.now();
    let tPub = null;
    const watchPub = (async () => {
      while (tPub === null && Date.now() - t0 < 20000) {
        if (await page.evaluate(() => window.sfu.state.pub?.connectionState).catch(() => null) === 'connected') tPub = Date.now() - t0;
        else await sleep(20);
      }
    })();
    await page.evaluate(() => window.sfu.start({ userID: 'b1', roomID: 'bridge-room' }));
    // room_mode is a socket frame: it may land after add_pusher's HTTP answer.
    await page.waitForFunction(() => window.sfu.state.mode === 'sfu', null, { timeout: 10000 })
      .catch(async () => assert.fail(`no room_mode sfu: mode ${await page.evaluate(() => window.sfu.state.mode)}`));
    const b1 = (await mp.api('get_pushers', { roomID: ROOM })).pushers.find((p) => p.userID === 'b1');
    assert.ok(b1, 'b1 in get_pushers');
    assert.match(b1.accelerateURL, new RegExp(`^rtmp://127\\.0\\.0\\.1:${rtmpPort}/live/[^?]+\\?bizid=[^&]*&txSecret=[0-9a-f]{32}&txTime=[0-9A-F]+$`));
    // The player starts as the mini-program would, right after it sees the member.
    // Until the bridge publishes, nginx-rtmp has no such stream and the reader ends at
    // once: retry, like <live-player> does.
    let frames = { crcs: [] };
    let tries = 0;
    while (!frames.crcs.length && Date.now() - t0 < 20000) {
      tries++;
      frames = await readFrames(b1.accelerateURL, 3, t0);
      if (!frames.crcs.length) await sleep(100);
    }
    await watchPub;
    const sdp = await page.evaluate(() => window.sfu.state.pub.localDescription.sdp);
    const outbound = await page.evaluate(async () => {
      let codec = null; const stats = await window.sfu.state.pub.getStats();
      stats.forEach((r) => { if (r.type === 'outbound-rtp' && r.kind === 'video') codec = stats.get(r.codecId)?.mimeType; });
      return codec;
    });
    console.log(`browser publishes ${outbound}; publish → first RTMP frame at the player: ${frames.first - tPub} ms (publisher connected ${tPub} ms, first RTMP frame ${frames.first} ms after the member started entering: login, getUserMedia, add_pusher, publish; ${tries} reader attempts); ${frames.crcs.length} frames decoded in 3 s of stream, ${new Set(frames.crcs).size} distinct`);
    assert.equal(outbound, 'video/H264', sdp.slice(0, 200));
    assert.ok(tPub !== null, 'the publisher never connected');
    assert.ok(frames.crcs.length >= 30, `only ${frames.crcs.length} frames: ${frames.err} ${server.log().slice(-3000)}`);
    assert.ok(new Set(frames.crcs).size >= frames.crcs.length / 2, 'frames do not advance');
    const streams = probe(b1.accelerateURL);
    assert.deepEqual(streams, ['aac', 'h264,320,240'], `ffprobe: ${streams}`);

    const bridges = ffmpegChildrenOf(server.proc.pid, 'bridge');
    assert.equal(bridges.length, 1, JSON.stringify(bridges));
    assert.equal(bridges[0].pgid, bridges[0].pid, 'ffmpeg leads its own process group');
    assert.equal(await metric(server.base, 'rtcroom_bridges_running'), 1);
    assert.equal(await metric(server.base, 'rtcroom_bridge_restarts_total'), 0);

    // CPU of the bridge's ffmpeg over 5 s.
    const ticks = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]); };
    const c0 = ticks(bridges[0].pid); const w0 = Date.now();
    await sleep(5000);
    const cores = (ticks(bridges[0].pid) - c0) / 100 / ((Date.now() - w0) / 1000);
    if (process.env.BRIDGE_DEBUG) console.log(server.log());
    console.log(`bridge ffmpeg (320x240@15 H.264 copy + Opus → AAC): ${cores.toFixed(3)} cores`);

    // The member leaves: its bridge stops.
    await page.evaluate(() => window.sfu.leave());
    await until('the bridge ffmpeg to end', () => ffmpegChildrenOf(server.proc.pid, 'bridge').length === 0 && !alive(bridges[0].pid), 10000);
    // (A killed child is a zombie until the supervisor reaps it and counts it gone.)
    await until('rtcroom_bridges_running 0', async () => await metric(server.base, 'rtcroom_bridges_running') === 0, 2000);
    assert.equal(await metric(server.base, 'rtcroom_bridge_restarts_total'), 0);

    // A second member's bridge dies with RoomService, even a SIGKILLed one.
    const page2 = await (await browser.newContext()).newPage();
    await page2.goto(`${server.base}/sfu_page.html`);
    await page2.evaluate(() => window.sfu.start({ userID: 'b2', roomID: 'bridge-room', clock: true }));
    const second = await until('the second bridge', () => ffmpegChildrenOf(server.proc.pid, 'bridge')[0], 15000);
    // Latency browser → RTMP player, with a clock drawn in pixels (b2 paints Date.now()).
    const b2 = (await mp.api('get_pushers', { roomID: ROOM })).pushers.find((p) => p.userID === 'b2');
    await until('b2 on RTMP', async () => (await readFrames(b2.accelerateURL, 0.2, Date.now(), 4000)).crcs.length > 0, 20000);
    const clock = await readClock(b2.accelerateURL, 12000);
    const steady = clock.lat.slice(30); // past the player's start-up
    console.log(`latency browser → RTMP player (pixel clock, ${steady.length} frames, ${clock.bad} undecodable): p50 ${pct(steady, 0.5)} ms, p95 ${pct(steady, 0.95)} ms, max ${Math.max(...steady)} ms`);
    assert.ok(steady.length >= 50, `the clock decoded in only ${steady.length} frames (${clock.bad} bad): ${clock.err}`);
    const ingest2 = await until('the ingest of mp1', () => ffmpegChildrenOf(server.proc.pid, 'ingest')[0], 15000);
    let tKill = Date.now();
    server.proc.kill('SIGKILL');
    await until('the bridge and ingest ffmpeg to die with RoomService', () => !alive(second.pid) && !alive(ingest2.pid), 5000);
    console.log(`RoomService SIGKILLed: its bridge ffmpeg (pid ${second.pid}, group ${second.pgid}) and ingest ffmpeg (pid ${ingest2.pid}, group ${ingest2.pgid}) gone ${Date.now() - tKill} ms later`);

    // And with a RoomService stopped by SIGTERM: a new one on the same address (nginx's
    // on_publish goes there), the mini-program member again, a third browser member.
    server = await startServer({ ...serverOptions, listen: server.base.replace('http://', '') });
    serverPids.push(server.proc.pid);
    pusher.proc.kill('SIGKILL');
    clearInterval(heartbeat);
    const mp2 = await miniProgramLogin(server.base, 'mp1');
    ({ pusher, heartbeat } = await miniProgramEnters(mp2, ROOM, 'mp1', stack.nginxLog));
    const page3 = await (await browser.newContext()).newPage();
    await page3.goto(`${server.base}/sfu_page.html`);
    await page3.evaluate(() => window.sfu.start({ userID: 'b3', roomID: 'bridge-room' }));
    const third = await until('the third bridge', () => ffmpegChildrenOf(server.proc.pid, 'bridge')[0], 15000);
    const ingest3 = await until('the ingest of mp1', () => ffmpegChildrenOf(server.proc.pid, 'ingest')[0], 15000);
    const exited = new Promise((r) => server.proc.once('exit', r));
    tKill = Date.now();
    server.proc.kill('SIGTERM');
    await exited;
    await until('the bridge and ingest ffmpeg to end with RoomService (SIGTERM)', () => !alive(third.pid) && !alive(ingest3.pid), 5000);
    console.log(`RoomService SIGTERMed: its bridge ffmpeg (pid ${third.pid}) and ingest ffmpeg (pid ${ingest3.pid}) gone ${Date.now() - tKill} ms later`);
    for (const e of [...errors]) assert.fail(`page error: ${e}`);
  } catch (e) {
    console.log(`RoomService (tail):\n${server.log().slice(-4000)}\njanus (tail):\n${janus.log()}\nnginx:\n${stack.nginxLog()}\nlive-pusher: ${pusher?.log()}`);
    throw e;
  } finally {
    clearInterval(heartbeat);
    await browser.close();
    pusher?.proc.kill('SIGKILL');
    nginx.kill('SIGTERM');
    server.stop();
    janus.stop();
    stack.removeVeth();
    for (const pid of serverPids) assert.deepEqual(ffmpegChildrenOf(pid), [], 'an ffmpeg of RoomService outlived the test');
  }
});

/** What a browser member (tests/e2e/sfu_page.html, `page`) receives of member `user` over `ms`:
 * its video's width, frames presented, the pixel clock's latency per frame (now − painted time,
 * ms), and the inbound audio RTP packets of that member's streams at the start and the end. All
 * page-side code of the mini-program → browser checks is here, to switch to the npm client's
 * addRemoteView once it speaks SFU. */
async function remoteMedia(page, user, ms) {
  return page.evaluate(async ({ user, ms }) => {
    const s = window.sfu.state;
    const audioPackets = async () => {
      let n = 0;
      if (!s.sub) return n;
      (await s.sub.getStats()).forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'audio' && s.midUser.get(r.mid) === user) n += r.packetsReceived;
      });
      return n;
    };
    const r = s.remotes.get(user);
    if (!r) return { videoWidth: 0, frames: 0, lat: [], audio: [0, 0] };
    const canvas = document.createElement('canvas');
    const g = canvas.getContext('2d', { willReadFrequently: true });
    const lat = [];
    let frames = 0; let stop = false;
    const onFrame = () => {
      if (stop) return;
      const now = Date.now();
      frames++;
      const { videoWidth: w, videoHeight: h } = r.video;
      if (w >= 320) {
        canvas.width = w; canvas.height = h;
        g.drawImage(r.video, 0, 0);
        const px = g.getImageData(0, 0, 320, 48).data;
        let v = 0;
        for (let i = 0; i < 42; i++) v = v * 2 + (px[((Math.floor(i / 20) * 16 + 8) * 320 + (i % 20) * 16 + 8) * 4] > 128 ? 1 : 0);
        if (Math.abs(now - v) < 60000) lat.push(now - v);
      }
      r.video.requestVideoFrameCallback(onFrame);
    };
    const a0 = await audioPackets();
    r.video.requestVideoFrameCallback(onFrame);
    await new Promise((ok) => setTimeout(ok, ms));
    stop = true;
    return { videoWidth: r.video.videoWidth, frames, lat, audio: [a0, await audioPackets()] };
  }, { user, ms });
}

test('a mini-program member plays in a browser through the RTMP → Janus ingest', { timeout: 240000 }, async () => {
  const room = 'ingest-room';
  const stack = await startBridgeStack({ staticDir: pathJoin(ROOT, 'tests', 'e2e') });
  const { server } = stack;
  let janus = stack.janus;
  const browser = await launch();
  let pusher = null;
  let heartbeat = null;
  const browserPage = async (userID) => {
    const page = await (await browser.newContext()).newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${server.base}/sfu_page.html`);
    await page.evaluate((a) => window.sfu.start(a), { userID, roomID: room });
    return { page, errors };
  };
  const plays = async (page, what, timeoutMs = 20000, user = 'mp1') => until(what, async () => {
    const m = await remoteMedia(page, user, 500);
    return m.videoWidth === 640 && m.frames >= 3 && m.audio[1] > m.audio[0] ? m : null;
  }, timeoutMs);
  try {
    const mp = await miniProgramLogin(server.base, 'mp1');
    ({ pusher, heartbeat } = await miniProgramEnters(mp, room, 'mp1', stack.nginxLog));
    assert.deepEqual(ffmpegChildrenOf(server.proc.pid), [], 'an ingest runs with no browser member');

    // A browser member enters: mp1 is a remote publisher of the Janus room, in b1's subscriber.
    const t0 = Date.now();
    const b1 = await browserPage('b1');
    const first = await plays(b1.page, 'b1 to play mp1 (640 px, frames advancing, audio packets growing)');
    const tPlay = Date.now() - t0;
    const midsOfMp1 = await b1.page.evaluate(() => [...window.sfu.state.midUser].filter(([, u]) => u === 'mp1').length);
    assert.equal(midsOfMp1, 2, 'mp1 is in the subscriber offer streams with its audio and video');
    const ingests = ffmpegChildrenOf(server.proc.pid, 'ingest');
    assert.equal(ingests.length, 1, JSON.stringify(ingests));
    assert.equal(ingests[0].pgid, ingests[0].pid, 'the ingest ffmpeg leads its own process group');
    assert.equal(await metric(server.base, 'rtcroom_ingests_running'), 1);
    console.log(`browser enters → plays the mini-program member: ${tPlay} ms (login, getUserMedia, add_pusher, subscribe, first keyframe); ${first.frames} frames in 0.5 s, audio packets ${first.audio[0]} → ${first.audio[1]}`);

    // Latency mini-program → browser: the pusher's pixel clock, decoded in the page.
    const m = await remoteMedia(b1.page, 'mp1', 12000);
    const steady = m.lat.slice(15);
    console.log(`latency mini-program (RTMP push) → browser (pixel clock, ${steady.length} frames of ${m.frames}): p50 ${pct(steady, 0.5)} ms, p95 ${pct(steady, 0.95)} ms, max ${Math.max(...steady)} ms`);
    assert.ok(steady.length >= 50, `the clock decoded in only ${steady.length} of ${m.frames} frames`);
    assert.ok(m.audio[1] > m.audio[0] + 100, `audio packets ${m.audio}`);

    // CPU of the ingest ffmpeg over 5 s.
    const ticks = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]); };
    const c0 = ticks(ingests[0].pid); const w0 = Date.now();
    await sleep(5000);
    console.log(`ingest ffmpeg (640x480@15 H.264 copy + AAC → Opus): ${((ticks(ingests[0].pid) - c0) / 100 / ((Date.now() - w0) / 1000)).toFixed(3)} cores`);

    // A second browser member shares the same ingest.
    const b2 = await browserPage('b2');
    await plays(b2.page, 'b2 to play mp1');
    assert.equal(ffmpegChildrenOf(server.proc.pid, 'ingest').length, 1, 'one ingest per mini-program member');

    // Janus restarts: the room is re-created, the remote publisher added again, the pages resubscribe.
    janus.stop();
    await until('the ingest to stop with Janus', () => !alive(ingests[0].pid), 10000);
    janus = startJanus(stack.janusOptions);
    await janus.ready;
    await plays(b1.page, 'b1 to play mp1 again after Janus restarted', 30000);
    console.log('after a Janus restart b1 plays mp1 again');

    // Browser members leaving: the ingest runs until the last one is gone.
    await b2.page.evaluate(() => window.sfu.leave());
    await sleep(1000);
    const running = ffmpegChildrenOf(server.proc.pid, 'ingest');
    assert.equal(running.length, 1, 'the ingest stopped while b1 still watches');
    await b1.page.evaluate(() => window.sfu.leave());
    await until('the ingest to stop with the last browser member', () => ffmpegChildrenOf(server.proc.pid).length === 0 && !alive(running[0].pid), 10000);
    await until('rtcroom_ingests_running 0', async () => await metric(server.base, 'rtcroom_ingests_running') === 0, 2000);

    // A browser member again. The demo's test mini-program member (debug mode): RoomService pushes
    // a test pattern into the room as <live-pusher> would, and b3 plays it too.
    const b3 = await browserPage('b3');
    await plays(b3.page, 'b3 to play mp1');
    const added = await (await fetch(`${server.base}/weapp/utils/debug_add_test_member`, { method: 'POST', body: JSON.stringify({ roomID: room }) })).json();
    assert.equal(added.code, 0, JSON.stringify(added));
    assert.match(added.userID, /^test-/);
    await plays(b3.page, 'b3 to play the test mini-program member', 20000, added.userID);
    assert.equal(ffmpegChildrenOf(server.proc.pid, 'ingest').length, 2, 'the test member is ingested like any mini-program member');

    // Another mini-program member enters and leaves: its ingest (only) stops.
    const before = ffmpegChildrenOf(server.proc.pid, 'ingest').map((p) => p.pid);
    const mp2 = await miniProgramLogin(server.base, 'mp2');
    const second = await miniProgramEnters(mp2, room, 'mp2', stack.nginxLog);
    await plays(b3.page, 'b3 to play mp2', 20000, 'mp2');
    const mp2Ingest = ffmpegChildrenOf(server.proc.pid, 'ingest').find((p) => !before.includes(p.pid));
    assert.ok(mp2Ingest, 'an ingest for mp2');
    clearInterval(second.heartbeat);
    await mp2.api('delete_pusher', { roomID: room });
    await until('mp2\'s ingest to stop with its member', () => !alive(mp2Ingest.pid), 10000);
    second.pusher.proc.kill('SIGKILL');
    assert.deepEqual(ffmpegChildrenOf(server.proc.pid, 'ingest').map((p) => p.pid).sort(), [...before].sort(), 'the others\' ingests go on');

    // The creator (mp1) leaves: the room closes, every ingest stops, the test member goes too.
    clearInterval(heartbeat);
    await mp.api('delete_pusher', { roomID: room });
    await until('every ffmpeg of the room to stop with it', () => ffmpegChildrenOf(server.proc.pid).length === 0, 20000);
    await until('rtcroom_ingests_running 0', async () => await metric(server.base, 'rtcroom_ingests_running') === 0, 2000);
    assert.equal(await metric(server.base, 'rtcroom_ingest_restarts_total'), 0);
    for (const e of [...b1.errors, ...b2.errors, ...b3.errors]) assert.fail(`page error: ${e}`);
  } catch (e) {
    console.log(`RoomService (tail):\n${server.log().slice(-5000)}\njanus (tail):\n${janus.log()}\nnginx:\n${stack.nginxLog()}\nlive-pusher: ${pusher?.log()}`);
    throw e;
  } finally {
    clearInterval(heartbeat);
    await browser.close();
    pusher?.proc.kill('SIGKILL');
    stack.nginx.kill('SIGTERM');
    server.stop();
    janus.stop();
    stack.removeVeth();
    await sleep(500);
    assert.deepEqual(ffmpegChildrenOf(server.proc.pid), [], 'an ffmpeg of RoomService outlived the test');
  }
});
