#!/usr/bin/env bash
# Sets up lab-bnn on a fresh machine: .venv with the pinned stack, lab-bnn in editable
# mode, the offline Fashion-MNIST data, then `pip check` and a self-check.
# Idempotent: a second run reuses .venv and skips pip when nothing it depends on changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

say() { printf '[install] %s\n' "$*"; }
die() { printf '[install] ERROR: %s\n' "$*" >&2; exit 1; }

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then PYTHON=$candidate; break; fi
  done
fi
[ -n "$PYTHON" ] || die "no python3 found; lab-bnn needs Python 3.11"
py_version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
[ "$py_version" = "3.11" ] || die "$PYTHON is Python $py_version; lab-bnn's stack (TensorFlow 2.19 + larq) needs Python 3.11 (set PYTHON=/path/to/python3.11)"

# TensorFlow's CUDA wheels only where a GPU is actually present.
extras="test"
tf_gpu=""
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q GPU; then
  tf_gpu="tensorflow[and-cuda]==2.19.1"
  say "GPU found: adding TensorFlow's and-cuda extra"
fi

if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
VENV_PY=.venv/bin/python

stamp_file=.venv/.lab-bnn-install-stamp
stamp=$(cat setup.cfg pyproject.toml install_requirements.sh | sha256sum | cut -d' ' -f1)-$tf_gpu
if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ]; then
  say "pinned stack already installed in .venv (unchanged since the last run)"
else
  say "installing the pinned stack and lab-bnn (editable) into .venv"
  # shellcheck disable=SC2086
  "$VENV_PY" -m pip install --disable-pip-version-check -q -e ".[${extras}]" $tf_gpu
  echo "$stamp" >"$stamp_file"
fi

# apt_install PACKAGE CONSEQUENCE: install a Debian package, or say how, when apt-get
# cannot be used here (CONSEQUENCE: what will not work without it).
apt_install() {
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
    say "installing Debian package $1"
    $SUDO apt-get install -y -qq "$1" >/dev/null 2>&1 \
      || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "$1" >/dev/null; } \
      || die "apt-get could not install $1"
  else
    say "WARNING: $1 is not installed and apt-get is not usable here; $2"
    say "  Install it with: sudo apt-get install $1"
  fi
}

# Offline data for the quickstart, the demo and the tests.
fmnist_dir=/usr/share/datasets/fashion-mnist
if [ -f "$fmnist_dir/train-images-idx3-ubyte.gz" ]; then
  say "Fashion-MNIST found in $fmnist_dir"
else
  apt_install dataset-fashion-mnist "or copy the four IDX .gz files into a folder and set LAB_BNN_FASHION_MNIST_DIR to it."
fi

# Headless Chromium renders the charts in tests/visualization.
if command -v chromium >/dev/null 2>&1; then
  say "chromium found: $(command -v chromium)"
else
  apt_install chromium "the chart rendering tests will fail."
fi

# An OpenSSH server on 127.0.0.1 stands in for an ARM board in tests/benchmarks.
if [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null 2>&1; then
  say "OpenSSH found: /usr/sbin/sshd"
else
  apt_install openssh-server "the on-device benchmark tests will fail."
fi

# The engine (our own x86 kernels for LCE's binary ops) is compiled with the system C compiler.
if ! command -v cc >/dev/null 2>&1; then
  ( apt_install gcc "the x86 engine path is unavailable; LCE's paths are used." ) \
    || say "WARNING: no C compiler; the x86 engine path is unavailable, LCE's paths are used"
fi
if command -v cc >/dev/null 2>&1; then
  say "building the engine (benchmarks/engine)"
  "$VENV_PY" -m benchmarks.engine.build >/dev/null 2>&1 \
    || say "WARNING: the engine did not build; the x86 engine path is unavailable and LCE's paths are used (run .venv/bin/python -m benchmarks.engine.build to see why)"
fi

say "pip check"
"$VENV_PY" -m pip check || die "pip check found broken requirements in .venv"

say "self-check"
TF_CPP_MIN_LOG_LEVEL=3 "$VENV_PY" - <<'EOF' || die "self-check failed (see above)"
import lab_bnn  # must come first: it selects legacy Keras before TensorFlow loads
import os
import larq
import larq_compute_engine
import tensorflow as tf
from importlib.metadata import version

assert os.environ.get("TF_USE_LEGACY_KERAS") == "1", "TF_USE_LEGACY_KERAS is not 1"
assert tf.keras.layers.Layer.__module__.startswith("tf_keras."), "tf.keras is not tf-keras (Keras 2)"
layer = larq.layers.QuantConv2D(8, 3, input_quantizer="lab")
for name in ("tensorflow", "tf-keras", "larq", "larq-zoo", "zookeeper",
             "larq-compute-engine", "tflite-runtime", "protobuf", "numpy", "lab-bnn"):
    print(f"[install]   {name:20s} {version(name)}")
print("[install] self-check passed: legacy Keras (tf-keras) in effect",
      "| binarizers:", ", ".join(lab_bnn.quantizers.available()))
EOF
say "done. Activate with: source .venv/bin/activate"
