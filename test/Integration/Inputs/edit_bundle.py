#!/usr/bin/env python3
"""Edits a bundle as an attacker would: its flatbuffer becomes JSON (flatc),
each EDIT (a Python statement on `d`, the bundle as a dict) is applied, the
JSON becomes a flatbuffer again, and the header's sizes and checksums are
recomputed, so that only the loader's semantic checks stand between the
edited bundle and the executor.

  edit_bundle.py IN.dlcb OUT.dlcb 'd["programs"][0]["kernels"][0]["ops"] = []' ...

A statement may also set `payload` (the payload bytes)."""
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "runtime",
                      "schemas", "bundle.fbs")


def main():
    src, dst, edits = sys.argv[1], sys.argv[2], sys.argv[3:]
    data = open(src, "rb").read()
    fb_bytes, payload_bytes = struct.unpack_from("<QQ", data, 8)
    payload_start = (32 + fb_bytes + 63) // 64 * 64
    payload = data[payload_start:payload_start + payload_bytes]
    with tempfile.TemporaryDirectory() as tmp:
        fb = os.path.join(tmp, "bundle.bin")
        open(fb, "wb").write(data[32:32 + fb_bytes])
        subprocess.run(["flatc", "--json", "--raw-binary", "--strict-json", "--defaults-json",
                        "-o", tmp, SCHEMA, "--", fb], check=True)
        d = json.load(open(os.path.join(tmp, "bundle.json")))
        scope = {"d": d, "payload": payload}
        for edit in edits:
            exec(edit, scope)
        payload = scope["payload"]
        js = os.path.join(tmp, "edited.json")
        # ensure_ascii=False: a string may hold any byte (surrogateescape).
        open(js, "wb").write(json.dumps(d, ensure_ascii=False).encode("utf-8", "surrogateescape"))
        subprocess.run(["flatc", "--binary", "--allow-non-utf8", "-o", tmp, SCHEMA, js], check=True)
        fb_out = open(os.path.join(tmp, "edited.dlcb"), "rb").read()
    start = (32 + len(fb_out) + 63) // 64 * 64
    header = b"DLCB" + struct.pack("<IQQII", struct.unpack_from("<I", data, 4)[0], len(fb_out),
                                   len(payload), zlib.crc32(fb_out), zlib.crc32(payload))
    out = header + fb_out + b"\0" * (start - 32 - len(fb_out)) + payload
    open(dst, "wb").write(out)


if __name__ == "__main__":
    main()
