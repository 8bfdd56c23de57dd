// Generate UserSigs with Tencent's official npm package `tls-sig-api-v2`
// (and v1 sigs the way the 2018 Node RoomService `im_mgr.getSig` made them).
// stdin: JSON array of requests; stdout: JSON array of {sig}.
// The package reads the clock via Date.now(), so it is pinned per request.
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const zlib = require('zlib');
const { Api } = require('tls-sig-api-v2');

const tencentB64 = (b64) => b64.replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');

function genV1(r) {
  // Same layout as the 2018 RoomService: every value a string, DER sig in standard base64.
  const doc = {
    'TLS.appid_at_3rd': String(r.app),
    'TLS.account_type': String(r.acctype),
    'TLS.identifier': r.id,
    'TLS.sdk_appid': String(r.app),
    'TLS.time': String(r.now),
    'TLS.expire_after': String(r.expire),
  };
  const content = ['TLS.appid_at_3rd', 'TLS.account_type', 'TLS.identifier', 'TLS.sdk_appid',
    'TLS.time', 'TLS.expire_after'].map((k) => k + ':' + doc[k] + '\n').join('');
  const signer = crypto.createSign('sha256');
  signer.update(content, 'utf8');
  doc['TLS.sig'] = signer.sign(fs.readFileSync(r.private_key_path, 'utf8'), 'base64');
  return tencentB64(zlib.deflateSync(Buffer.from(JSON.stringify(doc))).toString('base64'));
}

const reqs = JSON.parse(fs.readFileSync(0, 'utf8'));
const out = reqs.map((r) => {
  Date.now = () => r.now * 1000;
  const api = new Api(r.app, r.key);
  switch (r.kind) {
    case 'user': return { sig: api.genUserSig(r.id, r.expire) };
    case 'privmap': return { sig: api.genPrivateMapKey(r.id, r.expire, r.roomid, r.priv) };
    case 'privmap_str': return { sig: api.genPrivateMapKeyWithStringRoomID(r.id, r.expire, r.roomstr, r.priv) };
    case 'userbuf': return { sig: api.genSig(r.id, r.expire, Buffer.from(r.userbuf_b64, 'base64')) };
    case 'v1': return { sig: genV1(r) };
    default: throw new Error('unknown kind ' + r.kind);
  }
});
process.stdout.write(JSON.stringify(out));
