/work/main/-webgpu/wasm32-unknown-unknown/release/deps/gemm_c64-4d419515b6b64527.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-c64-0.19.0/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-c64-0.19.0/src/gemm.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-c64-0.19.0/src/microkernel.rs

/work/main/-webgpu/wasm32-unknown-unknown/release/deps/libgemm_c64-4d419515b6b64527.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-c64-0.19.0/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-c64-0.19.0/src/gemm.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-c64-0.19.0/src/microkernel.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-c64-0.19.0/src/lib.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-c64-0.19.0/src/gemm.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/gemm-c64-0.19.0/src/microkernel.rs:
