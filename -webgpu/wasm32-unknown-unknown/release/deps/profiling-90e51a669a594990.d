/work/main/-webgpu/wasm32-unknown-unknown/release/deps/profiling-90e51a669a594990.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/profiling-1.0.18/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/profiling-1.0.18/src/empty_impl.rs

/work/main/-webgpu/wasm32-unknown-unknown/release/deps/libprofiling-90e51a669a594990.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/profiling-1.0.18/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/profiling-1.0.18/src/empty_impl.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/profiling-1.0.18/src/lib.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/profiling-1.0.18/src/empty_impl.rs:
