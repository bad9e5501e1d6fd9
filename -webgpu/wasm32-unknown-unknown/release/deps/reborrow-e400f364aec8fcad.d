/work/main/-webgpu/wasm32-unknown-unknown/release/deps/reborrow-e400f364aec8fcad.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/reborrow-0.5.5/src/lib.rs

/work/main/-webgpu/wasm32-unknown-unknown/release/deps/libreborrow-e400f364aec8fcad.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/reborrow-0.5.5/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/reborrow-0.5.5/src/lib.rs:
