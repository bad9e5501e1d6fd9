/work/main/-webgpu/wasm32-unknown-unknown/release/deps/equivalent-4a499a97a69eaf08.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/equivalent-1.0.3/src/lib.rs

/work/main/-webgpu/wasm32-unknown-unknown/release/deps/libequivalent-4a499a97a69eaf08.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/equivalent-1.0.3/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/equivalent-1.0.3/src/lib.rs:
