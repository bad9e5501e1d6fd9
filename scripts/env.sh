# Sourced by the scripts: where caches and build outputs live (outside the clone, so repeated
# runs are incremental), and the tool versions the project pins.
export HEARTH_CACHE="${HEARTH_CACHE:-$HOME/.cache/hearth}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HEARTH_CACHE/target}"
export HEARTH_WASM_TARGET_DIR="${HEARTH_WASM_TARGET_DIR:-$HEARTH_CACHE/target-wasm}"
# Build outputs must land outside the clone: an empty or relative path here once put a 204 MB Cargo
# target folder ("-webgpu/", from "$HEARTH_WASM_TARGET_DIR-webgpu") into a commit. Fail instead.
for _var in HEARTH_CACHE CARGO_TARGET_DIR HEARTH_WASM_TARGET_DIR; do
  case "${!_var}" in
    /?*) ;;
    *) echo "env.sh: $_var must be an absolute path, got '${!_var}'" >&2; exit 2 ;;
  esac
done
unset _var
export PATH="$HOME/.cargo/bin:$HEARTH_CACHE/tools/node_modules/.bin:$PATH"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
mkdir -p "$HEARTH_CACHE"
# The redistributable datasets (../shared/data beside the checkout; /work/shared/data when the
# checkout lives elsewhere, as a CI clone may).
if [ -z "${HEARTH_DATA:-}" ]; then
  for d in "$ROOT/../shared/data" /work/shared/data; do
    if [ -d "$d" ]; then HEARTH_DATA="$(cd "$d" && pwd)"; break; fi
  done
fi
export HEARTH_DATA="${HEARTH_DATA:-$ROOT/../shared/data}"
