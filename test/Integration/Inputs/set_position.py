"""Rewrites a checkpoint's training position in place (same-length digits):
set_position.py CKPT EPOCH BATCH. Makes the state a kill between the last
step's checkpoint and the epoch-end checkpoint leaves behind."""
import re
import sys

path, epoch, batch = sys.argv[1], sys.argv[2], sys.argv[3]
data = bytearray(open(path, "rb").read())
for key, value in (("dlc.epoch", epoch), ("dlc.batch", batch)):
    match = re.search(rb'"%s":"(\d+)"' % key.encode(), data)
    assert match and len(match.group(1)) == len(value), key
    data[match.start(1):match.end(1)] = value.encode()
open(path, "wb").write(bytes(data))
