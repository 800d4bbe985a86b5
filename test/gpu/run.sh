#!/usr/bin/env bash
# The GPU check: everything dlc can check on a GPU, in one run of at most 8
# minutes, from a folder test/gpu/prepare.sh made (docs/gpu.md).
#
#   scripts/run.sh [--dry-run] [FOLDER]     (FOLDER: the prepared one, default ..)
#
# Phases, most valuable first, each under its own time limit and all inside
# DLC_GPU_CHECK_SECONDS (default 480): environment, device unit tests, the
# conformance suite on cuda, the examples' gradients against the PyTorch
# fixtures (three runs compared), compute-sanitizer memcheck and racecheck
# over a training step, a short training run cuda vs cpu, per-kernel times.
# One summary is printed last; after every phase the summary so far goes to
# $OUT/summary.txt and the logs to $OUT/gpu-check-logs.tar.xz (or FOLDER/logs
# without $OUT).
#
# --dry-run runs the same phases without a GPU: cuda-sim (the CUDA emulation)
# in place of cuda, no sanitizer, smaller sizes. CI runs it.
set -uo pipefail
dry=0
if [ "${1:-}" = --dry-run ]; then
  dry=1
  shift
fi
dir=$(cd "${1:-$(dirname "$0")/..}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
logs=$work/logs
mkdir -p "$logs" "$work/lib"
export dir work logs dry
export backend=cuda rt=$dir/bin/dlc-rt scripts=$dir/scripts
[ "$dry" = 1 ] && backend=cuda-sim
started=$(date +%s)

# What dlc-rt links that the machine may lack travels xz-compressed.
for f in "$dir"/lib/*.xz; do
  [ -e "$f" ] && xz -dc "$f" > "$work/lib/$(basename "$f" .xz)"
done
export LD_LIBRARY_PATH=$work/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
mkdir -p "$work/cases-in" && tar -C "$work/cases-in" -xJf "$dir/cases.tar.xz"
tar -C "$work/cases-in" -xJf "$dir/cases-library.tar.xz"
tar -C "$work/cases-in" -xJf "$dir/cases-tf32.tar.xz"
tar -C "$work" -xJf "$dir/examples.tar.xz"
export examples=$work/examples
# NVRTC (kernels compiled at run time, as some device tests do), cuBLASLt and
# cuDNN (--kernels library) may live in a Python wheel rather than under
# /usr/local/cuda.
for spec in DLC_NVRTC_LIBRARY:libnvrtc.so DLC_CUBLASLT_LIBRARY:libcublasLt.so DLC_CUDNN_LIBRARY:libcudnn.so.9; do
  variable=${spec%%:*} pattern=${spec#*:}
  [ -n "${!variable:-}" ] && continue
  found=$(find /usr/local/cuda*/lib64 /usr/lib /opt \
            $(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null) \
            -name "$pattern*" 2>/dev/null | sort | head -1)
  [ -n "$found" ] && export "$variable=$found"
done

# The whole check ends inside DLC_GPU_CHECK_SECONDS (default 480): a device
# call that outruns its limit returns nothing, so a phase gets what is left of
# the budget at most, and one that cannot start in time is skipped.
budget=${DLC_GPU_CHECK_SECONDS:-480}
deadline=$(( started + budget ))

# The summary and the logs so far, where they come back from (written after
# every phase, so that a check stopped from outside still reports).
report() {
  {
    echo "dlc GPU check$( [ "$dry" = 1 ] && echo " (dry run: cuda-sim, no GPU)") in $(( $(date +%s) - started )) s"
    printf '%s\n' "${summary[@]}"
  } > "$work/summary.txt"
  if [ -n "${OUT:-}" ]; then
    cp "$work/summary.txt" "$OUT/summary.txt"
    tar -C "$work" -cJf "$OUT/gpu-check-logs.tar.xz" logs
  else
    rm -rf "$dir/logs" && cp -r "$logs" "$dir/logs"
  fi
}

# One line per phase: name, status, seconds, its SUMMARY line.
summary=()
phase() {
  local name=$1 limit=$2 fn=$3 start rc status figure left
  start=$(date +%s)
  left=$(( deadline - start - 10 ))
  if [ "$left" -lt 15 ]; then
    summary+=("$(printf '%-13s %-7s %4ss  %s' "$name" SKIP 0 "no time left in the ${budget} s budget")")
    echo "${summary[-1]}" >&2
    report
    return
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  # A phase that divides its time among runs of its own (bench) ends them by then.
  export phase_deadline=$(( start + limit ))
  timeout -k 10 "$limit" bash -c "$fn" > "$logs/$name.log" 2>&1
  rc=$?
  case $rc in
    0) status=PASS ;;
    77) status=SKIP ;;
    124|137) status=TIMEOUT ;;
    *) status=FAIL ;;
  esac
  figure=$(grep '^SUMMARY: ' "$logs/$name.log" | tail -1 | cut -c10-)
  summary+=("$(printf '%-13s %-7s %4ss  %s' "$name" "$status" "$(( $(date +%s) - start ))" "$figure")")
  echo "${summary[-1]}" >&2
  report
}

# Under compute-sanitizer on a GPU; plainly in a dry run.
sanitized() {
  local tool=$1
  shift
  if [ "$dry" = 1 ]; then
    "$@"
  elif command -v compute-sanitizer > /dev/null; then
    compute-sanitizer --tool "$tool" --error-exitcode 9 --print-limit 20 "$@"
  else
    echo "no compute-sanitizer on PATH"
    return 77
  fi
}
export -f sanitized

environment() {
  uname -a
  if [ "$dry" = 1 ]; then echo "dry run: no GPU wanted"; else nvidia-smi || exit 1; fi
  echo "--- ldd dlc-rt"
  ldd "$rt"
  if ldd "$rt" | grep -q "not found"; then echo "SUMMARY: dlc-rt misses a library"; exit 1; fi
  echo "--- CUDA libraries the runtime may load"
  ldconfig -p | grep -E "libcuda\.so|libnvrtc|libcublas|libcudnn" | head -20
  ls -d /usr/local/cuda*/lib64 2>/dev/null
  echo "DLC_NVRTC_LIBRARY=${DLC_NVRTC_LIBRARY:-} DLC_CUBLASLT_LIBRARY=${DLC_CUBLASLT_LIBRARY:-} DLC_CUDNN_LIBRARY=${DLC_CUDNN_LIBRARY:-}"
  "$rt" inspect "$examples/mnist_cnn.fixture.dlcb" | head -5
  echo "SUMMARY: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo "no GPU (dry run)")"
}

device_tests() {
  "$dir/bin/dlc_cuda_device_tests" --gtest_color=no
  local rc=$?
  local passed skipped failed
  passed=$(grep -c '^\[       OK \]' "$logs/device-tests.log")
  skipped=$(grep -c '^\[  SKIPPED \]' "$logs/device-tests.log")
  failed=$(grep -c '^\[  FAILED  \]' "$logs/device-tests.log")
  echo "SUMMARY: $passed passed, $skipped skipped, $failed failed"
  return $rc
}

# The exported conformance cases in cases-in/SET against the float64
# reference, logged as phase NAME. The dry run checks a sample (every 4th
# case): CI runs the whole suites on cuda-sim already.
exported_cases() { # SET NAME
  python3 "$scripts/check_backends.py" --exported "$work/cases-in/$1" --dlc-rt "$rt" \
    --backends "$backend" --jobs "$([ "$dry" = 1 ] && echo 2 || echo 8)" --work "$work/$2" \
    --every "$([ "$dry" = 1 ] && echo 4 || echo 1)"
  local rc=$?
  echo "SUMMARY: $(tail -1 "$logs/$2.log")"
  return $rc
}

# Every case, generated kernels (conformance.test).
conformance() { exported_cases cases conformance; }
# The dense, conv and lstm cases as cuBLASLt and cuDNN calls (the emulation
# runs the references of their contracts; conformance-library.test).
conformance_library() { exported_cases cases-library conformance-library; }
# The dense and conv cases under --precision tf32: the generated products as
# TF32 WMMA, whose rounding the reference repeats (conformance-tf32.test).
conformance_tf32() { exported_cases cases-tf32 conformance-tf32; }

fixtures() {
  local rc=0 model run notes=""
  for model in mnist_cnn text_lstm; do
    for run in 1 2 3; do
      "$rt" grad "$examples/$model.fixture.dlcb" --backend "$backend" \
        --weights "$examples/$model.weights.safetensors" --batch "$examples/$model.batch.safetensors" \
        --out "$work/$model.run$run.safetensors" || { rc=1; continue; }
    done
    python3 "$scripts/compare_gradients.py" --rtol 1e-4 "$work/$model.run1.safetensors" \
      "$examples/$model.grads.safetensors" || rc=1
    # Float atomics (bias, weight and embedding gradients) sum in a different
    # order each run on a GPU: runs may differ at rounding level, no more.
    for run in 2 3; do
      python3 "$scripts/compare_gradients.py" --rtol 1e-5 "$work/$model.run$run.safetensors" \
        "$work/$model.run1.safetensors" > "$work/runs.txt" || rc=1
      cat "$work/runs.txt"
      notes+=" $model run $run vs 1: $(tail -1 "$work/runs.txt" | grep -o 'largest relative error [^ ]*' | cut -d' ' -f4);"
    done
    # --deterministic: no float atomics, so two runs agree bit for bit.
    # (The emulation of the dry run takes another block order each run.)
    for run in 1 2; do
      DLC_SIM_SCHEDULE=random:$run "$rt" grad "$examples/$model.fixture.deterministic.dlcb" --backend "$backend" \
        --weights "$examples/$model.weights.safetensors" --batch "$examples/$model.batch.safetensors" \
        --out "$work/$model.deterministic$run.safetensors" || rc=1
    done
    python3 "$scripts/compare_gradients.py" --rtol 1e-4 "$work/$model.deterministic1.safetensors" \
      "$examples/$model.grads.safetensors" > /dev/null || rc=1
    local same
    same=$(python3 - "$scripts" "$work/$model.deterministic1.safetensors" "$work/$model.deterministic2.safetensors" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from safetensors_io import read
a, b = read(sys.argv[2]), read(sys.argv[3])
differ = [n for n in a if a[n] != b.get(n)]
print("%d of %d tensors differ" % (len(differ), len(a)))
sys.exit(1 if differ or not a else 0)
EOF
) || rc=1
    notes+=" $model --deterministic run 2 vs 1: $same;"
  done
  echo "SUMMARY: fixtures at 1e-4:$( [ $rc = 0 ] && echo " ok" || echo " FAIL");$notes"
  return $rc
}

# One gradient and one training step of each example under a sanitizer.
sanitize() {
  local tool=$1 rc=0 model
  for model in mnist_cnn text_lstm; do
    echo "--- $tool: $model"
    sanitized "$tool" "$rt" grad "$examples/$model.fixture.dlcb" --backend "$backend" \
      --weights "$examples/$model.weights.safetensors" --batch "$examples/$model.batch.safetensors" \
      --out "$work/$tool.$model.grads.safetensors" --step-out "$work/$tool.$model.step.safetensors"
    local r=$?
    [ $r = 77 ] && return 77
    [ $r = 0 ] || rc=1
  done
  if [ "$dry" = 1 ]; then
    echo "SUMMARY: dry run: the commands ran without the sanitizer"
  else
    echo "SUMMARY: $(grep -hoE '(ERROR|RACECHECK) SUMMARY: .*' "$logs/$tool.log" | tr '\n' ' ')"
  fi
  return $rc
}
memcheck() { sanitize memcheck; }
racecheck() { sanitize racecheck; }

train() {
  local images=$dir/data/t10k-images-idx3-ubyte.gz labels=$dir/data/t10k-labels-idx1-ubyte.gz
  if [ ! -f "$images" ]; then echo "SUMMARY: no Fashion-MNIST in the folder"; exit 77; fi
  # A validation split of 512 images keeps the check short.
  python3 - "$images" "$labels" "$work" <<'EOF'
import gzip, struct, sys
for path, name in ((sys.argv[1], "val-images.idx"), (sys.argv[2], "val-labels.idx")):
    data = gzip.open(path).read()
    dims = data[3]
    shape = list(struct.unpack(">%dI" % dims, data[4:4 + 4 * dims]))
    per = 1
    for d in shape[1:]:
        per *= d
    body = data[4 + 4 * dims:]
    shape[0] = 512
    with open(sys.argv[3] + "/" + name, "wb") as f:
        f.write(data[:4] + struct.pack(">%dI" % dims, *shape) + body[-512 * per:])
EOF
  local bundle=$examples/mnist_cnn.b128.dlcb steps=40
  [ "$dry" = 1 ] && bundle=$examples/mnist_cnn.fixture.dlcb steps=2
  local data="idx:train_images=$images,train_labels=$labels,test_images=$work/val-images.idx,test_labels=$work/val-labels.idx"
  local b
  for b in "$backend" cpu; do
    "$rt" train "$bundle" --backend "$b" --data "$data" --steps $steps --seed 1 --log "$work/train.$b.jsonl" || exit 1
    cat "$work/train.$b.jsonl"
  done
  python3 "$scripts/compare_train_logs.py" "$work/train.$backend.jsonl" "$work/train.cpu.jsonl" 1e-3 > "$work/cmp.txt"
  local rc=$?
  cat "$work/cmp.txt"
  echo "SUMMARY: $steps steps, $backend vs cpu: $(tail -1 "$work/cmp.txt")"
  return $rc
}

# Training and inference throughput of the three examples, the MNIST CNN and
# text LSTM at batch 128 and VGG16 transfer at batch 32 (224x224): dlc in
# fp32, mixed_bf16, tf32 and --kernels auto against PyTorch on the same
# device and models (bench/peer_torch.py): training eager in fp32, TF32 and
# bf16 autocast and torch.compile (default and max-autotune) in fp32,
# inference eager in fp32. One table with ratios, peak memory and compile
# times ($logs/bench-table.md, rewritten as rows arrive; dlc's cold and warm
# compile times were measured where the folder was prepared), the roofline
# model's prediction against the measured step, dlc's per-kernel times from a
# short profiled run (profiling synchronizes after each kernel, so its
# throughput is not the one reported).
# dlc's rows come first and the peers', most telling first, after them, each
# peer run under its own limit and all inside the phase's: what a slow
# torch.compile costs is the last peer rows, never dlc's.
# The dry run takes every step at small sizes (the fixtures' batch of 4; VGG16
# at 32x32, batch 1): dlc on cuda-sim, the other bundles loaded, not run, and
# the peers on the CPU where PyTorch is installed (DLC_TORCH_PYTHON, default
# python3), where a peer that fails fails the phase.
bench() {
  local steps=50 warmup=5 gpu=h200 rows=$logs/bench-rows.jsonl figures="" torch_device="" no_torch
  local model bundle json ours measured predicted batch side
  local -A dlc_rate peer_args
  local models="mnist_cnn text_lstm vgg16_transfer" torch_python=${DLC_TORCH_PYTHON:-python3}
  [ "$dry" = 1 ] && steps=2 warmup=1
  : > "$rows"
  # The roofline model's device: the one present (dlc inspect --device).
  [ "$dry" = 0 ] && nvidia-smi --query-gpu=name --format=csv,noheader | grep -q H100 && gpu=h100
  if ! "$torch_python" -c 'import torch' 2> /dev/null; then
    no_torch="no PyTorch for $torch_python"
  elif [ "$dry" = 1 ]; then
    torch_device=cpu
  elif "$torch_python" -c 'import torch; assert torch.cuda.is_available()' 2> /dev/null; then
    torch_device=cuda
  else
    no_torch="PyTorch sees no GPU"
  fi
  row() { # MODEL SYSTEM PRECISION MODE JSON: one row of the table
    python3 -c 'import json, sys; r = json.loads(sys.argv[5]); r.update(model=sys.argv[1], system=sys.argv[2], precision=sys.argv[3], mode=sys.argv[4]); print(json.dumps(r))' \
      "$@" >> "$rows"
  }
  value() { # KEY JSON
    python3 -c 'import json, sys; print("%.3f" % json.loads(sys.argv[2])[sys.argv[1]])' "$@"
  }
  table() {
    python3 "$scripts/bench_table.py" "$rows" "$examples/compile-times.jsonl" > "$logs/bench-table.md"
  }
  bundle_of() { # MODEL [SUFFIX]: the bundle the bench runs (at the benchmark's size, or the dry run's)
    local size
    case $1 in
      vgg16_transfer) size=b32 ;;
      *) size=b128 ;;
    esac
    if [ -n "${2:-}" ]; then echo "$examples/$1.$size.$2.dlcb"; return; fi
    if [ "$dry" = 1 ]; then
      case $1 in
        vgg16_transfer) size=small ;;
        *) size=fixture ;;
      esac
    fi
    echo "$examples/$1.$size.dlcb"
  }
  # One more row of dlc's for $model: its bundle with SUFFIX trained as
  # SYSTEM at PRECISION, and in the summary its samples/s as LABEL against
  # the fp32 row's ($ours).
  variant() { # SUFFIX SYSTEM PRECISION LABEL
    local json rate
    json=$("$rt" bench "$(bundle_of $model "$1")" --backend "$backend" --steps $steps \
      --warmup $warmup --json) || return 1
    echo "dlc $4: $json"
    row $model "$2" $3 train "$json"
    rate=$(value samples_per_sec "$json")
    figures+=" $model $4 ${rate%.*} ($(python3 -c "print('%.2f' % ($rate / $ours))")x fp32"
    # --kernels auto: how many kernels the first run's timing moved off the cost model's choice.
    figures+="$(python3 -c 'import json, sys; c = json.loads(sys.argv[1]).get("kernel_choices", []); print(", %d of %d measured kernels switched" % (sum(1 for k in c if k["compiled_ms"] > k["alternative_ms"] > 0), len(c)) if c else "")' "$json"));"
  }
  for model in $models; do
    bundle=$(bundle_of $model)
    json=$("$rt" bench "$bundle" --backend "$backend" --steps $steps --warmup $warmup --json) || exit 1
    echo "dlc: $json"
    row $model dlc fp32 train "$json"
    measured=$(value ms_per_step "$json")
    ours=$(value samples_per_sec "$json")
    dlc_rate[$model]=$ours
    # What the roofline model predicted for the step, against what it took.
    "$rt" inspect "$bundle" --device $gpu > "$logs/roofline-$model.txt" || exit 1
    "$rt" inspect "$bundle" --device $gpu --json > "$work/inspect-$model.json" || exit 1
    predicted=$(python3 -c \
      'import json, sys; print("%.3f" % (1e3 * next(p["seconds"] for p in json.load(sys.stdin)["roofline"]["programs"] if p["name"] == "train_step")))' \
      < "$work/inspect-$model.json")
    # The peer takes the bundle's batch and, for VGG16, its image size.
    read -r batch side _ <<< "$(python3 -c \
      'import json, sys; p = next(p for p in json.load(sys.stdin)["programs"] if p["name"] == "train_step"); print(next(b["shape"] for b in p["buffers"] if b["kind"] == "Input").strip("[]").replace(",", " "))' \
      < "$work/inspect-$model.json")"
    case $model in
      mnist_cnn) peer_args[$model]="--model cnn --batch $batch" ;;
      text_lstm) peer_args[$model]="--model lstm --batch $batch" ;;
      vgg16_transfer) peer_args[$model]="--model vgg --batch $batch --image-size $side" ;;
    esac
    echo "roofline on $gpu: train_step predicted $predicted ms, measured $measured ms"
    figures+=" $model dlc ${ours%.*} samples/s ($measured ms/step, $gpu roofline $predicted);"
    # Inference: the infer program at the same batch.
    json=$("$rt" bench "$bundle" --backend "$backend" --mode infer --steps $steps --warmup $warmup --json) || exit 1
    echo "dlc infer: $json"
    row $model dlc fp32 infer "$json"
    "$rt" bench "$bundle" --backend "$backend" --steps 3 --warmup 1 --profile || exit 1
    if [ "$dry" = 0 ]; then
      # Tensor cores for the 16-bit products; TF32 tensor cores for the f32
      # ones; cuBLASLt and cuDNN where --kernels auto calls them.
      variant mixed_bf16 dlc bf16 mixed_bf16 || exit 1
      variant tf32 dlc tf32 tf32 || exit 1
      variant library "dlc --kernels auto" fp32 "--kernels auto" || exit 1
    else # loaded and checked, not run: the emulation would take minutes at the benchmark's sizes
      for bundle in "$(bundle_of $model mixed_bf16)" "$(bundle_of $model tf32)" "$(bundle_of $model library)"; do
        "$rt" inspect "$bundle" > /dev/null || exit 1
      done
    fi
    table
  done

  if [ -z "$torch_device" ]; then
    figures+=" PyTorch peers not run: $no_torch;"
  else
    local peer_run precision compile mode args limit left rc ran=0 failed="" skipped=""
    local peer_limit=60 compile_limit=150 ratios=""
    [ "$dry" = 0 ] && args="--warmup 5 --min-time 1 --reps 3" || args="--warmup 1 --min-time 0 --reps 1"
    for peer_run in "fp32 none train" "fp32 none infer" "tf32 none train" "bf16 none train" \
                   "fp32 default train" "fp32 max-autotune train"; do
      read -r precision compile mode <<< "$peer_run"
      for model in $models; do
        limit=$([ "$compile" = none ] && echo $peer_limit || echo $compile_limit)
        left=$(( phase_deadline - $(date +%s) - 15 ))
        [ "$left" -lt "$limit" ] && limit=$left
        if [ "$limit" -lt 10 ]; then
          skipped+=" $model $mode $precision $compile;"
          continue
        fi
        # shellcheck disable=SC2086
        timeout -k 5 "$limit" "$torch_python" "$scripts/peer_torch.py" --device $torch_device ${peer_args[$model]} \
          --mode $mode --precision $precision --compile $compile $args > "$work/peer.json"
        rc=$?
        json=$(tail -1 "$work/peer.json")
        echo "torch $model $mode $precision $compile (rc $rc, limit $limit s): ${json:-nothing}"
        if [ "$rc" != 0 ] || [ -z "$json" ]; then
          if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then skipped+=" $model $mode $precision $compile: out of time;"
          else failed+=" $model $mode $precision $compile (rc $rc);"; fi
          continue
        fi
        ran=$(( ran + 1 ))
        row $model "$([ $compile = none ] && echo "torch eager" || echo "torch.compile $compile")" $precision $mode "$json"
        if [ "$peer_run" = "fp32 none train" ]; then
          ratios+=" $model $(python3 -c "print('%.2f' % (${dlc_rate[$model]} / $(value samples_per_sec "$json")))")x,"
        fi
        table
      done
    done
    figures+=" PyTorch peers on $torch_device: $ran ran; dlc / torch eager fp32 training:${ratios%,};"
    [ -n "$skipped" ] && figures+=" peers out of time:$skipped"
    [ -n "$failed" ] && figures+=" peers FAILED:$failed"
  fi
  table
  cat "$logs/bench-table.md"
  figures+=" dlc compile cold/warm s:$(python3 -c 'import json, sys; print(",".join(" %s %.1f/%.1f" % (t["model"], t["cold_seconds"], t["warm_seconds"]) for t in map(json.loads, open(sys.argv[1])) ))' "$examples/compile-times.jsonl")"
  echo "SUMMARY:$figures"
  # On a GPU a peer's failure is the peer's; in the dry run, the commands' to fix.
  [ "$dry" = 0 ] || [ -z "$failed" ]
}
export -f environment device_tests exported_cases conformance conformance_library conformance_tf32 fixtures sanitize memcheck racecheck train bench

phase environment 60 environment
phase device-tests 90 device_tests
phase conformance 150 conformance
phase conformance-library 45 conformance_library
phase conformance-tf32 30 conformance_tf32
phase fixtures 60 fixtures
phase memcheck 60 memcheck
phase racecheck 60 racecheck
phase train 90 train
phase bench 360 bench

report
echo
cat "$work/summary.txt"
! grep -qE ' (FAIL|TIMEOUT) ' "$work/summary.txt"
