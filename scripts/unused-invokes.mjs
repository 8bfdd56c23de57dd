// Empties the closure-invoke shims that nothing can call, before wasm-opt.
//
//   node scripts/unused-invokes.mjs <cargo.wasm> <bound.wasm> <out.wasm>
//
// wasm-bindgen's `describe` functions take the address of an invoke shim
// (`wasm_bindgen::convert::closures::invoke::<A.., R>`) for every closure
// signature they describe, ~40 of them (js-sys and web-sys types describe their
// typed callbacks too). wasm-bindgen runs the describes and drops them, but the
// shims stay in the function table, where no optimizer can prove them dead:
// ~3.3 KB of code before gzip that only JS could call, through an export. The
// glue exports the few it calls: `<bound.wasm>`, a first wasm-bindgen run on
// `<cargo.wasm>`, says which. Every other invoke shim in `<cargo.wasm>` gets
// the body `unreachable` (its table slot stays, so no index moves), and
// wasm-opt then drops what only those bodies reached and merges the stubs.
//
// Both modules must keep their name sections (cargo's and wasm-bindgen's
// defaults). The build fails if no shim, or no exported one, is found by
// name: that means wasm-bindgen or rustc changed their naming.
import { readFileSync, writeFileSync } from 'node:fs';
import { leb, lebBytes } from './leb128.mjs';

const [cargoPath, boundPath, outPath] = process.argv.slice(2);
if (!outPath) throw new Error('usage: unused-invokes.mjs <cargo.wasm> <bound.wasm> <out.wasm>');


/** A module's sections: [{ id, name (custom sections), start, body, end }]. */
function sections(buf, path) {
  if (buf.readUInt32LE(0) !== 0x6d736100) throw new Error(`${path} is not a wasm module`);
  const out = [];
  let pos = 8;
  while (pos < buf.length) {
    const id = buf[pos];
    const [size, body] = leb(buf, pos + 1);
    let name = null;
    if (id === 0) {
      const [len, p] = leb(buf, body);
      name = buf.subarray(p, p + len).toString('utf8');
    }
    out.push({ id, name, start: pos, body, end: body + size });
    pos = body + size;
  }
  return out;
}

/** The function names of a module's name section: Map(function index → name). */
function functionNames(buf, secs, path) {
  const sec = secs.find((s) => s.id === 0 && s.name === 'name');
  if (!sec) throw new Error(`${path} has no name section`);
  let [len, pos] = leb(buf, sec.body);
  pos += len;
  while (pos < sec.end) {
    const kind = buf[pos];
    const [size, body] = leb(buf, pos + 1);
    if (kind === 1) {
      const names = new Map();
      let [count, p] = leb(buf, body);
      for (let i = 0; i < count; i++) {
        const [index, q] = leb(buf, p);
        const [nlen, n0] = leb(buf, q);
        names.set(index, buf.subarray(n0, n0 + nlen).toString('utf8'));
        p = n0 + nlen;
      }
      return names;
    }
    pos = body + size;
  }
  throw new Error(`${path}: no function names`);
}

/** The names a module exports functions under. */
function exportedFunctions(buf, secs) {
  const sec = secs.find((s) => s.id === 7);
  const names = [];
  if (!sec) return names;
  let [count, p] = leb(buf, sec.body);
  for (let i = 0; i < count; i++) {
    const [len, n0] = leb(buf, p);
    const name = buf.subarray(n0, n0 + len).toString('utf8');
    const kind = buf[n0 + len];
    p = leb(buf, n0 + len + 1)[1];
    if (kind === 0) names.push(name);
  }
  return names;
}

/** How many functions a module imports (they come first in the index space). */
function importedFunctions(buf, secs) {
  const sec = secs.find((s) => s.id === 2);
  if (!sec) return 0;
  let [count, p] = leb(buf, sec.body);
  let funcs = 0;
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < 2; j++) {
      const [len, q] = leb(buf, p);
      p = q + len;
    }
    const kind = buf[p++];
    if (kind === 0) { funcs++; p = leb(buf, p)[1]; }
    else if (kind === 1) { p++; const [flags, q] = leb(buf, p); p = leb(buf, q)[1]; if (flags & 1) p = leb(buf, p)[1]; }
    else if (kind === 2) { const [flags, q] = leb(buf, p); p = leb(buf, q)[1]; if (flags & 1) p = leb(buf, p)[1]; }
    else if (kind === 3) p += 2;
    else throw new Error(`unknown import kind ${kind}`);
  }
  return funcs;
}

// The shim's hash, in cargo's (mangled) names and in wasm-bindgen's export names.
const CARGO_INVOKE = /^_ZN12wasm_bindgen7convert8closures1_6invoke17h([0-9a-f]{16})E$/;
const BOUND_INVOKE = /^wasm_bindgen__convert__closures_+invoke__h([0-9a-f]{16})$/;

const bound = readFileSync(boundPath);
const called = new Set();
for (const name of exportedFunctions(bound, sections(bound, boundPath))) {
  const m = BOUND_INVOKE.exec(name);
  if (m) called.add(m[1]);
}
if (called.size === 0) throw new Error(`${boundPath} exports no invoke shim by name`);

const wasm = readFileSync(cargoPath);
const secs = sections(wasm, cargoPath);
const imports = importedFunctions(wasm, secs);
const stub = new Set();
const found = new Set();
for (const [index, name] of functionNames(wasm, secs, cargoPath)) {
  const m = CARGO_INVOKE.exec(name);
  if (!m) continue;
  if (called.has(m[1])) found.add(m[1]);
  else stub.add(index - imports);
}
for (const hash of called) {
  if (!found.has(hash)) throw new Error(`exported invoke shim h${hash} not found in ${cargoPath}`);
}

const code = secs.find((s) => s.id === 10);
const [count, first] = leb(wasm, code.body);
// Body: no locals, `unreachable`, `end`.
const empty = Buffer.from([3, 0, 0x00, 0x0b]);
const bodies = [lebBytes(count)];
let pos = first;
for (let i = 0; i < count; i++) {
  const [size, body] = leb(wasm, pos);
  bodies.push(stub.has(i) ? empty : wasm.subarray(pos, body + size));
  pos = body + size;
}
const codeBody = Buffer.concat(bodies);
// DWARF (a build with debug info) addresses the code by offset: it goes, as wasm-opt's
// --strip-debug would drop it anyway.
const out = Buffer.concat([wasm.subarray(0, 8), ...secs.filter((s) => !(s.id === 0 && s.name.startsWith('.debug_'))).map((s) =>
  s === code ? Buffer.concat([Buffer.from([10]), lebBytes(codeBody.length), codeBody]) : wasm.subarray(s.start, s.end))]);

writeFileSync(outPath, out);
console.error(`unused-invokes: ${stub.size} invoke shims emptied, ${called.size} kept (called by the glue)`);
