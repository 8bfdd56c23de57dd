// End-to-end harness: a real RoomService (debug mode, serving www/) and real
// Chromium pages (playwright-core driving /usr/bin/chromium), one browser
// context per participant. Runs inside a loopback-only network namespace
// (scripts/test-e2e), so ICE only ever sees 127.0.0.1.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = resolve(new URL('../..', import.meta.url).pathname);
export const OUT = pathJoin(ROOT, 'test-results', 'e2e');
mkdirSync(OUT, { recursive: true });

const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-background-networking',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

/** Starts rtcroom-server (the debug build unless `bin` names another) on an ephemeral port; resolves with its base URL. `extraToml` is appended to its configuration. */
export async function startServer({ heartbeatTimeoutSecs = 20, socketGraceMs = 10000, bin = pathJoin(ROOT, 'target', 'debug', 'rtcroom-server'), staticDir = pathJoin(ROOT, 'www'), extraToml = '', rustLog = 'warn', listen = '127.0.0.1:0' } = {}) {
  const dir = mkdtempSync(pathJoin(tmpdir(), 'rtcroom-e2e-'));
  const config = pathJoin(dir, 'rtcroom.toml');
  writeFileSync(config, [
    `listen = "${listen}"`,
    'debug = true',
    `static_dir = ${JSON.stringify(staticDir)}`,
    '[heartbeat]',
    `timeout_secs = ${heartbeatTimeoutSecs}`,
    `socket_grace_ms = ${socketGraceMs}`,
    'check_interval_ms = 250',
    '[limits]',
    'max_members = 8',
    extraToml,
    '',
  ].join('\n'));
  const proc = spawn(bin, ['--config', config], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: rustLog } });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const base = await new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`server did not start: ${stderr}`)), 10000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/RoomService on (http:\/\/[0-9.:]+)\//);
      if (m) { clearTimeout(timer); ok(m[1]); }
    });
    proc.on('exit', (code) => fail(new Error(`server exited ${code}: ${stderr}`)));
  });
  return { base, proc, log: () => stderr, stop: () => proc.kill('SIGTERM') };
}

/** Headless Chromium with the fake devices; `extraArgs` are added to its flags (e.g. a fake-camera file). */
export async function launch(extraArgs = []) {
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: [...FLAGS, ...extraArgs] });
}

/** A participant: own browser context, the demo page, logged in with a debug identity. */
export async function join(browser, base, userID, userName = userID, { initScript } = {}) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
  if (initScript) await context.addInitScript({ path: initScript });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${base}/`);
  // The load event does not wait for the demo module's top-level await (the
  // wasm start-up): the button is enabled once its handler is set.
  await page.waitForSelector('#debug-login:not([disabled])', { timeout: 15000 });
  await page.fill('#user-id', userID);
  await page.fill('#user-name', userName);
  await page.click('#debug-login');
  await page.waitForSelector('#lobby:not([hidden])', { timeout: 15000 }).catch(async (e) => {
    const shown = await page.textContent('#error').catch(() => '');
    throw new Error(`${userID}: no lobby after login (error line: ${JSON.stringify(shown)}; page errors: ${JSON.stringify(errors)}): ${e.message}`);
  });
  await page.waitForSelector('#conn[data-state="connected"]');
  return { userID, userName, context, page, errors };
}

export async function createRoom(p, name) {
  await p.page.fill('#room-name', name);
  await p.page.click('#create button[type=submit]');
  await p.page.waitForSelector('#room:not([hidden])', { timeout: 15000 });
}

/** Finds the room by name in the list (refreshing) and enters it. */
export async function enterRoom(p, name) {
  const item = p.page.locator('#rooms li', { hasText: name });
  for (let i = 0; i < 50 && (await item.count()) === 0; i++) {
    await p.page.click('#refresh');
    await p.page.waitForTimeout(200);
  }
  await item.locator('button').click();
  await p.page.waitForSelector('#room:not([hidden])', { timeout: 15000 });
}

/** Resolves once the remote video of `userID` shows decoded frames that advance. */
export async function waitPlaying(p, userID, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await p.page.evaluate(async (uid) => {
      const v = document.querySelector(`.tile[data-user="${CSS.escape(uid)}"] video`);
      if (!v || v.videoWidth === 0) return false;
      const t0 = v.currentTime;
      await new Promise((r) => setTimeout(r, 300));
      return v.currentTime > t0;
    }, userID);
    if (ok) return;
    await p.page.waitForTimeout(200);
  }
  throw new Error(`${p.userID}: remote video of ${userID} is not playing`);
}

/** Number of remote tiles whose video plays. */
export async function playingCount(p) {
  return p.page.evaluate(async () => {
    const vids = [...document.querySelectorAll('.tile.remote video')];
    const t0 = vids.map((v) => v.currentTime);
    await new Promise((r) => setTimeout(r, 400));
    return vids.filter((v, i) => v.videoWidth > 0 && v.currentTime > t0[i]).length;
  });
}

export async function sendText(p, text) {
  await p.page.fill('#chat-text', text);
  await p.page.click('#chat button[type=submit]');
}

/** Texts of received messages of `kind` ('text' | 'custom') from `from`. */
export async function received(p, kind, from) {
  return p.page.$$eval(`#messages li.${kind}:not(.mine)[data-from="${from}"]`, (els) => els.map((e) => e.lastChild.textContent));
}

export async function waitReceived(p, kind, from, n, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  let got = [];
  while (Date.now() < deadline) {
    got = await received(p, kind, from);
    if (got.length >= n) return got;
    await p.page.waitForTimeout(100);
  }
  throw new Error(`${p.userID}: expected ${n} ${kind} messages from ${from}, got ${JSON.stringify(got)}`);
}

/** Waits until every page plays `want` remote videos; returns the ms it took (the pages' last log lines if not). */
export async function allPlay(people, want, timeoutMs) {
  const t0 = Date.now();
  const deadline = t0 + timeoutMs;
  let counts = [];
  while (Date.now() < deadline) {
    counts = await Promise.all(people.map((p) => playingCount(p)));
    if (counts.every((n) => n === want)) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 300));
  }
  const logs = await Promise.all(people.map((p) => p.page.evaluate(() => window.demo.log.slice(-15).map((l) => l.join(' '))).catch(() => [])));
  throw new Error(`not every page plays ${want} remote videos: ${JSON.stringify(counts)}; last logs ${JSON.stringify(logs)}`);
}

/** Polls `fn` every 250 ms until it returns `true`; throws with its last other value after `timeoutMs`. */
export async function until(what, fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last === true) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: ${JSON.stringify(last)}`);
}
