/work/main/-webgpu/wasm32-unknown-unknown/release/deps/rawpointer-5b6dd44374cea9dd.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/rawpointer-0.2.1/src/lib.rs

/work/main/-webgpu/wasm32-unknown-unknown/release/deps/librawpointer-5b6dd44374cea9dd.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/rawpointer-0.2.1/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/rawpointer-0.2.1/src/lib.rs:
