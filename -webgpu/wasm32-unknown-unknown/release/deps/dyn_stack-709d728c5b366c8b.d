/work/main/-webgpu/wasm32-unknown-unknown/release/deps/dyn_stack-709d728c5b366c8b.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/dyn-stack-0.13.2/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/dyn-stack-0.13.2/src/alloc.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/dyn-stack-0.13.2/src/mem.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/dyn-stack-0.13.2/src/stack_req.rs

/work/main/-webgpu/wasm32-unknown-unknown/release/deps/libdyn_stack-709d728c5b366c8b.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/dyn-stack-0.13.2/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/dyn-stack-0.13.2/src/alloc.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/dyn-stack-0.13.2/src/mem.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/dyn-stack-0.13.2/src/stack_req.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/dyn-stack-0.13.2/src/lib.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/dyn-stack-0.13.2/src/alloc.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/dyn-stack-0.13.2/src/mem.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/dyn-stack-0.13.2/src/stack_req.rs:
