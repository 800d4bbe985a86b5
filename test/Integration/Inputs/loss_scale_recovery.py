"""loss_scale_recovery.py OVERFLOW.jsonl FP32.jsonl INITIAL_SCALE: checks a
`dlc train --log` run that started from a loss scale so large that its first
steps overflow float16 against an fp32 run of as many steps: some steps were
skipped, each halved the scale (no growth this early), and the model then
trained as under fp32 (validation accuracy within 5 points)."""
import json
import sys

over = [json.loads(line) for line in open(sys.argv[1]) if '"epoch"' in line][-1]
fp32 = [json.loads(line) for line in open(sys.argv[2]) if '"epoch"' in line][-1]
initial = float(sys.argv[3])
skipped = over["skipped_steps"]
problems = []
if not 1 <= skipped < over["step"] // 2:
    problems.append("%d of %d steps skipped" % (skipped, over["step"]))
if over["loss_scale"] != initial / 2 ** skipped:
    problems.append("scale %g after %d halvings of %g" % (over["loss_scale"], skipped, initial))
if abs(over["val_accuracy"] - fp32["val_accuracy"]) > 0.05:
    problems.append("val_accuracy %.4f, fp32's %.4f" % (over["val_accuracy"], fp32["val_accuracy"]))
print("%d steps, %d skipped, loss scale %g; val_accuracy %.4f (fp32 %.4f): %s" % (
    over["step"], skipped, over["loss_scale"], over["val_accuracy"], fp32["val_accuracy"],
    "; ".join(problems) or "ok"))
sys.exit(1 if problems else 0)
