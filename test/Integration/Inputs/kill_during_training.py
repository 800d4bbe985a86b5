"""Kills `dlc train` with SIGKILL at random moments while it checkpoints every
step, and checks after each kill that the checkpoint is a complete, readable
file; then resumes to the end. kill_during_training.py ROUNDS CKPT_DIR DLC ARGS..."""
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
    args = command + ["--checkpoint", ckpt, "--checkpoint-every", "1"] + (["--resume"] if r else [])
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(random.uniform(0.2, 1.5))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if os.path.exists(path):
        tensors = safetensors_io.read(path)  # raises on a torn file
        assert "conv2d/kernel/m" in tensors, "optimizer state missing"
        checked += 1
final = subprocess.run(command + ["--checkpoint", ckpt, "--resume"], capture_output=True, text=True)
print("killed %d times, %d checkpoints read back intact, resume exit %d" % (rounds, checked, final.returncode))
sys.exit(final.returncode)
