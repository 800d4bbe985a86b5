"""loss_scale_steps.py DLC OUT_DIR: one training step (`dlc grad --step-out`)
of a one-layer model whose gradients lie below float16's smallest subnormal
(2^-24), on ref, cpu and cuda-sim, under loss-scaling settings chosen to
show each branch of Keras' LossScaleOptimizer rule. Prints one line per
(case, backend): the kernel's update against fp32's and the loss-scaling
state after the step, then `ok` or what is wrong.

The model: dense(2, no bias) of x = [1, 0, 0, 0] with the kernel's first row
zero, so the prediction is exactly 0 in every precision; labels of -1e-8 and
-2e-8 make the mean-squared-error gradient 5e-9 and 1e-8, which float16
flushes to zero. sgd(learning_rate=1e4) makes the update (about 1e-4) large
enough to read in float32."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "fixtures"))
from safetensors_io import read, write  # noqa: E402

dlc, out = sys.argv[1:3]
os.makedirs(out, exist_ok=True)

MODEL = """model tiny {
  input x: [4]
  dense(2, use_bias=false)
}
train tiny {
  loss = mse
  optimizer = sgd(learning_rate=10000)
  batch_size = 2
  precision = %s
%s}
"""
KERNEL = [0.0, 0.0, 0.25, -0.5, 0.5, 0.125, -0.25, 1.0]  # [4, 2], first row zero
write(os.path.join(out, "weights.safetensors"), {"dense/kernel": ("F32", [4, 2], KERNEL)})
write(os.path.join(out, "batch.safetensors"), {
    "x": ("F32", [2, 4], [1.0, 0.0, 0.0, 0.0] * 2),
    "labels": ("F32", [2, 2], [-1e-8, -2e-8] * 2)})


def step(name, backend, policy, loss_scale):
    model = os.path.join(out, name + ".dl")
    with open(model, "w") as f:
        f.write(MODEL % (policy, "  loss_scale = %s\n" % loss_scale if loss_scale else ""))
    path = os.path.join(out, "%s-%s.safetensors" % (name, backend))
    subprocess.run([dlc, "grad", model, "--backend", backend, "--weights",
                    os.path.join(out, "weights.safetensors"), "--batch",
                    os.path.join(out, "batch.safetensors"), "--out",
                    os.path.join(out, "%s-%s.grad.safetensors" % (name, backend)),
                    "--step-out", path, "--step", "0"], check=True)
    tensors = read(path)
    update = [after - before for after, before in zip(tensors["dense/kernel"][2], KERNEL)]
    state = tensors.get("optimizer/loss_scale", (None, None, None))[2]
    return update, state


def relative(got, want):
    return max(abs(g - w) for g, w in zip(got, want)) / max(abs(w) for w in want)


# (name, policy, loss_scale setting, expected state, expect: "fp32" update or "none")
CASES = [
    ("underflow", "mixed_fp16", "none", None, "none"),
    ("scaled", "mixed_fp16", "", (32768.0, 1.0, 0.0, 1.0, 32768.0), "fp32"),
    ("growth", "mixed_fp16", "dynamic(growth_steps=1)", (65536.0, 0.0, 0.0, 1.0, 32768.0), "fp32"),
    ("overflow", "mixed_fp16", "dynamic(initial_scale=1.2676506002282294e30)",
     (2.0 ** 99, 0.0, 1.0, 0.0, 2.0 ** 100), "none"),
]
for backend in ("ref", "cpu", "cuda-sim"):
    fp32, _ = step("fp32", backend, "fp32", "")
    for name, policy, setting, want_state, expect in CASES:
        update, state = step(name, backend, policy, setting)
        problems = []
        if expect == "none" and any(update):
            problems.append("the kernel moved by %r; the step should leave it" % (update,))
        if expect == "fp32" and relative(update, fp32) > 1e-2:
            problems.append("the update differs from fp32's by %.2e" % relative(update, fp32))
        if want_state is None and state is not None:
            problems.append("a loss-scaling state exists")
        if want_state is not None and tuple(state or ()) != want_state:
            problems.append("state %r, want %r" % (state, want_state))
        moved = max(abs(u) for u in update)
        print("%s %s: largest update %.3g (fp32 %.3g), state %s: %s" % (
            name, backend, moved, max(abs(u) for u in fp32),
            "none" if state is None else "[%s]" % ", ".join("%g" % v for v in state),
            "; ".join(problems) or "ok"), flush=True)
