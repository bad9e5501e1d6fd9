/work/main/-webgpu/release/deps/cfg_aliases-36c3830c2473071a.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cfg_aliases-0.2.2/src/lib.rs

/work/main/-webgpu/release/deps/libcfg_aliases-36c3830c2473071a.rlib: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cfg_aliases-0.2.2/src/lib.rs

/work/main/-webgpu/release/deps/libcfg_aliases-36c3830c2473071a.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cfg_aliases-0.2.2/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cfg_aliases-0.2.2/src/lib.rs:
