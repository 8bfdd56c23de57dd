// The minimal UTF-8 TextEncoder/TextDecoder the wasm glue gets in the
// mini-program (which has neither), checked against Node's own.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')
const codec = require(path.resolve(__dirname, '../../../miniprogram-adapter/rtc-room/text-codec.js'))

const native = { enc: new globalThis.TextEncoder(), dec: new globalThis.TextDecoder('utf-8', { ignoreBOM: true }) }
const ours = { enc: new codec.TextEncoder(), dec: new codec.TextDecoder('utf-8', { ignoreBOM: true, fatal: true }) }

test('encodes and decodes like the platform, ASCII to astral planes', () => {
  const samples = ['', 'abc', 'roomID "x" \\ \n', 'é ß ø', '你好，世界', '😀🎉 mixed ascii 𝄞', '\u0000\u007f\u0080\u07ff\u0800\uffff',
    'x'.repeat(20000) + '漢'.repeat(10000)]
  for (const s of samples) {
    const bytes = ours.enc.encode(s)
    assert.deepEqual(bytes, native.enc.encode(s), JSON.stringify(s.slice(0, 20)))
    assert.equal(ours.dec.decode(bytes), s)
  }
  assert.equal(ours.dec.decode(), '', 'the glue calls decode() once with no argument')
})

test('random strings round-trip and match the platform', () => {
  let seed = 12345
  const rnd = n => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n }
  for (let i = 0; i < 300; i++) {
    let s = ''
    const len = rnd(64)
    for (let j = 0; j < len; j++) {
      const kind = rnd(4)
      const cp = kind === 0 ? rnd(0x80) : kind === 1 ? 0x80 + rnd(0x780) : kind === 2 ? 0xe000 + rnd(0x2000) : 0x10000 + rnd(0xfffff)
      s += String.fromCodePoint(cp)
    }
    const bytes = ours.enc.encode(s)
    assert.deepEqual(bytes, native.enc.encode(s))
    assert.equal(ours.dec.decode(bytes), s)
    assert.equal(ours.dec.decode(bytes.subarray(1)), native.dec.decode(bytes.subarray(1)), 'a cut start decodes alike')
  }
})

test('invalid input becomes U+FFFD as the platform decodes it', () => {
  const cases = [[0xff], [0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe4, 0xbd],
    [0xf0, 0x9f, 0x98], [0x61, 0x80, 0x62], [0xf0, 0x9f, 0x41]]
  for (const c of cases) {
    const b = Uint8Array.from(c)
    assert.equal(ours.dec.decode(b), native.dec.decode(b), c.map(x => x.toString(16)).join(' '))
  }
  assert.deepEqual(ours.enc.encode('a\ud800b'), native.enc.encode('a\ud800b'), 'a lone surrogate')
})

test('decodes views into a larger buffer, as the glue passes wasm memory', () => {
  const mem = new Uint8Array(64)
  const bytes = native.enc.encode('房间')
  mem.set(bytes, 10)
  assert.equal(ours.dec.decode(mem.subarray(10, 10 + bytes.length)), '房间')
  assert.throws(() => new codec.TextDecoder('utf-16le'), RangeError)
})
