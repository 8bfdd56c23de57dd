// Minimal UTF-8 TextEncoder / TextDecoder for the wasm-bindgen glue: the
// mini-program runtime has neither. Only what the glue calls is here:
// `new TextEncoder().encode(str)` and `new TextDecoder(label, opts).decode(bytes)`
// (the glue adds `encodeInto` itself when it is missing). Invalid input
// decodes to U+FFFD; lone surrogates encode as U+FFFD, as the standard says.

function TextEncoder() {}

TextEncoder.prototype.encoding = 'utf-8'

TextEncoder.prototype.encode = function encode(str) {
  const s = str === undefined ? '' : String(str)
  const out = new Uint8Array(s.length * 3)
  let n = 0
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00)
        i++
      } else {
        c = 0xfffd
      }
    }
    if (c < 0x80) {
      out[n++] = c
    } else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6)
      out[n++] = 0x80 | (c & 0x3f)
    } else if (c < 0x10000) {
      out[n++] = 0xe0 | (c >> 12)
      out[n++] = 0x80 | ((c >> 6) & 0x3f)
      out[n++] = 0x80 | (c & 0x3f)
    } else {
      out[n++] = 0xf0 | (c >> 18)
      out[n++] = 0x80 | ((c >> 12) & 0x3f)
      out[n++] = 0x80 | ((c >> 6) & 0x3f)
      out[n++] = 0x80 | (c & 0x3f)
    }
  }
  return out.slice(0, n)
}

function TextDecoder(label) {
  if (label !== undefined && !/^utf-?8$/i.test(String(label))) {
    throw new RangeError(`text-codec: only UTF-8 is supported, not ${label}`)
  }
}

TextDecoder.prototype.encoding = 'utf-8'

TextDecoder.prototype.decode = function decode(input) {
  if (input === undefined) return ''
  const b = input instanceof Uint8Array ? input
    : ArrayBuffer.isView(input) ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
      : new Uint8Array(input)
  const units = []
  let out = ''
  const cont = i => i < b.length && (b[i] & 0xc0) === 0x80
  for (let i = 0; i < b.length;) {
    const x = b[i]
    let c = 0xfffd
    let len = 1
    if (x < 0x80) {
      c = x
    } else if (x >= 0xc2 && x <= 0xdf && cont(i + 1)) {
      c = ((x & 0x1f) << 6) | (b[i + 1] & 0x3f)
      len = 2
    } else if (x >= 0xe0 && x <= 0xef && cont(i + 1)) {
      const lo = x === 0xe0 ? 0xa0 : 0x80
      const hi = x === 0xed ? 0x9f : 0xbf
      if (b[i + 1] >= lo && b[i + 1] <= hi) {
        if (cont(i + 2)) {
          c = ((x & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f)
          len = 3
        } else {
          len = 2
        }
      }
    } else if (x >= 0xf0 && x <= 0xf4 && cont(i + 1)) {
      const lo = x === 0xf0 ? 0x90 : 0x80
      const hi = x === 0xf4 ? 0x8f : 0xbf
      if (b[i + 1] >= lo && b[i + 1] <= hi) {
        if (cont(i + 2) && cont(i + 3)) {
          c = ((x & 0x07) << 18) | ((b[i + 1] & 0x3f) << 12) | ((b[i + 2] & 0x3f) << 6) | (b[i + 3] & 0x3f)
          len = 4
        } else {
          len = cont(i + 2) ? 3 : 2
        }
      }
    }
    i += len
    if (c >= 0x10000) {
      c -= 0x10000
      units.push(0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff))
    } else {
      units.push(c)
    }
    if (units.length >= 8192) {
      out += String.fromCharCode.apply(null, units)
      units.length = 0
    }
  }
  return out + String.fromCharCode.apply(null, units)
}

module.exports = { TextEncoder, TextDecoder }
