/work/main/-webgpu/wasm32-unknown-unknown/release/deps/wasm_bindgen_futures-07afda633a41e2bb.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/wasm-bindgen-futures-0.4.80/src/lib.rs

/work/main/-webgpu/wasm32-unknown-unknown/release/deps/libwasm_bindgen_futures-07afda633a41e2bb.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/wasm-bindgen-futures-0.4.80/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/wasm-bindgen-futures-0.4.80/src/lib.rs:
