"""Rewrites a checkpoint's training position: set_position.py CKPT EPOCH BATCH
[STEP]. Makes the state a kill between the last step's checkpoint and the
epoch-end checkpoint leaves behind, or (with numbers outside the run) a
damaged or hostile one. The safetensors header is rewritten whole, so the
numbers may have any length."""
import json
import struct
import sys

path, epoch, batch = sys.argv[1], sys.argv[2], sys.argv[3]
step = sys.argv[4] if len(sys.argv) > 4 else None
data = open(path, "rb").read()
(length,) = struct.unpack_from("<Q", data, 0)
header = json.loads(data[8:8 + length])
body = data[8 + length:]
meta = header["__metadata__"]
meta["dlc.epoch"], meta["dlc.batch"] = epoch, batch
if step is not None:
    meta["dlc.step"] = step
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (-(8 + len(text)) % 8)  # keep the data 8-byte aligned
open(path, "wb").write(struct.pack("<Q", len(text)) + text + body)
