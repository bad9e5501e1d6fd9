/work/main/-webgpu/wasm32-unknown-unknown/release/deps/pulp_wasm_simd_flag-2c1c3f833511c861.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/pulp-wasm-simd-flag-0.1.1/src/lib.rs

/work/main/-webgpu/wasm32-unknown-unknown/release/deps/libpulp_wasm_simd_flag-2c1c3f833511c861.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/pulp-wasm-simd-flag-0.1.1/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/pulp-wasm-simd-flag-0.1.1/src/lib.rs:
