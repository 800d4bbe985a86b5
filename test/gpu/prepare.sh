#!/usr/bin/env bash
# Prepares, on a machine with the compiler, the folder the GPU check runs
# from (test/gpu/run.sh): a GPU machine has CUDA but no MLIR, no oneDNN and
# no network, and at most 64 MiB may travel to it (docs/gpu.md).
#
#   test/gpu/prepare.sh BUILD_DIR OUT_DIR
#
# OUT_DIR gets:
#   bin/       dlc-rt (no MLIR) and the device unit tests
#   lib/       what dlc-rt links that a CUDA machine may lack, xz-compressed
#   cases.tar.xz  every conformance case: its CUDA bundle (sm_90 CUBIN + PTX),
#              data, and the float64 reference's gradients and train step
#   cases-library.tar.xz  the dense, conv and lstm cases compiled with --kernels library
#              (their products as cuBLASLt calls), likewise
#   cases-tf32.tar.xz  the dense and conv cases compiled with --precision tf32
#              (their products as TF32 WMMA), likewise
#   examples.tar.xz  the MNIST CNN and text LSTM bundles at the PyTorch fixtures'
#              batch and at batch 128, with the fixtures; the VGG16 transfer
#              model at batch 32 (its base's initial values drawn at load:
#              kernels and shapes travel, not 59 MB of weights), and at
#              32x32, batch 1 for the dry run; dlc's cold
#              and warm compile times (compile-times.jsonl)
#   data/      the Fashion-MNIST test split (a short training run)
#   scripts/   run.sh and the Python it calls (with the PyTorch peer of the
#              benchmark)
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR OUT_DIR" >&2
  exit 2
fi
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
out=$2
limit_mib=64
dlc=$build/tools/dlc/dlc
rt=$build/tools/dlc/dlc-rt
for f in "$dlc" "$rt" "$build/runtime/dlc_cuda_device_tests"; do
  [ -x "$f" ] || { echo "error: $f is not built (ninja -C $build)" >&2; exit 1; }
done
rm -rf "$out"
mkdir -p "$out"/{bin,lib,data,scripts}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Bundles compress about tenfold: they travel as examples.tar.xz.
examples=$work/examples
mkdir -p "$examples"

cp "$rt" "$build/runtime/dlc_cuda_device_tests" "$out/bin/"
# Shared libraries of dlc-rt outside glibc and libstdc++, which the GPU
# machine has in newer versions.
ldd "$rt" | awk '$3 ~ /^\// {print $1, $3}' | while read -r name path; do
  case "$name" in
    libc.so*|libm.so*|libstdc++.so*|libgcc_s.so*|libz.so*) ;;
    *) xz -6 -T0 -c "$path" > "$out/lib/$name.xz" ;;
  esac
done

echo "conformance cases: compiling for sm_90 and running the reference"
python3 "$src/test/Backends/check_backends.py" --dlc "$dlc" --conformance --backends cpu \
  --export "$work/cases" > "$out/prepare-conformance.log"
tail -1 "$out/prepare-conformance.log"
tar -C "$work" -cJf "$out/cases.tar.xz" cases
echo "conformance cases with --kernels library: the dense, conv and lstm ones"
python3 "$src/test/Backends/check_backends.py" --dlc "$dlc" --conformance --backends cpu --kernels library \
  --filter "dense|conv|lstm" --export "$work/cases-library" > "$out/prepare-conformance-library.log"
tail -1 "$out/prepare-conformance-library.log"
tar -C "$work" -cJf "$out/cases-library.tar.xz" cases-library
echo "conformance cases under --precision tf32: the dense and conv ones"
python3 "$src/test/Backends/check_backends.py" --dlc "$dlc" --conformance --backends cpu --precision tf32 \
  --filter "dense|conv" --export "$work/cases-tf32" > "$out/prepare-conformance-tf32.log"
tail -1 "$out/prepare-conformance-tf32.log"
tar -C "$work" -cJf "$out/cases-tf32.tar.xz" cases-tf32

for model in mnist_cnn text_lstm; do
  fixture_batch=$(python3 - "$src/test/fixtures/$model.batch.safetensors" <<'EOF'
import sys, os
sys.path.insert(0, os.path.dirname(sys.argv[1]))
from safetensors_io import read
print(next(iter(read(sys.argv[1]).values()))[1][0])
EOF
)
  # Initial values drawn at load: the same values, kernels and shapes only.
  "$dlc" compile "$src/examples/$model.dl" --target cuda --cuda-arch sm_90 --batch "$fixture_batch" \
    --initial-values drawn -o "$examples/$model.fixture.dlcb"
  # The fixtures phase checks that --deterministic repeats bit for bit.
  "$dlc" compile "$src/examples/$model.dl" --target cuda --cuda-arch sm_90 --batch "$fixture_batch" \
    --deterministic --initial-values drawn -o "$examples/$model.fixture.deterministic.dlcb"
  "$dlc" compile "$src/examples/$model.dl" --target cuda --cuda-arch sm_90 --batch 128 \
    --initial-values drawn -o "$examples/$model.b128.dlcb"
  # The bench phase's mixed precision row (bf16: fp16 waits for loss
  # scaling; more bundles would not fit the 64 MiB).
  "$dlc" compile "$src/examples/$model.dl" --target cuda --cuda-arch sm_90 --batch 128 \
    --precision mixed_bf16 --initial-values drawn -o "$examples/$model.b128.mixed_bf16.dlcb"
  # The bench phase's TF32 row: f32 values, the products on TF32 tensor
  # cores (the generated kernels' WMMA), against PyTorch's allow_tf32.
  "$dlc" compile "$src/examples/$model.dl" --target cuda --cuda-arch sm_90 --batch 128 \
    --precision tf32 --initial-values drawn -o "$examples/$model.b128.tf32.dlcb"
  # The bench phase's library row: cuBLASLt and cuDNN where the cost model
  # prefers them (--kernels auto).
  "$dlc" compile "$src/examples/$model.dl" --target cuda --cuda-arch sm_90 --batch 128 \
    --kernels auto --initial-values drawn -o "$examples/$model.b128.library.dlcb"
  cp "$src/test/fixtures/$model".{weights,batch,grads}.safetensors "$examples/"
done

# VGG16 transfer at batch 32, fp32, tf32 and mixed_bf16: the example without its
# weights file (random base weights change no timing), drawn at load.
mkdir -p "$work/vgg/lib"
cp "$src/examples/lib/vgg16.dl" "$work/vgg/lib/"
sed 's/, weights="[^"]*"//' "$src/examples/vgg16_transfer.dl" > "$work/vgg/vgg16_transfer.dl"
for precision in fp32 tf32 mixed_bf16; do
  suffix=$([ $precision = fp32 ] && echo "" || echo ".$precision")
  "$dlc" compile "$work/vgg/vgg16_transfer.dl" --target cuda --cuda-arch sm_90 --batch 32 \
    --precision $precision --initial-values drawn -o "$examples/vgg16_transfer.b32$suffix.dlcb"
done
"$dlc" compile "$work/vgg/vgg16_transfer.dl" --target cuda --cuda-arch sm_90 --batch 32 \
  --kernels auto --initial-values drawn -o "$examples/vgg16_transfer.b32.library.dlcb"
# The dry run's VGG16 (run.sh --dry-run): the same layers at 32x32 and batch 1,
# which the emulation runs in seconds.
sed -e 's/^\( *input image: \)\[224, 224, 3\]/\1[32, 32, 3]/' -e 's/^\( *resize\)(224, 224)/\1(32, 32)/' \
  "$work/vgg/vgg16_transfer.dl" > "$work/vgg/small.dl"
[ "$(grep -c -e 'input image: \[32, 32, 3\]' -e 'resize(32, 32)' "$work/vgg/small.dl")" = 2 ] \
  || { echo "error: examples/vgg16_transfer.dl no longer has 'input image: [224, 224, 3]' and 'resize(224, 224)'" >&2; exit 1; }
"$dlc" compile "$work/vgg/small.dl" --target cuda --cuda-arch sm_90 --batch 1 \
  --initial-values drawn -o "$examples/vgg16_transfer.small.dlcb"

# dlc's compile time per example (fp32, the GPU check's batch): cold (an
# empty kernel cache: every kernel through NVRTC) and warm (the cache full).
compile_time() { # MODEL.DL BATCH CACHE: seconds
  local start
  start=$(date +%s.%N)
  DLC_CACHE_DIR=$3 "$dlc" compile "$1" --target cuda --cuda-arch sm_90 --batch "$2" --initial-values drawn \
    -o "$work/timed.dlcb" 2> /dev/null
  python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$start" "$(date +%s.%N)"
}
: > "$examples/compile-times.jsonl"
for spec in "mnist_cnn $src/examples/mnist_cnn.dl 128" "text_lstm $src/examples/text_lstm.dl 128" \
            "vgg16_transfer $work/vgg/vgg16_transfer.dl 32"; do
  read -r model file batch <<< "$spec"
  cache=$(mktemp -d)
  cold=$(compile_time "$file" "$batch" "$cache")
  warm=$(compile_time "$file" "$batch" "$cache")
  rm -rf "$cache"
  echo "{\"model\": \"$model\", \"batch\": $batch, \"cold_seconds\": $cold, \"warm_seconds\": $warm}" \
    >> "$examples/compile-times.jsonl"
done
cat "$examples/compile-times.jsonl"

fashion=/usr/share/datasets/fashion-mnist
if [ -f "$fashion/t10k-images-idx3-ubyte.gz" ]; then
  cp "$fashion"/t10k-{images-idx3,labels-idx1}-ubyte.gz "$out/data/"
else
  echo "note: no Fashion-MNIST at $fashion (apt-get install dataset-fashion-mnist); the training phase will skip"
fi

cp "$src/test/gpu/run.sh" "$src/test/Backends/check_backends.py" "$src/test/Backends/dlmodels.py" \
  "$src/test/Backends/conformance_cases.py" \
  "$src/test/fixtures/safetensors_io.py" "$src/test/fixtures/compare_gradients.py" \
  "$src/test/Integration/Inputs/compare_train_logs.py" "$src/bench/peer_torch.py" \
  "$src/bench/bench_common.py" "$src/test/gpu/bench_table.py" "$out/scripts/"

tar -C "$work" -cJf "$out/examples.tar.xz" examples

bytes=$(du -sb "$out" | cut -f1)
echo "prepared $out: $(( bytes / 1024 / 1024 )) MiB (limit $limit_mib MiB)"
if [ "$bytes" -gt $(( limit_mib * 1024 * 1024 )) ]; then
  echo "error: $out is larger than the $limit_mib MiB that may travel to the GPU machine" >&2
  du -sh "$out"/* >&2
  exit 1
fi
