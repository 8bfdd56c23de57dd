"""Generate (and re-check) UserSigs with Tencent's official PyPI package tls-sig-api-v2.

stdin: JSON array of requests {mode: "gen"|"check", app, key, id, expire, now, userbuf_b64?, sig?}
stdout: JSON array: "gen" -> {sig}; "check" -> {same_doc, doc} where same_doc compares the
decoded JSON of `sig` with the package's own sig for the same inputs (clock pinned to `now`).
"""
import base64
import json
import sys
import time
import zlib

from TLSSigAPIv2 import TLSSigAPIv2, base64_decode_url


def gen(r):
    time.time = lambda: r["now"]  # the package reads the clock with time.time()
    api = TLSSigAPIv2(r["app"], r["key"])
    if r.get("userbuf_b64") is None:
        return api.gen_sig(r["id"], r["expire"])
    return api.gen_sig_with_userbuf(r["id"], r["expire"], base64.b64decode(r["userbuf_b64"]))


def decode(sig):
    return json.loads(zlib.decompress(base64_decode_url(sig.encode())))


out = []
for r in json.load(sys.stdin):
    if r["mode"] == "gen":
        out.append({"sig": gen(r)})
    else:
        doc = decode(r["sig"])
        out.append({"same_doc": doc == decode(gen(r)), "doc": doc})
json.dump(out, sys.stdout)
