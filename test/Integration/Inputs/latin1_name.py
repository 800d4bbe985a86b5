"""latin1_name.py EXAMPLE DIR: compiles a copy of EXAMPLE named with a Latin-1
byte (not UTF-8) and prints what `dlc inspect --json` says its source is.
The bundle must load and its JSON must parse: the writer replaces the bad
byte by U+FFFD."""
import json
import os
import shutil
import subprocess
import sys

example, directory = sys.argv[1], os.fsencode(sys.argv[2])
model = directory + b"/caf\xe9.dl"
bundle = directory + b"/latin1.dlcb"
shutil.copy(example, model)
subprocess.run(["dlc", "compile", model, "--batch", "2", "-o", bundle], check=True)
out = subprocess.run(["dlc", "inspect", bundle, "--json"], check=True, capture_output=True).stdout
print("source:", json.loads(out)["source"].rsplit("/", 1)[-1].encode("unicode_escape").decode())
