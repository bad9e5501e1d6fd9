/work/main/-webgpu/release/deps/seq_macro-0eb44aff7c06a603.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/seq-macro-0.3.6/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/seq-macro-0.3.6/src/parse.rs

/work/main/-webgpu/release/deps/libseq_macro-0eb44aff7c06a603.so: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/seq-macro-0.3.6/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/seq-macro-0.3.6/src/parse.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/seq-macro-0.3.6/src/lib.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/seq-macro-0.3.6/src/parse.rs:
