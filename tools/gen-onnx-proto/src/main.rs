//! Generates `src/onnx/proto.rs` (prost types) from ONNX's `onnx.proto`.
//! Usage: gen-onnx-proto <path/to/onnx.proto> <out-dir>   (see gen.sh)
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (proto, out) = match args.as_slice() {
        [_, p, o] => (p, o),
        _ => {
            eprintln!("usage: gen-onnx-proto <onnx.proto> <out-dir>");
            std::process::exit(2);
        }
    };
    let include = std::path::Path::new(proto).parent().expect("proto has a parent dir");
    std::fs::create_dir_all(out).expect("out dir");
    prost_build::Config::new()
        .out_dir(out)
        .compile_protos(&[proto], &[include])
        .expect("protoc compiles onnx.proto");
}
