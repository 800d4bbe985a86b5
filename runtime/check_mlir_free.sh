#!/bin/sh
# Fails if runtime/ includes MLIR/LLVM headers or cannot build on its own.
# Usage: check_mlir_free.sh RUNTIME_SOURCE_DIR SCRATCH_BUILD_DIR
set -eu
src=$1 build=$2
if grep -rnE '#[[:space:]]*include[[:space:]]*[<"](mlir|llvm)/' "$src"; then
  echo "error: runtime/ must not include MLIR or LLVM headers" >&2
  exit 1
fi
if grep -rniE '(find_package|target_link_libraries)\([^)]*(MLIR|LLVM)' "$src"/CMakeLists.txt; then
  echo "error: runtime/CMakeLists.txt must not use MLIR or LLVM" >&2
  exit 1
fi
rm -rf "$build"
cmake -S "$src" -B "$build" -G Ninja -DDLC_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" >/dev/null
echo "runtime builds standalone without MLIR/LLVM"
