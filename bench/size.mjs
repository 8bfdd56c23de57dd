// Client size on the wire: gzip (level 9) and brotli (quality 11) of each file
// a page loads, compressed one by one as a server would send them, summed.
// Ours: www/pkg after scripts/build (wasm + wasm-bindgen glue + our JS glue).
// Peers: the minified browser bundle each npm package ships (file named).
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { join as pathJoin, relative, resolve } from 'node:path';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const NM = pathJoin(ROOT, 'bench', 'node_modules');
const version = (pkg) => JSON.parse(readFileSync(pathJoin(NM, pkg, 'package.json'), 'utf8')).version;

const sets = [
  { name: 'rtcroom', version: JSON.parse(readFileSync(pathJoin(ROOT, 'www', 'pkg', 'package.json'), 'utf8')).version,
    files: ['rtcroom_bg.wasm', 'rtcroom.js', 'index.js', 'media.js'].map((f) => pathJoin(ROOT, 'www', 'pkg', f)) },
  { name: 'peerjs', version: version('peerjs'), files: [pathJoin(NM, 'peerjs', 'dist', 'peerjs.min.js')] },
  { name: 'simple-peer', version: version('simple-peer'), files: [pathJoin(NM, 'simple-peer', 'simplepeer.min.js')] },
  { name: 'livekit-client', version: version('livekit-client'), files: [pathJoin(NM, 'livekit-client', 'dist', 'livekit-client.umd.js')] },
];

const result = { scenario: 'size', clients: [] };
for (const set of sets) {
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
const text = JSON.stringify(result, null, 2);
if (process.argv[2]) writeFileSync(process.argv[2], text); else console.log(text);
