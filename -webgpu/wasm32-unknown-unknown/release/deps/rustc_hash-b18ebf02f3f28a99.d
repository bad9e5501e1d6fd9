/work/main/-webgpu/wasm32-unknown-unknown/release/deps/rustc_hash-b18ebf02f3f28a99.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/rustc-hash-1.1.0/src/lib.rs

/work/main/-webgpu/wasm32-unknown-unknown/release/deps/librustc_hash-b18ebf02f3f28a99.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/rustc-hash-1.1.0/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/rustc-hash-1.1.0/src/lib.rs:
