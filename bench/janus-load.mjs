// How many 6-person rooms one Janus holds on this machine before frames drop.
//
// bench/sfu.mjs's rooms of real Chromium members saturate the box at ~2 rooms
// (Chromium encodes 6 cameras and decodes 30 streams per room), long before
// Janus. Here the members cost little outside Janus, so Janus is what the
// load is measured against:
//   publishers   VideoRoom *remote publishers* (`add_remote_publisher`, as
//                RoomService's RTMP ingest, server/src/media/ingest.rs): plain
//                RTP to the room's port. One ffmpeg per room sends a
//                pre-encoded clip (made once at the start: H.264 constrained
//                baseline 640x480@30, ~600 kbit/s, keyframe every second, and
//                Opus 48 kHz stereo 48 kbit/s) to its 6 publishers with
//                `-re -stream_loop -1 -c copy` (no encoding at run time).
//   subscribers  6 multistream subscribers per room, each of the other 5
//                feeds' audio and video (30 video + 30 audio streams out of
//                Janus per room, over ICE/DTLS/SRTP as to browsers): real
//                RTCPeerConnections in Chromium, one page per room, whose
//                encoded transforms count frames and drop them (no decoding
//                or rendering; bench/pages/janus-load.js).
// Rooms are created with RoomService's own VideoRoom settings (sfu.rs
// `create`), but the bench drives Janus' API itself: RoomService only relays
// signaling for an SFU room (no media passes through it), so it is not part
// of this load; its per-room cost is bench/sfu.mjs's.
//
// Rooms are added in steps (1, 2, 4, 6, … up to BENCH_JANUS_LOAD_ROOMS); after
// each, 3 s to settle, then a window of BENCH_JANUS_LOAD_SECS over every room:
// received frames per second of every video and audio stream (counted by the
// transforms), RTP packets received and lost (getStats), and CPU per process
// (/proc/<pid>/stat): Janus, the Chromium renderers (the subscribers), the
// rest of Chromium, the ffmpeg senders, this Node process.
// "Frames drop" when, in a window, the 5th-percentile video stream receives
// under 90% of the sent rate (the clip's 30 fps, or the one-room median if
// higher: ffmpeg's -re pacing runs a little fast), or the 5th-percentile audio
// stream under 90% of its 50 frames/s (ditto), or the median video stream
// over 110% of the sent rate (frames held up arriving in a burst), or over 1%
// of the RTP packets are lost, or a subscriber's stream is missing; a failing window
// is measured once more (the box is shared) and the run stops when that one
// fails too, when a room does not come up, at the most rooms, or once
// BENCH_JANUS_LOAD_DEADLINE_SECS (280) have passed (no further step starts;
// a minute later still running, it stops everything it started and exits 1).
//
// Run inside a loopback-only namespace (it adds the veth pair Janus needs);
// scripts/bench does. Prints a summary on stderr; JSON to argv[2] (or stdout).
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { tmpdir, getPriority } from 'node:os';
import { join as pathJoin } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ensureVeth, freePort, startJanus, ownProcesses } from '../tests/e2e/janus.mjs';
import { JanusSession } from './janus-ws.mjs';
import { sinkReceivers, chromiumReceivers } from './janus-receivers.mjs';
import { loadavg } from './stats.mjs';

const MAX_ROOMS = Number(process.env.BENCH_JANUS_LOAD_ROOMS || 40);
const SECS = Number(process.env.BENCH_JANUS_LOAD_SECS || 6);
const DEADLINE_SECS = Number(process.env.BENCH_JANUS_LOAD_DEADLINE_SECS || 280);
const RECEIVERS = process.env.BENCH_JANUS_LOAD_RX || 'sink';
const OUT = process.argv[2];

