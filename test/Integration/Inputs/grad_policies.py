"""grad_policies.py DLC MODEL.dl FIXTURE_PREFIX OUT_DIR: `dlc grad` of one batch
under each precision policy on ref, cpu and cuda-sim, each backend compared
with the reference of its policy and each policy's reference with fp32's.
Prints one compare_gradients.py summary line per comparison (limits below)."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
COMPARE = os.path.join(HERE, "..", "..", "fixtures", "compare_gradients.py")
# (backend against the policy's reference, that reference against fp32's)
LIMITS = {"mixed_bf16": (1e-4, (1e-3, 3e-2)), "mixed_fp16": (1e-3, (1e-4, 3e-3))}
# The CNN's max pooling turns rounding ties into routing: wider bounds.
CNN_BOUNDS = {"mixed_bf16": (1e-3, 5e-1), "mixed_fp16": (1e-4, 1e-1)}

dlc, model, fixture, out = sys.argv[1:5]
os.makedirs(out, exist_ok=True)
cnn = "mnist" in os.path.basename(model)


def grad(backend, policy):
    path = os.path.join(out, "%s-%s.safetensors" % (backend, policy))
    subprocess.run([dlc, "grad", model, "--backend", backend, "--precision", policy,
                    "--weights", fixture + ".weights.safetensors",
                    "--batch", fixture + ".batch.safetensors", "--out", path], check=True)
    return path


def compare(label, got, want, rtol, at_least=0.0):
    args = [sys.executable, COMPARE, "--rtol", str(rtol), got, want]
    if at_least:
        args += ["--at-least", str(at_least)]
    result = subprocess.run(args, capture_output=True, text=True)
    print("%s: %s" % (label, result.stdout.strip().splitlines()[-1]), flush=True)


fp32 = grad("ref", "fp32")
for policy in ("mixed_bf16", "mixed_fp16"):
    backend_limit, bounds = LIMITS[policy]
    reference = grad("ref", policy)
    for backend in ("cpu", "cuda-sim"):
        compare("%s %s vs ref %s" % (backend, policy, policy), grad(backend, policy), reference, backend_limit)
    low, high = CNN_BOUNDS[policy] if cnn else bounds
    compare("ref %s vs ref fp32" % policy, reference, fp32, high, low)
