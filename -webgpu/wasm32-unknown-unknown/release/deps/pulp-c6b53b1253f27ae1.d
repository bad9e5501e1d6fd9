/work/main/-webgpu/wasm32-unknown-unknown/release/deps/pulp-c6b53b1253f27ae1.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/pulp-0.22.3/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/pulp-0.22.3/src/core_arch/mod.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/pulp-0.22.3/src/core_arch/wasm/mod.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/pulp-0.22.3/src/wasm.rs

/work/main/-webgpu/wasm32-unknown-unknown/release/deps/libpulp-c6b53b1253f27ae1.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/pulp-0.22.3/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/pulp-0.22.3/src/core_arch/mod.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/pulp-0.22.3/src/core_arch/wasm/mod.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/pulp-0.22.3/src/wasm.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/pulp-0.22.3/src/lib.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/pulp-0.22.3/src/core_arch/mod.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/pulp-0.22.3/src/core_arch/wasm/mod.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/pulp-0.22.3/src/wasm.rs:
