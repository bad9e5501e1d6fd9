/work/main/-webgpu/release/deps/prost_derive-698e45bdad330b2c.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/prost-derive-0.14.4/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/prost-derive-0.14.4/src/field/mod.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/prost-derive-0.14.4/src/field/group.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/prost-derive-0.14.4/src/field/map.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/prost-derive-0.14.4/src/field/message.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/prost-derive-0.14.4/src/field/oneof.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/prost-derive-0.14.4/src/field/scalar.rs

/work/main/-webgpu/release/deps/libprost_derive-698e45bdad330b2c.so: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/prost-derive-0.14.4/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/prost-derive-0.14.4/src/field/mod.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/prost-derive-0.14.4/src/field/group.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/prost-derive-0.14.4/src/field/map.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/prost-derive-0.14.4/src/field/message.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/prost-derive-0.14.4/src/field/oneof.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/prost-derive-0.14.4/src/field/scalar.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/prost-derive-0.14.4/src/lib.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/prost-derive-0.14.4/src/field/mod.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/prost-derive-0.14.4/src/field/group.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/prost-derive-0.14.4/src/field/map.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/prost-derive-0.14.4/src/field/message.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/prost-derive-0.14.4/src/field/oneof.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/prost-derive-0.14.4/src/field/scalar.rs:
