"""Kills `dlc train` with SIGKILL while it checkpoints every step, and checks
after each kill that the checkpoint is a complete, readable file; then
resumes to the end. Each kill comes a random moment after the run has
written a checkpoint of its own (so slow start-up on a loaded machine cannot
make the test vacuous). kill_during_training.py ROUNDS CKPT_DIR DLC ARGS..."""
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "fixtures"))
import safetensors_io  # noqa: E402

rounds, ckpt, command = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
random.seed(5)
path = os.path.join(ckpt, "checkpoint.safetensors")
checked = 0
for r in range(rounds):
    before = os.stat(path).st_mtime_ns if os.path.exists(path) else None
    args = command + ["--checkpoint", ckpt, "--checkpoint-every", "1"] + (["--resume"] if r else [])
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if os.path.exists(path) and os.stat(path).st_mtime_ns != before:
            break
        time.sleep(0.01)
    time.sleep(random.uniform(0.0, 0.3))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    tensors = safetensors_io.read(path)  # raises on a torn or missing file
    assert "conv2d/kernel/m" in tensors, "optimizer state missing"
    checked += 1
final = subprocess.run(command + ["--checkpoint", ckpt, "--resume"], capture_output=True, text=True)
print("killed %d times, %d checkpoints read back intact, resume exit %d" % (rounds, checked, final.returncode))
sys.exit(final.returncode)
