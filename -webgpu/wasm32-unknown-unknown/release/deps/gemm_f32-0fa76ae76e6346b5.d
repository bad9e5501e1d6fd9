/work/main/-webgpu/wasm32-unknown-unknown/release/deps/gemm_f32-0fa76ae76e6346b5.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-f32-0.19.0/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-f32-0.19.0/src/gemm.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-f32-0.19.0/src/microkernel.rs

/work/main/-webgpu/wasm32-unknown-unknown/release/deps/libgemm_f32-0fa76ae76e6346b5.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-f32-0.19.0/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-f32-0.19.0/src/gemm.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-f32-0.19.0/src/microkernel.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-f32-0.19.0/src/lib.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-f32-0.19.0/src/gemm.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-f32-0.19.0/src/microkernel.rs:
