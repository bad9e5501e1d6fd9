/work/main/-webgpu/release/deps/document_features-3f907915fb82cf46.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/document-features-0.2.12/lib.rs

/work/main/-webgpu/release/deps/libdocument_features-3f907915fb82cf46.so: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/document-features-0.2.12/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/document-features-0.2.12/lib.rs:
