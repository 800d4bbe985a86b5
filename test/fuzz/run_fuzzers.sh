#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for a
# bounded time from a corpus seeded with the examples; fails on any crash,
# hang, leak or sanitizer report, leaving the input that caused it in OUT.
#
#   test/fuzz/run_fuzzers.sh DLC_BUILD FUZZ_BUILD OUT SECONDS [TARGET...]
#
# DLC_BUILD: a normal build (its dlc compiles the seed bundles). FUZZ_BUILD is
# configured on first use. Long runs: see test/fuzz/README.md.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
dlc_build=$(cd "$1" && pwd); seconds=$4
fuzz_build=$(mkdir -p "$2" && cd "$2" && pwd); out=$(mkdir -p "$3" && cd "$3" && pwd); shift 4
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(bundle safetensors idx train-setup dl)
jobs=${DLC_FUZZ_BUILD_JOBS:-2}

if ! command -v clang++ > /dev/null; then
  echo "run_fuzzers: clang++ not found (apt-get install clang libomp-dev)" >&2
  exit 1
fi
if [ ! -f "$fuzz_build/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S "$src" -B "$fuzz_build" -G Ninja -DDLC_FUZZ=ON \
    -DDLC_BUILD_TESTS=OFF > "$fuzz_build.configure.log" 2>&1 ||
    { cat "$fuzz_build.configure.log"; exit 1; }
fi
ninja -C "$fuzz_build" -j "$jobs" $(printf 'fuzz-%s ' "${targets[@]}") > "$fuzz_build.build.log" 2>&1 ||
  { tail -40 "$fuzz_build.build.log"; exit 1; }

# Seeds: what each target reads, as dlc writes it.
mkdir -p "$out"
seeds=$out/seeds
rm -rf "$seeds" && mkdir -p "$seeds"/{bundle,safetensors,idx,train-setup,dl}
dlc=$dlc_build/tools/dlc/dlc
# Small models: a mutation of a large payload (weights) still loads and runs
# every program, which is slow; every_op.dl reaches 44 op kinds in 30 KiB.
for model in "$src/test/unit/Inputs/every_op.dl"; do
  name=$(basename "$model" .dl)
  "$dlc" compile "$model" --batch 1 -o "$seeds/$name.dlcb" 2> /dev/null
  # The first byte picks the mode: even recomputes the checksums.
  { printf '\0'; cat "$seeds/$name.dlcb"; } > "$seeds/bundle/$name"
  { printf '\1'; cat "$seeds/$name.dlcb"; } > "$seeds/bundle/$name.raw"
  python3 "$src/test/Integration/Inputs/edit_bundle.py" "$seeds/$name.dlcb" /dev/null \
    "open('$seeds/train-setup/$name.json', 'w').write(d['train_setup'])"
done
cp "$src"/test/fixtures/mnist_cnn.*.safetensors "$src"/test/fixtures/text_lstm.batch.safetensors \
  "$seeds/safetensors/"
python3 "$src/test/Integration/Inputs/make_idx.py" "$seeds/idx" 4 > /dev/null
cp "$src"/examples/*.dl "$src"/examples/lib/*.dl "$src"/test/unit/Inputs/*.dl \
  "$src"/test/Frontend/*.dl "$seeds/dl/"

# LLVM's BumpPtrAllocator poisons its free slab memory in code compiled with
# ASan (our dialect's attribute storage) and not in Debian's libMLIR, which
# then writes strings into the same slabs: a false use-after-poison. Manual
# poisoning is LLVM's alone here, so it is off; heap, stack and UB checks stay.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allow_user_poisoning=0"

status=0
for target in "${targets[@]}"; do
  corpus=$out/corpus/$target
  mkdir -p "$corpus" "$out/findings/$target"
  start=$(date +%s)
  # -rss_limit_mb: the sanitizers' allowance; the harnesses cap dlc's own
  # allocations at 256 MiB (DLC_MEMORY_LIMIT), so 2.5 GiB is ample.
  # Past findings (test/fuzz/regressions/TARGET) run first, as seeds.
  regressions=$src/test/fuzz/regressions/$target
  [ -d "$regressions" ] || regressions=
  if (cd "$seeds/dl" && "$fuzz_build/test/fuzz/fuzz-$target" "$corpus" "$seeds/$target" $regressions \
        -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2560 -max_len=2000000 \
        -artifact_prefix="$out/findings/$target/" -print_final_stats=1 \
        > "$out/$target.log" 2>&1); then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$target.log" | grep -o '[0-9]*$' || echo '?')
    echo "fuzz-$target PASS $(( $(date +%s) - start ))s $runs executions, corpus $(ls "$corpus" | wc -l) inputs"
  else
    echo "fuzz-$target FAIL: $(grep -m1 -E 'ERROR|SUMMARY|deadly' "$out/$target.log" || true)"
    echo "  reproduce: $fuzz_build/test/fuzz/fuzz-$target $(ls -t "$out/findings/$target"/* 2>/dev/null | head -1)"
    tail -30 "$out/$target.log"
    status=1
  fi
done
exit $status
