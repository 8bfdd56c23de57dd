// Client size on the wire: gzip (level 9) and brotli (quality 11) of each file
// a page loads, compressed one by one as a server would send them, summed.
// Ours: www/pkg after scripts/build (wasm + wasm-bindgen glue + our JS glue),
// and the mini-program's core after scripts/build-miniprogram (the same crate built with its own transport,
// its bound glue and the adapter JS that runs it, shipped unminified).
// `target` checks issue 15's aim (docs/client-size.md): the browser's total
// at most 80 KB gzip and the mini-program's within 10% of it; a miss is
// reported (and said on stderr), not a failure.
// Peers: the minified browser bundle each npm package ships (file named).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { join as pathJoin, relative, resolve } from 'node:path';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const NM = pathJoin(ROOT, 'bench', 'node_modules');
const version = (pkg) => {
  const manifest = pathJoin(NM, pkg, 'package.json');
  return existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')).version : null;
};

const sets = [
  { name: 'rtcroom', version: JSON.parse(readFileSync(pathJoin(ROOT, 'www', 'pkg', 'package.json'), 'utf8')).version,
    files: ['rtcroom_bg.wasm', 'rtcroom.js', 'index.js', 'media.js'].map((f) => pathJoin(ROOT, 'www', 'pkg', f)) },
  { name: 'rtcroom-miniprogram', version: JSON.parse(readFileSync(pathJoin(ROOT, 'www', 'pkg', 'package.json'), 'utf8')).version,
    files: ['lib/rtcroom_bg.wasm', 'lib/rtcroom_bg.js', 'rtcroom.js', 'wasm.js', 'text-codec.js']
      .map((f) => pathJoin(ROOT, 'miniprogram-adapter', 'rtc-room', f)), optional: true },
  { name: 'peerjs', version: version('peerjs'), files: [pathJoin(NM, 'peerjs', 'dist', 'peerjs.min.js')], optional: true },
  { name: 'simple-peer', version: version('simple-peer'), files: [pathJoin(NM, 'simple-peer', 'simplepeer.min.js')], optional: true },
  { name: 'livekit-client', version: version('livekit-client'), files: [pathJoin(NM, 'livekit-client', 'dist', 'livekit-client.umd.js')], optional: true },
];

const result = { scenario: 'size', clients: [] };
for (const set of sets) {
  if (set.optional && !set.files.every((f) => existsSync(f))) continue;
  let raw = 0, gz = 0, br = 0;
  const files = [];
  for (const f of set.files) {
    const bytes = readFileSync(f);
    const g = gzipSync(bytes, { level: 9 }).length;
    const b = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } }).length;
    raw += bytes.length; gz += g; br += b;
    files.push({ file: relative(ROOT, f), raw: bytes.length, gzip: g, brotli: b });
  }
  result.clients.push({ name: set.name, version: set.version, raw, gzip: gz, brotli: br, files });
}
const GZIP_LIMIT = 80_000;
const browser = result.clients.find((c) => c.name === 'rtcroom');
const mini = result.clients.find((c) => c.name === 'rtcroom-miniprogram');
result.target = {
  browser_gzip_limit: GZIP_LIMIT,
  browser_gzip: browser.gzip,
  browser_ok: browser.gzip <= GZIP_LIMIT,
  miniprogram_gzip: mini ? mini.gzip : null,
  miniprogram_within_10pct: mini ? Math.abs(mini.gzip - browser.gzip) <= browser.gzip / 10 : null,
};
if (!result.target.browser_ok || result.target.miniprogram_within_10pct === false) {
  console.error(`size target missed: ${JSON.stringify(result.target)}`);
}
const text = JSON.stringify(result, null, 2);
if (process.argv[2]) writeFileSync(process.argv[2], text); else console.log(text);
