// Shortens the names the wasm imports from wasm-bindgen's glue, in the wasm
// and in the glue alike: `__wbg_addEventListener_3acb0aad4483804c` becomes
// `$1f`. wasm-bindgen gives every import a 16-digit hash that gzip cannot
// squeeze, written twice (the wasm's import section and the glue's import
// object); ~110 imports made that ~1.5 KB gzip of the client (docs/client-size.md).
//
//   node scripts/short-imports.mjs <wasm> <glue.js>
//
// Both files are rewritten in place. Every import name must occur in the glue
// exactly once as a whole word (the import object's key, or the bundler
// target's `export function`), and no new name may occur there already:
// anything else means wasm-bindgen changed its output, and the build fails
// rather than ship a module whose imports do not resolve.
import { readFileSync, writeFileSync } from 'node:fs';
import { leb, lebBytes } from './leb128.mjs';

const [wasmPath, jsPath] = process.argv.slice(2);
if (!wasmPath || !jsPath) throw new Error('usage: short-imports.mjs <wasm> <glue.js>');
const wasm = readFileSync(wasmPath);
let js = readFileSync(jsPath, 'utf8');


const name = (bytes) => Buffer.concat([lebBytes(bytes.length), bytes]);
const words = (text, word) => text.split(new RegExp(`(?<![\\w$])${word.replace(/\$/g, '\\$')}(?![\\w$])`)).length - 1;

/** An import's description after its names: how many bytes it takes from `pos`. */
function descEnd(buf, pos) {
  const kind = buf[pos++];
  if (kind === 0) return leb(buf, pos)[1]; // function: type index
  if (kind === 1) { pos++; const [flags, p] = leb(buf, pos); pos = leb(buf, p)[1]; return flags & 1 ? leb(buf, pos)[1] : pos; } // table
  if (kind === 2) { const [flags, p] = leb(buf, pos); pos = leb(buf, p)[1]; return flags & 1 ? leb(buf, pos)[1] : pos; } // memory
  if (kind === 3) return pos + 2; // global: type, mutability
  throw new Error(`unknown import kind ${kind}`);
}

if (wasm.readUInt32LE(0) !== 0x6d736100) throw new Error(`${wasmPath} is not a wasm module`);
const parts = [wasm.subarray(0, 8)];
let pos = 8, renamed = 0;
while (pos < wasm.length) {
  const id = wasm[pos];
  const [size, body] = leb(wasm, pos + 1);
  const end = body + size;
  if (id !== 2) {
    parts.push(wasm.subarray(pos, end));
    pos = end;
    continue;
  }
  let [count, p] = leb(wasm, body);
  const entries = [lebBytes(count)];
  for (let i = 0; i < count; i++) {
    const [mlen, m0] = leb(wasm, p);
    const module = wasm.subarray(m0, m0 + mlen);
    const [flen, f0] = leb(wasm, m0 + mlen);
    const field = wasm.subarray(f0, f0 + flen).toString('utf8');
    const dEnd = descEnd(wasm, f0 + flen);
    let short = field;
    if (/^__wbg_|^__wbindgen_/.test(field)) {
      short = `$${(renamed++).toString(36)}`;
      if (words(js, field) !== 1) throw new Error(`${field}: ${words(js, field)} occurrences in ${jsPath}, expected 1`);
      if (words(js, short) !== 0) throw new Error(`${short} already occurs in ${jsPath}`);
      js = js.replace(new RegExp(`(?<![\\w$])${field}(?![\\w$])`), () => short);
    }
    entries.push(name(module), name(Buffer.from(short, 'utf8')), wasm.subarray(f0 + flen, dEnd));
    p = dEnd;
  }
  if (p !== end) throw new Error('import section not read to its end');
  const section = Buffer.concat(entries);
  parts.push(Buffer.from([2]), lebBytes(section.length), section);
  pos = end;
}
writeFileSync(wasmPath, Buffer.concat(parts));
writeFileSync(jsPath, js);
console.log(`short-imports: ${renamed} imports renamed in ${wasmPath} and ${jsPath}`);