const MEMBERS = 6;
const CLIP = { width: 640, height: 480, fps: 30, videoKbps: 600, audioKbps: 48, audioFps: 50 };
/** Below this share of the sent rate a stream counts as dropping frames. */
const RATE_FLOOR = 0.9;
const LOSS_CEILING = 0.01;
/** Room counts measured: 1, 2, 4, 6, … */
const STEPS = [1, ...Array.from({ length: 100 }, (_, i) => 2 * (i + 1))].filter((n) => n <= MAX_ROOMS);
/** Janus' remote publisher SSRCs: 1000 + 10 × mindex (server/src/media/ingest.rs). */
const AUDIO_SSRC = 1000;
const VIDEO_SSRC = 1010;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (s) => console.error(`[janus-load] ${s}`);
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
};
const round = (x, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

/** The clip every publisher sends: made once, H.264 + Opus in MPEG-TS (Annex B with SPS/PPS before every
 * keyframe, so it is sent as is: ffmpeg 5.1's h264_mp4toannexb breaks at every -stream_loop turn). */
function makeClip(dir) {
  const file = pathJoin(dir, 'clip.ts');
  const { width, height, fps, videoKbps, audioKbps } = CLIP;
  execFileSync('ffmpeg', ['-loglevel', 'error',
    '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}:duration=10`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=10',
    '-c:v', 'libx264', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-preset', 'veryfast',
    '-b:v', `${videoKbps}k`, '-maxrate', `${videoKbps}k`, '-bufsize', `${videoKbps}k`, '-g', String(fps), '-keyint_min', String(fps),
    '-c:a', 'libopus', '-ac', '2', '-b:a', `${audioKbps}k`, file]);
  return file;
}

/** ffmpeg sending `clip` to every remote publisher of a room ({port, rtcp} each), looped, copied. */
function startSender(clip, publishers) {
  const out = (kind, ssrc, pt, { port, rtcp }) =>
    `[select=${kind}:f=rtp:ssrc=${ssrc}:payload_type=${pt}]rtp://127.0.0.1:${port}?rtcpport=${rtcp}&pkt_size=1200`;
  const tee = publishers.flatMap((p) => [out('v', VIDEO_SSRC, 96, p), out('a', AUDIO_SSRC, 111, p)]).join('|');
  let err = '';
  const proc = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', clip,
    '-map', '0:v', '-map', '0:a', '-c', 'copy', '-f', 'tee', tee], { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr.on('data', (d) => { err = (err + d).slice(-2000); });
  senders.push(proc);
  return { proc, log: () => err };
}

/** A subscriber `join`; retried a few times on "No such feed" (seen once, under load, right after
 * the remote publishers were added). */
async function joinSubscriber(janus, handle, room, streams) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await janus.message(handle, { request: 'join', ptype: 'subscriber', room, streams });
    } catch (e) {
      if (attempt >= 5 || !/^428:/.test(e.message)) throw e;
      await sleep(500);
    }
  }
}

/** One 6-person room: Janus room, remote publishers, their sender, their subscribers. */
async function addRoom(janus, receivers, adminKey, clip, k) {
  const room = { k, id: `bench-load-${k}`, feeds: [], sender: null, subscribers: [] };
  const admin = await janus.attach('janus.plugin.videoroom');
  await janus.message(admin, {
    request: 'create', room: room.id, admin_key: adminKey, permanent: false, is_private: true, publishers: 16,
    videocodec: 'h264,vp8', h264_profile: '42e01f', audiocodec: 'opus', fir_freq: 2, notify_joining: false,
  });
  const ports = [];
  for (let i = 0; i < MEMBERS; i++) {
    const feed = `r${k}m${i}`;
    const { data } = await janus.message(admin, {
      request: 'add_remote_publisher', room: room.id, id: feed, display: feed, iface: '127.0.0.1',
      streams: [{ type: 'audio', mindex: 0, mid: '0', codec: 'opus', stereo: true }, { type: 'video', mindex: 1, mid: '1', codec: 'h264' }],
    });
    if (!data.port || !data.rtcp_port) throw new Error(`add_remote_publisher gave no ports: ${JSON.stringify(data)}`);
    room.feeds.push(feed);
    ports.push({ port: data.port, rtcp: data.rtcp_port });
  }
  room.sender = startSender(clip, ports);
  const rx = receivers.room(k);
  for (let i = 0; i < MEMBERS; i++) {
    const h = await janus.attach('janus.plugin.videoroom');
    const streams = room.feeds.filter((_, j) => j !== i).map((feed) => ({ feed }));
    const { jsep } = await joinSubscriber(janus, h, room.id, streams);
    if (jsep?.type !== 'offer') throw new Error(`room ${k} subscriber ${i}: Janus sent no offer`);
    const id = `r${k}s${i}`;
    const answer = await rx.subscribe(id, jsep.sdp);
    room.subscribers.push(id);
    await janus.message(h, { request: 'start' }, { type: 'answer', sdp: answer });
  }
  return room;
}

