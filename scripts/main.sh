#!/usr/bin/env bash
# The main job: builds the CPU wasm and runs a real model end to end in Node, printing its
# predictions (purchase propensity on real UCI Online Shoppers sessions); then builds the demo
# site (www/: the shop, with the recommender bundle trained by the CLI on UCI Online Retail, and
# the practice app, with the learning bundle fitted by the CLI on MathE, and the shop's purchase-intent
# model trained on UCI Online Shoppers with its feature spec embedded; one Vite build) and
# serves it on 127.0.0.1 (port $HEARTH_WWW_PORT, default 8080) until stopped.
# HEARTH_WWW_SERVE=0 builds the site without serving it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
HEARTH_BROWSER=0 HEARTH_GPU_TESTS=0 bash scripts/setup.sh
bash scripts/build-wasm.sh
node examples/predict.mjs "$@"

echo "== demo site: build (the shop's recommender and the practice app's learning bundle by the CLI, Vite) =="
npm ci --silent --no-audit --no-fund --prefix www
npm run build --prefix www
if [ "${HEARTH_WWW_SERVE:-1}" = 1 ]; then
  exec node www/scripts/serve.mjs --port "${HEARTH_WWW_PORT:-8080}"
fi
