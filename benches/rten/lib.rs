//! Empty: `benches/rten/build.sh` builds the `rten` package's own cdylib (feature `wasm_api`).