/** Waits until every stream of `room` has delivered a frame. */
async function flowing(receivers, room, timeoutMs) {
  const want = MEMBERS * (MEMBERS - 1) * 2;
  const deadline = Date.now() + timeoutMs;
  let got = 0;
  while (Date.now() < deadline) {
    const snap = await receivers.snapshot();
    got = room.subscribers.flatMap((id) => Object.values(snap[id]?.streams ?? {})).filter((s) => s.frames > 0).length;
    if (got >= want) return;
    if (room.sender.proc.exitCode !== null) throw new Error(`room ${room.k}: ffmpeg sender exited: ${room.sender.log()}`);
    await sleep(300);
  }
  throw new Error(`room ${room.k}: ${got} of ${want} streams deliver frames after ${timeoutMs} ms`);
}

/** CPU cores used per process group between two ownProcesses() snapshots. */
function cpuDelta(before, after, secs) {
  const out = { janus: 0, sink: 0, chromiumRenderers: 0, chromiumOther: 0, ffmpeg: 0, other: 0 };
  for (const [pid, p] of after) {
    const cores = (p.seconds - (before.get(pid)?.seconds ?? 0)) / secs;
    if (/janus/.test(p.name)) out.janus += cores;
    else if (/chrom/i.test(p.name)) out[p.type === 'renderer' ? 'chromiumRenderers' : 'chromiumOther'] += cores;
    else if (/ffmpeg/.test(p.name)) out.ffmpeg += cores;
    else if (/rtp-sink/.test(p.name)) out.sink += cores;
    else out.other += cores;
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, round(v)]));
}

/** CPU seconds so far of each thread of process `pid`: tid → seconds. */
function threadSeconds(pid) {
  const out = new Map();
  let tids = [];
  try { tids = readdirSync(`/proc/${pid}/task`); } catch { return out; }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, (Number(f[11]) + Number(f[12])) / 100);
    } catch { /* gone */ }
  }
  return out;
}

/** The socket inodes `pid` holds. */
function socketInodes(pid) {
  const out = new Set();
  if (!pid) return out;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try { const l = readlinkSync(`/proc/${pid}/fd/${fd}`); if (l.startsWith('socket:[')) out.add(l.slice(8, -1)); } catch { /* closed */ }
    }
  } catch { /* gone */ }
  return out;
}

/** UDP receive-buffer drops so far (/proc/net/udp of this namespace): on the sink's sockets, on
 * Janus' (the publishers' RTP ports among them) and on every other one. */
function udpDrops(sinkPid, janusPid) {
  const sink = socketInodes(sinkPid);
  const janus = socketInodes(janusPid);
  const out = { sink: 0, janus: 0, others: 0 };
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    out[sink.has(f[9]) ? 'sink' : janus.has(f[9]) ? 'janus' : 'others'] += Number(f[12]);
  }
  return out;
}

/** Packets the kernel dropped from its per-CPU input backlog (loopback traffic queues there), whole machine. */
function backlogDrops() {
  return readFileSync('/proc/net/softnet_stat', 'utf8').trim().split('\n').reduce((n, l) => n + parseInt(l.split(/\s+/)[1], 16), 0);
}

/** Whole-machine busy cores between two /proc/stat readings (every process, not only ours). */
function machineCores() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { busy: f[0] + f[1] + f[2] + f[5] + f[6] + f[7], at: Date.now() };
}

/** A window of SECS over every room held: rates per stream, loss, CPU. */
async function measure(receivers, rooms, ref) {
  const s0 = await receivers.snapshot();
  const p0 = ownProcesses();
  const j0 = threadSeconds(janusProc.proc.pid);
  const m0 = machineCores();
  const d0 = udpDrops(receivers.pid, janusProc.proc.pid);
  const b0 = backlogDrops();
  const n0 = process.cpuUsage();
  const t0 = Date.now();
  await sleep(SECS * 1000);
  const secs = (Date.now() - t0) / 1000;
  const p1 = ownProcesses();
  const j1 = threadSeconds(janusProc.proc.pid);
  const m1 = machineCores();
  const d1 = udpDrops(receivers.pid, janusProc.proc.pid);
  const backlog = backlogDrops() - b0;
  const n1 = process.cpuUsage(n0);
  const s1 = await receivers.snapshot();
  const fps = { video: [], audio: [] };
  let received = 0;
  let lost = 0;
  let notConnected = 0;
  for (const id of rooms.flatMap((r) => r.subscribers)) {
    const sub = s1[id];
    if (sub?.state !== 'connected') notConnected += 1;
    if (!sub) continue;
    {
      for (const [key, s] of Object.entries(sub.streams)) {
        const b = s0[id]?.streams[key];
        if (!b) continue;
        fps[s.kind].push((s.frames - b.frames) / secs);
        received += s.packetsReceived - b.packetsReceived;
        lost += Math.max(0, s.packetsLost - b.packetsLost);
      }
    }
  }
  const cpu = cpuDelta(p0, p1, secs);
  // One Janus thread at ~1 core would be Janus saturating however idle the box.
  cpu.janusBusiestThread = round(Math.max(0, ...[...j1].map(([tid, t]) => (t - (j0.get(tid) ?? 0)) / secs)));
  cpu.janusThreads = j1.size;
  cpu.node = round((n1.user + n1.system) / 1e6 / secs);
  cpu.machine = round((m1.busy - m0.busy) / 100 / ((m1.at - m0.at) / 1000));
  const loss = received + lost ? lost / (received + lost) : 0;
  const video = { p5: round(quantile(fps.video, 0.05), 1), median: round(quantile(fps.video, 0.5), 1), streams: fps.video.length };
  const audio = { p5: round(quantile(fps.audio, 0.05), 1), median: round(quantile(fps.audio, 0.5), 1), streams: fps.audio.length };
  // Above the sent rate, frames that were held up arrive in a burst: late frames are dropped ones to a call.
  const holds = video.p5 >= RATE_FLOOR * ref.video && audio.p5 >= RATE_FLOOR * ref.audio && loss <= LOSS_CEILING
    && video.median <= (2 - RATE_FLOOR) * ref.video
    && video.streams === rooms.length * MEMBERS * (MEMBERS - 1);
  const socketDrops = { ...Object.fromEntries(Object.keys(d1).map((k) => [k, d1[k] - d0[k]])), backlog };
  return { secs: round(secs, 2), loadavg: loadavg(), videoFps: video, audioFps: audio, packetsPerSecond: Math.round(received / secs), loss: round(loss, 5), socketDrops, notConnected, cpu, holds };
}

const removeVeth = ensureVeth();
const janusPort = freePort();
const apiSecret = randomBytes(12).toString('hex');
const adminKey = randomBytes(12).toString('hex');
const work = mkdtempSync(pathJoin(tmpdir(), 'rtcroom-janus-load-'));
const janusProc = startJanus({ port: janusPort, apiSecret, adminKey, runDir: pathJoin(work, 'janus') });
const rooms = [];
/** Every ffmpeg sender started, also those of a room that failed half-way. */
const senders = [];
let receivers = null;
let janus = null;
let cleaned = false;
/** Stops everything this bench started (by handle), once. */
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const p of senders) p.kill('SIGKILL');
  await receivers?.stop();
  await janus?.close().catch(() => {});
  janusProc.stop();
  removeVeth();
}
// A crash must not leave Janus or a looping ffmpeg behind.
for (const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, async (e) => {
    log(`${event}: ${e?.stack ?? e}`);
    await cleanup();
    process.exit(1);
  });
}
const startedAt = Date.now();
setTimeout(async () => {
  log(`hard deadline of ${DEADLINE_SECS + 60} s passed: stopping`);
  await cleanup();
  process.exit(1);
}, (DEADLINE_SECS + 60) * 1000).unref();

const result = {
  scenario: 'janus-load', members: MEMBERS, clip: { ...CLIP, codec: 'H.264 constrained baseline + Opus, -c copy over RTP' },
  secs: SECS, nice: getPriority(), criterion: { rateFloor: RATE_FLOOR, lossCeiling: LOSS_CEILING, quantile: 0.05 }, loadavgStart: loadavg(), steps: [],
};
try {
  await janusProc.ready;
  const clip = makeClip(work);
  janus = await JanusSession.open(`ws://127.0.0.1:${janusPort}`, apiSecret);
  receivers = RECEIVERS === 'chromium' ? await chromiumReceivers() : await sinkReceivers();
  result.receivers = receivers.kind;
  for (const target of STEPS) {
    if (Date.now() - startedAt > DEADLINE_SECS * 1000) {
      result.deadlineAt = target;
      log(`deadline of ${DEADLINE_SECS} s passed before ${target} rooms: stopping`);
      break;
    }
    try {
      while (rooms.length < target) {
        const room = await addRoom(janus, receivers, adminKey, clip, rooms.length + 1);
        rooms.push(room);
        await flowing(receivers, room, 30000);
      }
    } catch (e) {
      result.steps.push({ rooms: target, failed: String(e.message).slice(0, 500) });
      log(`${target} rooms: a room did not come up: ${e.message}`);
      break;
    }
    await sleep(3000);
    // The rate the chain delivers unloaded (ffmpeg's -re pacing is a little over the clip's rate).
    const first = result.steps[0];
    const ref = { video: Math.max(CLIP.fps, first?.videoFps.median ?? 0), audio: Math.max(CLIP.audioFps, first?.audioFps.median ?? 0) };
    let m = await measure(receivers, rooms, ref);
    if (!m.holds) {
      log(`${target} rooms: frames drop in the first window (video p5 ${m.videoFps.p5} fps, loss ${m.loss}); measuring again`);
      m = { ...(await measure(receivers, rooms, ref)), firstWindow: m };
    }
    result.steps.push({ rooms: target, ...m });
    log(`${target} rooms: video ${m.videoFps.median} fps median / ${m.videoFps.p5} p5 (${m.videoFps.streams} streams), audio ${m.audioFps.p5} p5, `
      + `${m.packetsPerSecond} pkt/s in, loss ${(m.loss * 100).toFixed(2)}% (socket drops: receivers ${m.socketDrops.sink}, Janus ${m.socketDrops.janus}, others ${m.socketDrops.others}, kernel backlog ${m.socketDrops.backlog}); cores: Janus ${m.cpu.janus} (busiest thread ${m.cpu.janusBusiestThread}), sink ${m.cpu.sink}, Chromium renderers ${m.cpu.chromiumRenderers}, `
      + `other ${m.cpu.chromiumOther}, ffmpeg ${m.cpu.ffmpeg}, node ${m.cpu.node}, machine ${m.cpu.machine}; load ${m.loadavg}${m.holds ? '' : ' → frames drop'}`);
    if (!m.holds) {
      // Janus' own words about it (warnings and errors; debug level 3).
      result.janusLogTail = janusProc.log().replace(/\x1b\[[0-9;]*m/g, '').split('\n').filter((l) => /warn|err/i.test(l)).slice(-15).join('\n');
      break;
    }
  }
} finally {
  await cleanup();
}
result.loadavgEnd = loadavg();
const held = result.steps.filter((s) => s.holds);
result.roomsHeld = held.length ? held[held.length - 1].rooms : 0;
result.dropAt = result.steps.find((s) => !s.holds)?.rooms ?? null;
const top = held[held.length - 1];
if (top) result.janusCoresPerRoom = round(top.cpu.janus / top.rooms);
const text = JSON.stringify(result, null, 2);
if (OUT) writeFileSync(OUT, text); else console.log(text);
