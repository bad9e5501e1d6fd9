#!/usr/bin/env bash
# Installs what building and testing Hearth needs on a fresh Debian machine; skips what is there.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

need_apt=()
command -v brotli >/dev/null || need_apt+=(brotli)
command -v wasm-objdump >/dev/null || need_apt+=(wabt)
command -v python3 >/dev/null || need_apt+=(python3 python3-pip)
# the latest ONNX node-test suite (tests/onnx_node_latest.rs) makes its own venv: Debian splits venv/ensurepip out
python3 -c 'import ensurepip, venv' 2>/dev/null || need_apt+=(python3-venv)
command -v node >/dev/null || need_apt+=(nodejs npm)
# Mesa's lavapipe (a Vulkan driver on the CPU) and the Vulkan loader: the native GPU tests run wgpu on it.
if [ "${HEARTH_GPU_TESTS:-1}" = 1 ]; then
  ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 || need_apt+=(mesa-vulkan-drivers)
  ldconfig -p | grep -q 'libvulkan\.so\.1' || need_apt+=(libvulkan1)
fi
if [ "${HEARTH_BROWSER:-1}" = 1 ]; then
  command -v chromium >/dev/null || need_apt+=(chromium)
  command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: apt-get install ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown; then
  echo "setup: rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# Python packages for the benchmark model generator (onnxruntime checks the models it writes),
# pinned so that a new machine computes the same references as the last one.
py_pkgs=(onnx==1.17.0 numpy==2.4.6 onnxruntime==1.32.0)
if ! python3 - "${py_pkgs[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(any(version(n) != v for n, v in (p.split("==") for p in sys.argv[1:])))
PY
then
  echo "setup: pip install ${py_pkgs[*]}"
  python3 -m pip install --quiet --root-user-action=ignore "${py_pkgs[@]}"
fi

# The exporters of tests/tabular.rs (tools/tabular_models.py trains and converts its models at test
# time), pinned to versions that work with onnx 1.17 / onnxruntime 1.32 and with each other
# (skl2onnx 1.20 converts scikit-learn 1.7; onnxmltools 1.16 writes opset <= 15).
tab_pkgs=(scikit-learn==1.7.2 skl2onnx==1.20.0 onnxmltools==1.16.0 xgboost==3.2.0 lightgbm==4.7.0 pandas==2.3.3)
if ! python3 - "${tab_pkgs[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(any(version(n) != v for n, v in (p.split("==") for p in sys.argv[1:])))
PY
then
  echo "setup: pip install ${tab_pkgs[*]}"
  python3 -m pip install --quiet --root-user-action=ignore "${tab_pkgs[@]}" "${py_pkgs[@]}"
fi

# tests/wild_models.rs: onnxruntime's quantization tools (tools/wild_models.py writes QDQ and dynamic
# int8 versions of the packaged models) import ml_dtypes.
wild_pkgs=(ml_dtypes==0.5.4)
if ! python3 - "${wild_pkgs[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(any(version(n) != v for n, v in (p.split("==") for p in sys.argv[1:])))
PY
then
  echo "setup: pip install ${wild_pkgs[*]}"
  python3 -m pip install --quiet --root-user-action=ignore "${wild_pkgs[@]}" "${py_pkgs[@]}"
fi

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
wb_version=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/, ""); print; exit}' "$ROOT/Cargo.lock")
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wb_version" ]; then
  echo "setup: cargo install wasm-bindgen-cli $wb_version (a few minutes, once)"
  # no --locked: a locked dependency version is missing from the index
  CARGO_TARGET_DIR="$HEARTH_CACHE/target-tools" cargo install -q wasm-bindgen-cli --version "$wb_version"
fi

# wasm-opt: Debian's binaryen (v108) cannot read what rustc 1.95 emits; npm's binaryen can.
if [ ! -x "$HEARTH_CACHE/tools/node_modules/.bin/wasm-opt" ]; then
  echo "setup: npm install binaryen@132.0.0 (wasm-opt) into $HEARTH_CACHE/tools"
  mkdir -p "$HEARTH_CACHE/tools"
  npm install --silent --no-audit --no-fund --prefix "$HEARTH_CACHE/tools" binaryen@132.0.0
fi
