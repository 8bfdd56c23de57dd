// Helpers of the SFU tests and benchmark: the veth pair Janus needs inside a
// loopback-only namespace, a Janus of ours (scripts/janus-server), CPU time of
// this process's children, and waiting until pages play their remote videos
// (tests/e2e/sfu_page.html).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import { join as pathJoin } from 'node:path';
import { ROOT, startServer } from './harness.mjs';

/** Adds the veth pair when missing; returns a function that removes what it added. */
export function ensureVeth() {
  const links = execFileSync('ip', ['-o', 'link', 'show']).toString().split('\n').filter(Boolean)
    .map((l) => l.split(':')[1].trim().split('@')[0]);
  const foreign = links.filter((l) => !['lo', 'rtc0', 'rtc1'].includes(l));
  if (foreign.length) {
    throw new Error(`not in a loopback-only network namespace (interfaces ${foreign.join(', ')}); run through scripts/test-e2e`);
  }
  if (links.includes('rtc0')) return () => {};
  for (const args of [
    ['link', 'add', 'rtc0', 'type', 'veth', 'peer', 'name', 'rtc1'],
    ['addr', 'add', '10.77.0.1/24', 'dev', 'rtc0'],
    ['link', 'set', 'rtc0', 'up'],
    ['link', 'set', 'rtc1', 'up'],
  ]) execFileSync('ip', args);
  // The other e2e files share the namespace: leave it as it was.
  return () => execFileSync('ip', ['link', 'del', 'rtc0']);
}

export function freePort() {
  return 20000 + Math.floor(Math.random() * 20000);
}

async function waitListening(port, proc, log, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`janus exited ${proc.exitCode}: ${log()}`);
    const ok = await new Promise((r) => {
      const c = createConnection({ host: '127.0.0.1', port }, () => { c.end(); r(true); });
      c.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`janus did not listen on ${port}: ${log()}`);
}

export function startJanus({ port, apiSecret, adminKey, runDir }) {
  let out = '';
  const proc = spawn(pathJoin(ROOT, 'scripts', 'janus-server'), [], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env, JANUS_WS_PORT: String(port), JANUS_API_SECRET: apiSecret, JANUS_ADMIN_KEY: adminKey,
      JANUS_ICE_ENFORCE: 'rtc0', JANUS_RTP_PORTS: '40000-40999', JANUS_RUN_DIR: runDir,
    },
  });
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const log = () => out.slice(-3000);
  return { proc, log, ready: waitListening(port, proc, log), stop: () => { proc.kill('SIGKILL'); } };
}

/**
 * This process's descendants with their CPU seconds (user + system) so far:
 * pid → {name, seconds, type} (`type`: Chromium's --type=… of the process, e.g.
 * 'renderer' — one per page —, 'gpu-process', 'utility'; '' for its browser process and the others).
 */
export function ownProcesses() {
  const procs = new Map();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(pid), { name, ppid: Number(f[1]), seconds: (Number(f[11]) + Number(f[12])) / 100 });
    } catch { /* gone */ }
  }
  const mine = (pid) => { for (let p = pid, n = 0; p > 1 && n < 64; p = procs.get(p)?.ppid ?? 0, n++) if (p === process.pid) return true; return false; };
  const out = new Map();
  for (const [pid, p] of procs) {
    if (pid === process.pid || !mine(pid)) continue;
    let type = '';
    if (/chrom/i.test(p.name)) {
      try { type = (readFileSync(`/proc/${pid}/cmdline`, 'utf8').match(/--type=([\w-]+)/) ?? ['', ''])[1]; } catch { /* gone */ }
    }
    out.set(pid, { name: p.name, seconds: p.seconds, type });
  }
  return out;
}

/** CPU seconds used so far by this test's descendant processes, by name (chromium, janus, rtcroom-server). */
export function cpuSeconds() {
  const out = { chromium: 0, janus: 0, server: 0 };
  for (const p of ownProcesses().values()) {
    if (/chrom/i.test(p.name)) out.chromium += p.seconds;
    else if (/janus/.test(p.name)) out.janus += p.seconds;
    else if (/rtcroom/.test(p.name)) out.server += p.seconds;
  }
  return out;
}

export async function allPlaying(pages, want, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = [];
  while (Date.now() < deadline) {
    last = await Promise.all(pages.map((p) => p.page.evaluate(() => window.sfu.playing())));
    if (last.every((l, i) => l.length === want && !l.includes(pages[i].userID))) return last;
    await new Promise((r) => setTimeout(r, 300));
  }
  const errors = await Promise.all(pages.map((p) => p.page.evaluate(() => window.sfu.state.errors).catch((e) => [String(e)])));
  const states = await Promise.all(pages.map((p) => p.page.evaluate(() => ({ pub: window.sfu.state.pub?.connectionState, sub: window.sfu.state.sub?.connectionState })).catch(() => ({}))));
  throw new Error(`not every page plays ${want} remote videos: ${JSON.stringify(last)}; page errors ${JSON.stringify(errors)}; connections ${JSON.stringify(states)}`);
}

/** Janus, RoomService (bridge configured, serving `staticDir`) and nginx-rtmp in front of it: the
 * stack of the bridge tests. */
export async function startBridgeStack({ staticDir }) {
  const removeVeth = ensureVeth();
  const janusPort = freePort();
  const rtmpPort = freePort();
  const apiSecret = randomBytes(12).toString('hex');
  const adminKey = randomBytes(12).toString('hex');
  const janusOptions = { port: janusPort, apiSecret, adminKey, runDir: mkdtempSync(pathJoin(tmpdir(), 'rtcroom-janus-bridge-')) };
  const janus = startJanus(janusOptions);
  await janus.ready;
  const serverOptions = {
    staticDir,
    rustLog: 'warn,rtcroom_server::media=info,rtcroom_server::ffmpeg=info',
    extraToml: ['[media]', `janus_url = "ws://127.0.0.1:${janusPort}"`, `api_secret = "${apiSecret}"`, `admin_key = "${adminKey}"`,
      'sfu_threshold = 4', 'max_members_sfu = 16', 'ffmpeg = "ffmpeg"',
      '[live]', `push_host = "127.0.0.1:${rtmpPort}"`, `play_host = "127.0.0.1:${rtmpPort}"`].join('\n'),
  };
  const server = await startServer(serverOptions);
  let nginxLog = '';
  const nginx = spawn(pathJoin(ROOT, 'scripts', 'rtmp-server'), [], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RTMP_PORT: String(rtmpPort), ROOMSERVICE_URL: server.base, RTMP_RUN_DIR: mkdtempSync(pathJoin(tmpdir(), 'rtcroom-rtmp-bridge-')) },
  });
  nginx.stderr.on('data', (d) => { nginxLog += d; });
  await new Promise((r) => setTimeout(r, 500)); // nginx up
  return { janus, janusOptions, server, serverOptions, nginx, nginxLog: () => nginxLog, rtmpPort, removeVeth };
}

/** Bounded benches: past `secs`, `cleanup()` stops what the bench started and the process exits 1. */
export function exitAtDeadline(secs, cleanup, log) {
  setTimeout(async () => {
    log(`deadline of ${secs} s passed: stopping`);
    await cleanup();
    process.exit(1);
  }, secs * 1000).unref();
}
