/work/main/-webgpu/wasm32-unknown-unknown/release/deps/safetensors-f429515ddd1186f0.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/safetensors-0.8.0/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/safetensors-0.8.0/src/slice.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/safetensors-0.8.0/src/tensor.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/safetensors-0.8.0/src/../README.md

/work/main/-webgpu/wasm32-unknown-unknown/release/deps/libsafetensors-f429515ddd1186f0.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/safetensors-0.8.0/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/safetensors-0.8.0/src/slice.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/safetensors-0.8.0/src/tensor.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/safetensors-0.8.0/src/../README.md

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/safetensors-0.8.0/src/lib.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/safetensors-0.8.0/src/slice.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/safetensors-0.8.0/src/tensor.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/safetensors-0.8.0/src/../README.md:
