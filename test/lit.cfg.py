# lit configuration for dlc: .dl and .mlir tests run the dlc and dlc-opt tools,
# .test files are shell scripts (runtime rules, fuzzing).
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "dlc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".dl", ".mlir", ".test"]
config.excludes = ["Inputs", "fixtures", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.dlc_obj_root, "test")

llvm_config.with_system_environment(["HOME", "TMPDIR"])
# FileCheck, not and split-file live in LLVM's bin directory, not on PATH.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
for tool_dir in ["tools/dlc", "tools/dlc-opt", "test/unit", "runtime"]:
    llvm_config.with_environment(
        "PATH", os.path.join(config.dlc_obj_root, tool_dir), append_path=True)

config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%examples", os.path.join(config.dlc_src_root, "examples")))
config.substitutions.append(("%dlc_src", config.dlc_src_root))
config.substitutions.append(("%dlc_obj", config.dlc_obj_root))

# Tests that compile CUDA kernels (dlc compile --target cuda) need NVRTC,
# which dlc loads at run time from the same places (runtime/cuda/nvrtc.cc).
def have_nvrtc():
    import ctypes
    roots = [os.environ.get(v, "") for v in ("CUDA_HOME", "CUDA_PATH")] + ["/usr/local/cuda"]
    names = [os.environ.get("DLC_NVRTC_LIBRARY", ""), "libnvrtc.so.13", "libnvrtc.so"]
    names += [os.path.join(r, "lib64", n) for r in roots if r for n in names[1:3]]
    for name in filter(None, names):
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            pass
    return False

if have_nvrtc():
    config.available_features.add("nvrtc")

# Debian's dataset-fashion-mnist (README's install line; CI has it).
if os.path.exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"):
    config.available_features.add("fashion-mnist")

# Test data made by numpy and Pillow themselves (README's install line has
# python3-numpy and python3-pil; lit's own Python may be another one).
def python_with(modules, more=()):
    import subprocess
    for python in [config.python_executable, "/usr/bin/python3"] + list(more):
        try:
            subprocess.run([python, "-c", "import " + ", ".join(modules)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return python
        except (OSError, subprocess.CalledProcessError):
            pass
    return None

# TensorBoard's own event loader reads the tensorboard callback's files back:
# README's set-up command installs it in build/python (a venv).
tensorboard_python = python_with(["tensorboard"],
                                 [os.path.join(config.dlc_obj_root, "python", "bin", "python3")])
if tensorboard_python:
    config.available_features.add("tensorboard")
    config.substitutions.append(("%pytensorboard", tensorboard_python))

# PyTorch, the GPU check's benchmark peer: where one is installed (not on CI),
# the dry run runs the peer on the CPU. DLC_TORCH_PYTHON names its Python.
torch_python = python_with(["torch"], [p for p in [os.environ.get("DLC_TORCH_PYTHON")] if p])
if torch_python:
    config.available_features.add("torch")
config.substitutions.append(("%pytorch", torch_python or "python3"))
config.substitutions.append(("%torch_prefix", "TORCH" if torch_python else "NO-TORCH"))

data_python = python_with(["numpy", "PIL"])
if data_python:
    config.available_features.add("numpy")
    config.substitutions.append(("%pydata", data_python))
