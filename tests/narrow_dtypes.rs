//! int16, uint16, uint32, uint64 and bfloat16 through a session: they are computed in a wider
//! dtype (`DType::compute`), and a value of a narrow dtype wraps to its range after every node,
//! so chains of ops agree with the same arithmetic done in that dtype (the scalar twins here).

mod common;

use common::{model, node, value_info};
use hearth::{DType, Session, Tensor, TensorData};

fn tensor(data: TensorData) -> Tensor {
    let n = data.len();
    Tensor::new(vec![n], data).unwrap()
}

#[test]
fn uint16_overflow_wraps_between_nodes() {
    // y = (a + b) / c in uint16: the sum wraps before the division
    let bytes = model(
        vec![
            node("Add", &["a", "b"], &["s"]),
            node("Div", &["s", "c"], &["y"]),
        ],
        vec![],
        vec![
            value_info("a", 4, &[Ok(4)]),
            value_info("b", 4, &[Ok(4)]),
            value_info("c", 4, &[Ok(4)]),
        ],
        vec![value_info("y", 4, &[Ok(4)])],
    );
    let s = Session::from_bytes(&bytes).unwrap();
    let (a, b, c) = (
        vec![65535u16, 40000, 7, 65000],
        vec![3u16, 30000, 9, 1000],
        vec![2u16, 3, 4, 5],
    );
    let out = s
        .run(&[
            ("a", &tensor(TensorData::U16(a.clone()))),
            ("b", &tensor(TensorData::U16(b.clone()))),
            ("c", &tensor(TensorData::U16(c.clone()))),
        ])
        .unwrap();
    let want: Vec<u16> = (0..4).map(|i| a[i].wrapping_add(b[i]) / c[i]).collect();
    assert_eq!(out[0].dtype(), DType::U16);
    assert_eq!(out[0].data(), &TensorData::U16(want));
}

#[test]
fn int16_and_uint32_wrap_like_their_dtype() {
    // int16: y = a * b - c (wrapping); uint32: z = (p * q) mod r
    let bytes = model(
        vec![
            node("Mul", &["a", "b"], &["ab"]),
            node("Sub", &["ab", "c"], &["y"]),
            node("Mul", &["p", "q"], &["pq"]),
            node("Mod", &["pq", "r"], &["z"]),
        ],
        vec![],
        vec![
            value_info("a", 5, &[Ok(3)]),
            value_info("b", 5, &[Ok(3)]),
            value_info("c", 5, &[Ok(3)]),
            value_info("p", 12, &[Ok(3)]),
            value_info("q", 12, &[Ok(3)]),
            value_info("r", 12, &[Ok(3)]),
        ],
        vec![value_info("y", 5, &[Ok(3)]), value_info("z", 12, &[Ok(3)])],
    );
    let s = Session::from_bytes(&bytes).unwrap();
    let (a, b, c) = (
        vec![300i16, -200, 7],
        vec![200i16, 300, -9],
        vec![-32768i16, 5, 32767],
    );
    let (p, q, r) = (
        vec![4_000_000_000u32, 65537, 3],
        vec![3u32, 65537, 5],
        vec![1_000_003u32, 97, 4],
    );
    let out = s
        .run(&[
            ("a", &tensor(TensorData::I16(a.clone()))),
            ("b", &tensor(TensorData::I16(b.clone()))),
            ("c", &tensor(TensorData::I16(c.clone()))),
            ("p", &tensor(TensorData::U32(p.clone()))),
            ("q", &tensor(TensorData::U32(q.clone()))),
            ("r", &tensor(TensorData::U32(r.clone()))),
        ])
        .unwrap();
    let y: Vec<i16> = (0..3)
        .map(|i| a[i].wrapping_mul(b[i]).wrapping_sub(c[i]))
        .collect();
    let z: Vec<u32> = (0..3).map(|i| p[i].wrapping_mul(q[i]) % r[i]).collect();
    assert_eq!(out[0].data(), &TensorData::I16(y));
    assert_eq!(out[1].data(), &TensorData::U32(z));
}

#[test]
fn uint64_bits_and_casts_round_trip() {
    // bitwise ops keep all 64 bits; Cast to uint16 wraps; Cast to bfloat16 rounds to nearest even
    let bytes = model(
        vec![
            node("BitwiseXor", &["u", "v"], &["x"]),
            {
                let mut n = node("Cast", &["u"], &["w"]);
                n.attribute = vec![common::int_attr("to", 4)];
                n.name = Some("cast_u16".into());
                n
            },
            {
                let mut n = node("Cast", &["f"], &["h"]);
                n.attribute = vec![common::int_attr("to", 16)];
                n.name = Some("cast_bf16".into());
                n
            },
        ],
        vec![],
        vec![
            value_info("u", 13, &[Ok(3)]),
            value_info("v", 13, &[Ok(3)]),
            value_info("f", 1, &[Ok(3)]),
        ],
        vec![
            value_info("x", 13, &[Ok(3)]),
            value_info("w", 4, &[Ok(3)]),
            value_info("h", 16, &[Ok(3)]),
        ],
    );
    let s = Session::from_bytes(&bytes).unwrap();
    let u = vec![u64::MAX, 1 << 63, 0x1234_5678_9abc_def0];
    let v = vec![0x0f0f_0f0f_0f0f_0f0f, 1, u64::MAX];
    let f = vec![1.0f32 + 1.0 / 256.0, 1.0 + 3.0 / 256.0, -(245.0 / 512.0)];
    let out = s
        .run(&[
            ("u", &tensor(TensorData::U64(u.clone()))),
            ("v", &tensor(TensorData::U64(v.clone()))),
            ("f", &Tensor::from_f32(vec![3], f.clone()).unwrap()),
        ])
        .unwrap();
    let x: Vec<u64> = u.iter().zip(&v).map(|(a, b)| a ^ b).collect();
    let w: Vec<u16> = u.iter().map(|&a| a as u16).collect();
    let h: Vec<half::bf16> = f.iter().map(|&a| half::bf16::from_f32(a)).collect();
    assert_eq!(out[0].data(), &TensorData::U64(x));
    assert_eq!(out[1].data(), &TensorData::U16(w));
    assert_eq!(out[2].data(), &TensorData::BF16(h.clone()));
    // ties go to even: 1 + 1/256 → 1, 1 + 3/256 → 1 + 4/256
    assert_eq!(h[0].to_f32(), 1.0);
    assert_eq!(h[1].to_f32(), 1.0 + 4.0 / 256.0);
}
