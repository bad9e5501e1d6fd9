/work/main/-webgpu/release/deps/dyn_stack_macros-21834b8c3a4c9ce0.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/dyn-stack-macros-0.1.3/src/lib.rs

/work/main/-webgpu/release/deps/libdyn_stack_macros-21834b8c3a4c9ce0.so: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/dyn-stack-macros-0.1.3/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/dyn-stack-macros-0.1.3/src/lib.rs:
