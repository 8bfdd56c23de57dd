// The npm package through a bundler: `import { RTCRoom } from 'rtcroom'`
// resolved by esbuild from node_modules (the package's exports map), bundled
// as ESM, served with its wasm next to the bundle, and run in Chromium:
// the class constructs, validates input with its error codes, and logs in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startServer, launch, ROOT } from './harness.mjs';

test('the package works through a bundler', { timeout: 60000 }, async () => {
  const app = mkdtempSync(pathJoin(tmpdir(), 'rtcroom-bundle-'));
  mkdirSync(pathJoin(app, 'node_modules'));
  symlinkSync(pathJoin(ROOT, 'www', 'pkg'), pathJoin(app, 'node_modules', 'rtcroom'));
  writeFileSync(pathJoin(app, 'main.js'), `
    import { RTCRoom } from 'rtcroom';
    window.result = (async () => {
      const room = new RTCRoom({ debug: false });
      const bad = await room.enterRoom({ roomID: '' }).catch((e) => e.code);
      const info = await (await fetch('/weapp/utils/get_login_info?userID=bundled')).json();
      const me = await room.login({ serverDomain: location.origin + '/weapp/rtc_room', sdkAppID: info.sdkAppID,
        accType: info.accType, userID: info.userID, userSig: info.userSig });
      return { bad, me: me.userID, loggedIn: room.isLoggedIn };
    })();
  `);
  const out = pathJoin(app, 'dist');
  const r = spawnSync(pathJoin(ROOT, 'node_modules', '.bin', 'esbuild'),
    [pathJoin(app, 'main.js'), '--bundle', '--format=esm', `--outdir=${out}`, '--log-level=warning'], { cwd: app, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  copyFileSync(pathJoin(ROOT, 'www', 'pkg', 'rtcroom_bg.wasm'), pathJoin(out, 'rtcroom_bg.wasm'));
  writeFileSync(pathJoin(out, 'index.html'), '<!doctype html><script type="module" src="main.js"></script>');

  const server = await startServer({ staticDir: out });
  const browser = await launch();
  try {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${server.base}/`);
    // The bundle's top-level await (wasm init) can finish after the load event.
    await page.waitForFunction(() => window.result !== undefined, null, { timeout: 15000 });
    const result = await page.evaluate(() => window.result);
    assert.deepEqual(result, { bad: -1012, me: 'bundled', loggedIn: true });
  } finally {
    await browser.close();
    server.stop();
  }
});
