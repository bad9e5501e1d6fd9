//! Fuzzes the whole load path (protobuf decoding, graph building, folding) and a run with
//! zero-filled inputs of the declared shapes (symbolic dims set to 1). Any panic is a bug.
#![no_main]

use hearth::{Dim, Session, Tensor};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(session) = Session::from_bytes(data) else { return };
    let mut feeds = Vec::new();
    for info in session.inputs() {
        let (Some(dtype), Some(shape)) = (info.dtype, &info.shape) else { return };
        let dims: Vec<usize> = shape
            .iter()
            .map(|d| match d {
                Dim::Known(n) => (*n).min(64),
                _ => 1,
            })
            .collect();
        let Ok(t) = Tensor::zeros(dtype, dims) else { return };
        feeds.push((info.name.clone(), t));
    }
    let refs: Vec<(&str, &Tensor)> = feeds.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let _ = session.run(&refs);
});
