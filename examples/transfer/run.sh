#!/usr/bin/env bash
# The transfer learning demo end to end, from this folder (docs/transfer-learning.md):
#   examples/transfer/run.sh [DLC] [FEW]
set -euo pipefail
cd "$(dirname "$0")"
dlc=${1:-../../build/tools/dlc/dlc}
few=${2:-500}
/usr/bin/python3 make_splits.py splits --few "$few"
"$dlc" train base.dl --checkpoint checkpoints/base --log base.jsonl
"$dlc" train head.dl --checkpoint checkpoints/head --log head.jsonl
"$dlc" train scratch.dl --log scratch.jsonl
"$dlc" train finetune.dl --log finetune.jsonl
for run in base head scratch finetune; do
  printf '%-9s ' "$run"; tail -1 "$run.jsonl"
done
