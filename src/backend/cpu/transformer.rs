//! CPU kernels of the transformer family, in f32 with f64 sums where a row is reduced.

use super::util::{broadcast_strides, input, norm_axis, opt_input};
use crate::error::{Error, Result};
use crate::ir::ops::transformer::{AttentionAttrs, TransformerOp};
use crate::tensor::{numel_checked, strides, Tensor, TensorData};

pub fn run(op: &TransformerOp, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    let x = input(inputs, 0, "X")?;
    Ok(match op {
        TransformerOp::Attention(a) => attention(a, inputs)?,
        TransformerOp::RotaryEmbedding {
            interleaved,
            num_heads,
            rotary_dim,
        } => vec![rotary(
            x,
            input(inputs, 1, "cos_cache")?,
            input(inputs, 2, "sin_cache")?,
            opt_input(inputs, 3),
            *interleaved,
            *num_heads,
            *rotary_dim,
        )?],
        TransformerOp::RmsNorm { axis, epsilon } => {
            vec![rms_norm(x, input(inputs, 1, "scale")?, *axis, *epsilon)?]
        }
        TransformerOp::LpNorm { axis, p } => vec![lp_norm(x, *axis, *p)?],
        TransformerOp::SwiGlu { alpha } => {
            let b = input(inputs, 1, "B")?;
            if x.shape() != b.shape() {
                return Err(Error::shape(format!(
                    "SwiGLU: A {:?} and B {:?} must have the same shape",
                    x.shape(),
                    b.shape()
                )));
            }
            let v = x
                .as_f32()?
                .iter()
                .zip(b.as_f32()?)
                .map(|(&a, &b)| a / (1.0 + (-alpha * a).exp()) * b)
                .collect();
            vec![Tensor::from_f32(x.shape().to_vec(), v)?]
        }
        TransformerOp::TensorScatter { axis, circular } => vec![tensor_scatter(
            x,
            input(inputs, 1, "update")?,
            opt_input(inputs, 2),
            *axis,
            *circular,
        )?],
    })
}

/// `[B, S, H·D]` → `[B, H, S, D]`.
fn heads_first(v: &[f32], b: usize, s: usize, h: usize, d: usize) -> Vec<f32> {
    let mut out = vec![0.0; v.len()];
    for bi in 0..b {
        for si in 0..s {
            for hi in 0..h {
                let src = ((bi * s + si) * h + hi) * d;
                let dst = ((bi * h + hi) * s + si) * d;
                out[dst..dst + d].copy_from_slice(&v[src..src + d]);
            }
        }
    }
    out
}

/// A Q, K or V input as `[B, H, S, D]` data with its dims.
struct Heads {
    v: Vec<f32>,
    h: usize,
    s: usize,
    d: usize,
}

fn as_heads(t: &Tensor, heads: Option<usize>, what: &str) -> Result<Heads> {
    let sh = t.shape();
    match (sh.len(), heads) {
        (4, _) => Ok(Heads {
            v: t.as_f32()?.to_vec(),
            h: sh[1],
            s: sh[2],
            d: sh[3],
        }),
        (3, Some(h)) if sh[2] % h == 0 => Ok(Heads {
            v: heads_first(t.as_f32()?, sh[0], sh[1], h, sh[2] / h),
            h,
            s: sh[1],
            d: sh[2] / h,
        }),
        (3, _) => Err(Error::shape(format!(
            "Attention: 3-D {what} {sh:?} needs q_num_heads/kv_num_heads dividing its hidden size"
        ))),
        _ => Err(Error::shape(format!(
            "Attention: {what} must be 3-D or 4-D, got {sh:?}"
        ))),
    }
}

/// Concatenates a past cache `[B, H, P, D]` and new values `[B, H, S, D]` on the sequence axis.
fn concat_seq(past: &Tensor, new: &Heads, b: usize, what: &str) -> Result<Heads> {
    let ps = past.shape();
    if ps.len() != 4 || ps[0] != b || ps[1] != new.h || ps[3] != new.d {
        return Err(Error::shape(format!(
            "Attention: {what} {ps:?} does not match [{b}, {}, P, {}]",
            new.h, new.d
        )));
    }
    let p = ps[2];
    let pv = past.as_f32()?;
    let s = p + new.s;
    let mut v = Vec::with_capacity(b * new.h * s * new.d);
    for bh in 0..b * new.h {
        v.extend_from_slice(&pv[bh * p * new.d..(bh + 1) * p * new.d]);
        v.extend_from_slice(&new.v[bh * new.s * new.d..(bh + 1) * new.s * new.d]);
    }
    Ok(Heads {
        v,
        h: new.h,
        s,
        d: new.d,
    })
}

fn attention(a: &AttentionAttrs, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    let (qt, kt, vt) = (
        input(inputs, 0, "Q")?,
        input(inputs, 1, "K")?,
        input(inputs, 2, "V")?,
    );
    if qt.rank() != kt.rank() || qt.rank() != vt.rank() {
        return Err(Error::shape(format!(
            "Attention: Q {:?}, K {:?} and V {:?} must have the same rank",
            qt.shape(),
            kt.shape(),
            vt.shape()
        )));
    }
    let three_d = qt.rank() == 3;
    // as_heads refuses anything but 3-D and 4-D, so the batch dim exists after it
    let q = as_heads(qt, a.q_num_heads, "Q")?;
    let mut k = as_heads(kt, a.kv_num_heads, "K")?;
    let mut v = as_heads(vt, a.kv_num_heads, "V")?;
    let b = qt.shape()[0];
    if kt.shape()[0] != b || vt.shape()[0] != b || k.d != q.d || k.h != v.h || k.s != v.s {
        return Err(Error::shape(format!(
            "Attention: Q {:?}, K {:?} and V {:?} do not fit together",
            qt.shape(),
            kt.shape(),
            vt.shape()
        )));
    }
    if k.h == 0 || q.h % k.h != 0 {
        return Err(Error::shape(format!(
            "Attention: {} query heads are not a multiple of {} key/value heads",
            q.h, k.h
        )));
    }
    let (past_k, past_v) = (opt_input(inputs, 4), opt_input(inputs, 5));
    let nonpad = opt_input(inputs, 6).map(|t| t.to_i64_vec());
    let past_len = match (past_k, past_v) {
        (Some(pk), Some(pv)) => {
            if nonpad.is_some() {
                return Err(Error::shape(
                    "Attention: nonpad_kv_seqlen cannot be used with past_key/past_value",
                ));
            }
            let p = pk.shape().get(2).copied().unwrap_or(0);
            k = concat_seq(pk, &k, b, "past_key")?;
            v = concat_seq(pv, &v, b, "past_value")?;
            p
        }
        (None, None) => 0,
        _ => {
            return Err(Error::shape(
                "Attention: past_key and past_value must be given together",
            ))
        }
    };
    if let Some(n) = &nonpad {
        if n.len() != b {
            return Err(Error::shape(format!(
                "Attention: nonpad_kv_seqlen has {} entries for a batch of {b}",
                n.len()
            )));
        }
    }
    let (hq, sq, d, t, dv) = (q.h, q.s, q.d, k.s, v.d);
    let reps = hq / k.h;
    // the mask, padded on its last axis to t and read with broadcast strides over [B, Hq, Sq, T]
    let mask = opt_input(inputs, 3);
    let mask_view = match mask {
        None => None,
        Some(m) => {
            let ms = m.shape();
            if ms.is_empty() || ms.len() > 4 || ms[ms.len() - 1] > t {
                return Err(Error::shape(format!(
                    "Attention: attn_mask {ms:?} does not broadcast to [{b}, {hq}, {sq}, {t}]"
                )));
            }
            let vals: Vec<f32> = match m.data() {
                TensorData::Bool(bv) => bv
                    .iter()
                    .map(|&x| if x { 0.0 } else { f32::NEG_INFINITY })
                    .collect(),
                TensorData::F32(fv) => fv.clone(),
                _ => {
                    return Err(Error::dtype(format!(
                        "Attention: attn_mask must be bool or float, got {}",
                        m.dtype()
                    )))
                }
            };
            let last = ms[ms.len() - 1];
            let mut padded_shape = ms.to_vec();
            *padded_shape.last_mut().unwrap() = t;
            let rows = vals.len() / last.max(1);
            let mut padded = vec![f32::NEG_INFINITY; rows * t];
            for r in 0..rows {
                padded[r * t..r * t + last].copy_from_slice(&vals[r * last..(r + 1) * last]);
            }
            let full = [b, hq, sq, t];
            let mut sh4 = vec![1usize; 4 - padded_shape.len()];
            sh4.extend_from_slice(&padded_shape);
            for (x, y) in sh4.iter().zip(full) {
                if *x != 1 && *x != y {
                    return Err(Error::shape(format!(
                        "Attention: attn_mask {ms:?} does not broadcast to {full:?}"
                    )));
                }
            }
            Some((padded, broadcast_strides(&sh4, &full)))
        }
    };
    let scale = a.scale.unwrap_or(1.0 / (d as f32).sqrt());
    let sqrt_scale = scale.sqrt();
    let out_shape4 = [b, hq, sq, t];
    numel_checked(&out_shape4)?;
    let mut y = vec![0.0f32; b * hq * sq * dv];
    let mut qk_out = vec![0.0f32; b * hq * sq * t];
    let mut row = vec![0.0f32; t];
    let mut bias = vec![0.0f32; t];
    for bi in 0..b {
        let offset: i64 = match &nonpad {
            Some(n) if past_len == 0 => n[bi] - sq as i64,
            _ => past_len as i64,
        };
        for h in 0..hq {
            let kh = h / reps;
            for i in 0..sq {
                let qrow = &q.v[((bi * hq + h) * sq + i) * d..][..d];
                let p = offset + i as i64;
                for j in 0..t {
                    let krow = &k.v[((bi * k.h + kh) * t + j) * d..][..d];
                    let mut s = 0.0f32;
                    for (x, z) in qrow.iter().zip(krow) {
                        s += (x * sqrt_scale) * (z * sqrt_scale);
                    }
                    if a.softcap > 0.0 {
                        s = a.softcap * (s / a.softcap).tanh();
                    }
                    row[j] = s;
                    let mut bj = 0.0f32;
                    if let Some((mv, st)) = &mask_view {
                        bj += mv[bi * st[0] + h * st[1] + i * st[2] + j * st[3]];
                    }
                    let jj = j as i64;
                    if a.is_causal && jj > p {
                        bj = f32::NEG_INFINITY;
                    }
                    if (a.left_window >= 0 && p - jj > a.left_window)
                        || (a.right_window >= 0 && jj - p > a.right_window)
                    {
                        bj = f32::NEG_INFINITY;
                    }
                    if let Some(n) = &nonpad {
                        if jj >= n[bi] {
                            bj = f32::NEG_INFINITY;
                        }
                    }
                    bias[j] = bj;
                }
                let qk = &mut qk_out[((bi * hq + h) * sq + i) * t..][..t];
                if a.qk_mode <= 1 {
                    qk.copy_from_slice(&row);
                }
                for j in 0..t {
                    row[j] += bias[j];
                }
                if a.qk_mode == 2 {
                    qk.copy_from_slice(&row);
                }
                // softmax; a row whose bias masks every key is zero (not NaN)
                let all_masked = bias.iter().all(|&x| x == f32::NEG_INFINITY);
                let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let m = if m == f32::NEG_INFINITY { 0.0 } else { m };
                let mut sum = 0.0f64;
                for x in row.iter_mut() {
                    *x = (*x - m).exp();
                    sum += *x as f64;
                }
                let sum = if sum == 0.0 { 1.0 } else { sum };
                for x in row.iter_mut() {
                    *x = if all_masked {
                        0.0
                    } else {
                        (*x as f64 / sum) as f32
                    };
                }
                if a.qk_mode == 3 {
                    qk.copy_from_slice(&row);
                }
                let yrow = &mut y[((bi * hq + h) * sq + i) * dv..][..dv];
                for (j, &w) in row.iter().enumerate() {
                    if w != 0.0 {
                        let vrow = &v.v[((bi * v.h + kh) * t + j) * dv..][..dv];
                        for (o, &x) in yrow.iter_mut().zip(vrow) {
                            *o += w * x;
                        }
                    }
                }
            }
        }
    }
    let y = if three_d {
        // [B, Hq, Sq, Dv] → [B, Sq, Hq·Dv]
        let mut out = vec![0.0; y.len()];
        for bi in 0..b {
            for h in 0..hq {
                for i in 0..sq {
                    let src = ((bi * hq + h) * sq + i) * dv;
                    let dst = ((bi * sq + i) * hq + h) * dv;
                    out[dst..dst + dv].copy_from_slice(&y[src..src + dv]);
                }
            }
        }
        Tensor::from_f32(vec![b, sq, hq * dv], out)?
    } else {
        Tensor::from_f32(vec![b, hq, sq, dv], y)?
    };
    Ok(vec![
        y,
        Tensor::from_f32(vec![b, k.h, t, d], k.v)?,
        Tensor::from_f32(vec![b, v.h, t, dv], v.v)?,
        Tensor::from_f32(out_shape4.to_vec(), qk_out)?,
    ])
}

fn rotary(
    x: &Tensor,
    cos: &Tensor,
    sin: &Tensor,
    pos: Option<&Tensor>,
    interleaved: bool,
    num_heads: Option<usize>,
    rotary_dim: usize,
) -> Result<Tensor> {
    let sh = x.shape();
    // view as [B, S, H, D] through strides, whatever the layout
    let (b, s, h, d, st) = match (sh.len(), num_heads) {
        (4, _) => {
            let (b, h, s, d) = (sh[0], sh[1], sh[2], sh[3]);
            (b, s, h, d, [h * s * d, d, s * d])
        }
        (3, Some(h)) if sh[2] % h == 0 => {
            let (b, s, d) = (sh[0], sh[1], sh[2] / h);
            (b, s, h, d, [s * h * d, h * d, d])
        }
        _ => {
            return Err(Error::shape(format!(
                "RotaryEmbedding: X {sh:?} must be [B, H, S, D], or [B, S, H·D] with num_heads"
            )))
        }
    };
    let rd = if rotary_dim == 0 { d } else { rotary_dim };
    if rd > d || rd % 2 != 0 {
        return Err(Error::shape(format!(
            "RotaryEmbedding: rotary dim {rd} for a head size of {d}"
        )));
    }
    let half = rd / 2;
    let (cv, sv) = (cos.as_f32()?, sin.as_f32()?);
    if cos.shape() != sin.shape() || cos.shape().last() != Some(&half) {
        return Err(Error::shape(format!(
            "RotaryEmbedding: cos_cache {:?} and sin_cache {:?} must end in {half}",
            cos.shape(),
            sin.shape()
        )));
    }
    // the cache row of (batch, position)
    let rows = cv.len() / half.max(1);
    let row_of = |bi: usize, si: usize| -> Result<usize> {
        match pos {
            Some(p) => {
                let pv = p.to_i64_vec();
                let r = *pv.get(bi * s + si).ok_or_else(|| {
                    Error::shape(format!(
                        "RotaryEmbedding: position_ids {:?} is not [{b}, {s}]",
                        p.shape()
                    ))
                })?;
                if r < 0 || r as usize >= rows {
                    return Err(Error::shape(format!(
                        "RotaryEmbedding: position {r} is out of range [0, {rows})"
                    )));
                }
                Ok(r as usize)
            }
            None if rows == b * s => Ok(bi * s + si),
            None => Err(Error::shape(format!(
                "RotaryEmbedding: without position_ids the caches must be [{b}, {s}, {half}], got {:?}",
                cos.shape()
            ))),
        }
    };
    let xv = x.as_f32()?;
    let mut out = xv.to_vec();
    for bi in 0..b {
        for si in 0..s {
            let r = row_of(bi, si)?;
            let (c, sn) = (&cv[r * half..(r + 1) * half], &sv[r * half..(r + 1) * half]);
            for hi in 0..h {
                let base = bi * st[0] + si * st[1] + hi * st[2];
                for k in 0..half {
                    let (i1, i2) = if interleaved {
                        (base + 2 * k, base + 2 * k + 1)
                    } else {
                        (base + k, base + k + half)
                    };
                    let (x1, x2) = (xv[i1], xv[i2]);
                    out[i1] = c[k] * x1 - sn[k] * x2;
                    out[i2] = sn[k] * x1 + c[k] * x2;
                }
            }
        }
    }
    Tensor::from_f32(sh.to_vec(), out)
}

fn rms_norm(x: &Tensor, scale: &Tensor, axis: i64, eps: f32) -> Result<Tensor> {
    let a = norm_axis(axis, x.rank())?;
    let sh = x.shape();
    let inner: usize = sh[a..].iter().product();
    let outer: usize = sh[..a].iter().product();
    let out_shape = super::util::broadcast_shape(sh, scale.shape())?;
    if out_shape != sh {
        return Err(Error::shape(format!(
            "RMSNormalization: scale {:?} does not broadcast to X {sh:?}",
            scale.shape()
        )));
    }
    let sst = broadcast_strides(scale.shape(), sh);
    let xst = strides(sh);
    let (xv, sv) = (x.as_f32()?, scale.as_f32()?);
    let mut out = vec![0.0f32; xv.len()];
    for o in 0..outer {
        let row = &xv[o * inner..(o + 1) * inner];
        let ms = row.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>() / inner.max(1) as f64;
        let inv = 1.0 / (ms + eps as f64).sqrt();
        for (k, &v) in row.iter().enumerate() {
            let flat = o * inner + k;
            let so: usize = (0..sh.len())
                .map(|dd| (flat / xst[dd]) % sh[dd] * sst[dd])
                .sum();
            out[flat] = ((v as f64 * inv) as f32) * sv[so];
        }
    }
    Tensor::from_f32(sh.to_vec(), out)
}

