/work/main/-webgpu/wasm32-unknown-unknown/release/deps/gemm-74af1312a7424803.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-0.19.0/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-0.19.0/src/gemm.rs

/work/main/-webgpu/wasm32-unknown-unknown/release/deps/libgemm-74af1312a7424803.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-0.19.0/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-0.19.0/src/gemm.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-0.19.0/src/lib.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-0.19.0/src/gemm.rs:
