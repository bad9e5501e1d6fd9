#!/usr/bin/env bash
# The main job: builds the CPU wasm and runs a real model end to end in Node, printing its
# predictions (purchase propensity on real UCI Online Shoppers sessions).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
HEARTH_BROWSER=0 bash scripts/setup.sh
bash scripts/build-wasm.sh
node examples/predict.mjs "$@"