fn lp_norm(x: &Tensor, axis: i64, p: u8) -> Result<Tensor> {
    let a = norm_axis(axis, x.rank())?;
    let sh = x.shape();
    let (outer, len, inner) = (
        sh[..a].iter().product::<usize>(),
        sh[a],
        sh[a + 1..].iter().product::<usize>(),
    );
    let xv = x.as_f32()?;
    let mut out = vec![0.0f32; xv.len()];
    for o in 0..outer {
        for i in 0..inner {
            let at = |j: usize| (o * len + j) * inner + i;
            let n: f64 = if p == 1 {
                (0..len).map(|j| (xv[at(j)] as f64).abs()).sum()
            } else {
                (0..len)
                    .map(|j| (xv[at(j)] as f64).powi(2))
                    .sum::<f64>()
                    .sqrt()
            };
            for j in 0..len {
                out[at(j)] = if n == 0.0 {
                    0.0
                } else {
                    (xv[at(j)] as f64 / n) as f32
                };
            }
        }
    }
    Tensor::from_f32(sh.to_vec(), out)
}

fn tensor_scatter(
    past: &Tensor,
    update: &Tensor,
    idx: Option<&Tensor>,
    axis: i64,
    circular: bool,
) -> Result<Tensor> {
    let r = past.rank();
    let a = norm_axis(axis, r)?;
    let (ps, us) = (past.shape(), update.shape());
    if a == 0 || us.len() != r || (0..r).any(|d| d != a && ps[d] != us[d]) || us[a] > ps[a] {
        return Err(Error::shape(format!(
            "TensorScatter: update {us:?} does not fit cache {ps:?} on axis {axis} (not the batch axis)"
        )));
    }
    if past.dtype() != update.dtype() {
        return Err(Error::dtype(format!(
            "TensorScatter: update is {}, the cache {}",
            update.dtype(),
            past.dtype()
        )));
    }
    let b = ps[0];
    let starts = match idx {
        Some(t) => t.to_i64_vec(),
        None => vec![0; b],
    };
    if starts.len() != b {
        return Err(Error::shape(format!(
            "TensorScatter: write_indices has {} entries for a batch of {b}",
            starts.len()
        )));
    }
    let (max_s, s) = (ps[a], us[a]);
    let inner: usize = ps[a + 1..].iter().product();
    let mid: usize = ps[1..a].iter().product();
    let mut dst_rows = Vec::with_capacity(b * mid * s);
    for (bi, &w) in starts.iter().enumerate() {
        for m in 0..mid {
            for si in 0..s {
                let mut c = w + si as i64;
                if circular {
                    c = c.rem_euclid(max_s as i64);
                }
                if c < 0 || c as usize >= max_s {
                    return Err(Error::shape(format!(
                        "TensorScatter: write position {c} is outside the cache's {max_s} (linear mode)"
                    )));
                }
                dst_rows.push(((bi * mid + m) * max_s + c as usize) * inner);
            }
        }
    }
    let mut out = past.clone();
    macro_rules! go {
        ($o:expr, $u:expr) => {{
            for (k, &d) in dst_rows.iter().enumerate() {
                $o[d..d + inner].copy_from_slice(&$u[k * inner..(k + 1) * inner]);
            }
        }};
    }
    match (out.data_mut(), update.data()) {
        (TensorData::F32(o), TensorData::F32(u)) => go!(o, u),
        (TensorData::I64(o), TensorData::I64(u)) => go!(o, u),
        (TensorData::I32(o), TensorData::I32(u)) => go!(o, u),
        (TensorData::I8(o), TensorData::I8(u)) => go!(o, u),
        (TensorData::U8(o), TensorData::U8(u)) => go!(o, u),
        (TensorData::Bool(o), TensorData::Bool(u)) => go!(o, u),
        _ => return Err(Error::dtype("TensorScatter: unsupported dtype")),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Attention against a scalar f64 reference: softmax(Q·Kᵀ/√d + causal) · V.
    #[test]
    fn attention_matches_a_scalar_reference() {
        let mut rng = crate::testing::Rng::new(21);
        let (b, h, s, d) = (1, 2, 3, 4);
        let q = rng.tensor(&[b, h, s, d], -1.0, 1.0);
        let k = rng.tensor(&[b, h, s, d], -1.0, 1.0);
        let v = rng.tensor(&[b, h, s, d], -1.0, 1.0);
        let a = AttentionAttrs {
            is_causal: true,
            q_num_heads: None,
            kv_num_heads: None,
            scale: None,
            softcap: 0.0,
            qk_mode: 0,
            left_window: -1,
            right_window: -1,
        };
        let out = attention(&a, &[Some(&q), Some(&k), Some(&v)]).unwrap();
        let (qv, kv, vv) = (
            q.as_f32().unwrap(),
            k.as_f32().unwrap(),
            v.as_f32().unwrap(),
        );
        for hh in 0..h {
            for i in 0..s {
                let mut w: Vec<f64> = (0..=i)
                    .map(|j| {
                        (0..d)
                            .map(|c| {
                                qv[(hh * s + i) * d + c] as f64 * kv[(hh * s + j) * d + c] as f64
                            })
                            .sum::<f64>()
                            / (d as f64).sqrt()
                    })
                    .collect();
                let m = w.iter().cloned().fold(f64::MIN, f64::max);
                let z: f64 = w.iter().map(|x| (x - m).exp()).sum();
                w.iter_mut().for_each(|x| *x = (*x - m).exp() / z);
                for c in 0..d {
                    let want: f64 = (0..=i)
                        .map(|j| w[j] * vv[(hh * s + j) * d + c] as f64)
                        .sum();
                    let got = out[0].as_f32().unwrap()[(hh * s + i) * d + c] as f64;
                    assert!((got - want).abs() < 1e-5, "{got} vs {want}");
                }
            }
        }
    }

    #[test]
    fn rotary_rotates_pairs_and_rms_normalises() {
        // one head of size 2 at angle θ: (x1, x2) → (x1 cos − x2 sin, x1 sin + x2 cos)
        let x = Tensor::from_f32(vec![1, 1, 1, 2], vec![1.0, 0.0]).unwrap();
        let (c, s) = (0.6f32, 0.8f32);
        let cos = Tensor::from_f32(vec![1, 1], vec![c]).unwrap();
        let sin = Tensor::from_f32(vec![1, 1], vec![s]).unwrap();
        let pos = Tensor::from_i64(vec![1, 1], vec![0]).unwrap();
        let y = rotary(&x, &cos, &sin, Some(&pos), false, None, 0).unwrap();
        assert_eq!(y.as_f32().unwrap(), &[0.6, 0.8]);
        let x = Tensor::from_f32(vec![1, 2], vec![3.0, 4.0]).unwrap();
        let one = Tensor::from_f32(vec![2], vec![1.0, 2.0]).unwrap();
        let y = rms_norm(&x, &one, -1, 0.0).unwrap();
        let r = (12.5f32).sqrt();
        assert!((y.as_f32().unwrap()[1] - 8.0 / r).abs() < 1e-6);
    }
}
