"""Writes a damaged copy of a file: damage.py IN OUT flip OFFSET | truncate LENGTH."""
import sys

data = bytearray(open(sys.argv[1], "rb").read())
if sys.argv[3] == "flip":
    at = int(sys.argv[4]) % len(data)
    data[at] ^= 0x5A
else:
    data = data[: int(sys.argv[4])]
open(sys.argv[2], "wb").write(bytes(data))
