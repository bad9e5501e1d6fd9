/work/main/-webgpu/wasm32-unknown-unknown/release/deps/gemm_c32-cfed67b674dc4418.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-c32-0.19.0/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-c32-0.19.0/src/gemm.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-c32-0.19.0/src/microkernel.rs

/work/main/-webgpu/wasm32-unknown-unknown/release/deps/libgemm_c32-cfed67b674dc4418.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-c32-0.19.0/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-c32-0.19.0/src/gemm.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-c32-0.19.0/src/microkernel.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-c32-0.19.0/src/lib.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-c32-0.19.0/src/gemm.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-c32-0.19.0/src/microkernel.rs:
