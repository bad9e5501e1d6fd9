//! `prepare(m, k, n)` makes an m×k and a k×n matrix; `run()` multiplies them with the selected
//! burn backend and returns one output element (so the work cannot be skipped). Plain C exports:
//! the Node driver (run.mjs) times `run` with performance.now().

use burn_backend::ops::FloatTensorOps;
use burn_backend::TensorData;
use std::cell::RefCell;
use std::future::Future;
use std::task::{Context, Poll, Waker};

#[cfg(feature = "flex")]
type B = burn_flex::Flex;
#[cfg(feature = "ndarray")]
#[allow(deprecated)] // burn 0.22 deprecates ndarray in favour of flex: measured here anyway
type B = burn_ndarray::NdArray;

thread_local! {
    static STATE: RefCell<Option<(burn_backend::tensor::FloatTensor<B>, burn_backend::tensor::FloatTensor<B>)>> = const { RefCell::new(None) };
}

/// CPU backends resolve their futures at once.
fn now<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => unreachable!("a CPU backend future was pending"),
    }
}

fn matrix(rows: usize, cols: usize, seed: u32) -> burn_backend::tensor::FloatTensor<B> {
    let mut s = seed.wrapping_mul(2654435761).max(1);
    let v: Vec<f32> = (0..rows * cols)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s % 2000) as f32 / 1000.0 - 1.0
        })
        .collect();
    B::float_from_data(TensorData::new(v, [rows, cols]), &Default::default())
}

#[no_mangle]
pub extern "C" fn prepare(m: u32, k: u32, n: u32) {
    let a = matrix(m as usize, k as usize, 1);
    let b = matrix(k as usize, n as usize, 2);
    STATE.with(|s| *s.borrow_mut() = Some((a, b)));
}

#[no_mangle]
pub extern "C" fn run() -> f32 {
    STATE.with(|s| {
        let s = s.borrow();
        let (a, b) = s.as_ref().expect("prepare first");
        let c = B::float_matmul(a.clone(), b.clone());
        let data = now(B::float_into_data(c)).expect("into_data");
        data.as_slice::<f32>().map(|v| v[v.len() / 2]).unwrap_or(0.0)
    })
}
