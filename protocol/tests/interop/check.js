// Check UserSigs made by rtcroom against Tencent's official npm package.
// The package has no verifier, so: decode with zlib + JSON here, recompute the
// HMAC with the package's own `_hmacsha256`, and regenerate the same sig with
// the package (clock pinned to TLS.time) to compare the decoded documents.
// v1 sigs are checked with crypto.createVerify like the 2018 RoomService.
// stdin: JSON array of {sig, app, key?, id, expire, now, userbuf_b64?, public_key_path?}
// stdout: JSON array of {hmac_ok|ecdsa_ok, same_doc, doc}.
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const zlib = require('zlib');
const assert = require('assert');
const { Api } = require('tls-sig-api-v2');

function decode(sig) {
  const b64 = sig.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '=');
  return JSON.parse(zlib.inflateSync(Buffer.from(b64, 'base64')).toString('utf8'));
}

function sameDoc(a, b) {
  try { assert.deepStrictEqual(a, b); return true; } catch (e) { return false; }
}

const reqs = JSON.parse(fs.readFileSync(0, 'utf8'));
const out = reqs.map((r) => {
  const doc = decode(r.sig);
  if (r.public_key_path) {
    const content = ['TLS.appid_at_3rd', 'TLS.account_type', 'TLS.identifier', 'TLS.sdk_appid',
      'TLS.time', 'TLS.expire_after'].map((k) => k + ':' + doc[k] + '\n').join('');
    const v = crypto.createVerify('sha256');
    v.update(content, 'utf8');
    const ecdsa_ok = v.verify(fs.readFileSync(r.public_key_path, 'utf8'), doc['TLS.sig'], 'base64');
    return { ecdsa_ok, doc };
  }
  const api = new Api(r.app, r.key);
  const userbuf = doc['TLS.userbuf'] === undefined ? null : doc['TLS.userbuf'];
  const hmac = api._hmacsha256(doc['TLS.identifier'], doc['TLS.time'], doc['TLS.expire'], userbuf);
  Date.now = () => r.now * 1000;
  const theirs = decode(api.genSig(r.id, r.expire,
    r.userbuf_b64 == null ? null : Buffer.from(r.userbuf_b64, 'base64')));
  return { hmac_ok: hmac === doc['TLS.sig'], same_doc: sameDoc(doc, theirs), doc };
});
process.stdout.write(JSON.stringify(out));
