//! Item factors trained elsewhere: CSV (`id,f0,f1,…`), NumPy `.npy` (2-D float32/float64, rows
//! in the order of an ids file or of the catalog), or Spark ALS's `itemFactors` (columns `id`,
//! `features: array<float>`) written as Parquet (`df.write.parquet`, snappy or uncompressed) or
//! JSON lines (`df.write.json`: `{"id": 85123, "features": [..]}`).

use crate::error::{Error, Result};
use std::collections::HashMap;

/// Imported factors: ids (in row order) and row-major values.
pub struct Imported {
    pub ids: Vec<String>,
    pub dim: usize,
    pub values: Vec<f32>,
}

fn arg(msg: String) -> Error {
    Error::Argument(msg)
}

fn push_row(out: &mut Imported, id: String, row: Vec<f32>, what: &str) -> Result<()> {
    if out.ids.is_empty() {
        out.dim = row.len();
    }
    if row.len() != out.dim || row.is_empty() {
        return Err(arg(format!(
            "{what}: item '{id}' has {} factors, expected {}",
            row.len(),
            out.dim
        )));
    }
    if let Some(v) = row.iter().find(|v| !v.is_finite()) {
        return Err(arg(format!(
            "{what}: item '{id}' has a non-finite factor {v}"
        )));
    }
    out.ids.push(id);
    out.values.extend(row);
    Ok(())
}

/// `id,f0,f1,…` with or without a header row.
pub fn from_csv(text: &str) -> Result<Imported> {
    let mut out = Imported {
        ids: vec![],
        dim: 0,
        values: vec![],
    };
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut f = line.split(',');
        let id = f.next().unwrap_or("").trim().trim_matches('"').to_string();
        let row: std::result::Result<Vec<f32>, _> = f.map(|x| x.trim().parse::<f32>()).collect();
        match row {
            Ok(row) => push_row(&mut out, id, row, &format!("CSV line {}", n + 1))?,
            Err(_) if n == 0 => continue, // header
            Err(e) => return Err(arg(format!("CSV line {}: {e}", n + 1))),
        }
    }
    Ok(out)
}

/// Spark ALS `itemFactors` as JSON lines: `{"id": …, "features": […]}`.
pub fn from_json_lines(text: &str) -> Result<Imported> {
    let mut out = Imported {
        ids: vec![],
        dim: 0,
        values: vec![],
    };
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| arg(format!("JSON line {}: {e}", n + 1)))?;
        let id = match &v["id"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(x) => x.to_string(),
            _ => return Err(arg(format!("JSON line {}: no \"id\"", n + 1))),
        };
        let feats = v["features"]
            .as_array()
            .ok_or_else(|| arg(format!("JSON line {}: no \"features\" array", n + 1)))?;
        let row: Option<Vec<f32>> = feats.iter().map(|x| x.as_f64().map(|f| f as f32)).collect();
        push_row(
            &mut out,
            id,
            row.ok_or_else(|| arg(format!("JSON line {}: non-numeric feature", n + 1)))?,
            &format!("JSON line {}", n + 1),
        )?;
    }
    Ok(out)
}

/// Spark ALS `itemFactors` as a Parquet file: an integer or string `id` column and a
/// `features` list of floats/doubles.
pub fn from_parquet(bytes: Vec<u8>) -> Result<Imported> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    let reader = SerializedFileReader::new(bytes::Bytes::from(bytes))
        .map_err(|e| arg(format!("Parquet: {e}")))?;
    let rows = reader
        .get_row_iter(None)
        .map_err(|e| arg(format!("Parquet: {e}")))?;
    let mut out = Imported {
        ids: vec![],
        dim: 0,
        values: vec![],
    };
    for (n, row) in rows.enumerate() {
        let row = row.map_err(|e| arg(format!("Parquet row {n}: {e}")))?;
        let (mut id, mut feats) = (None, None);
        for (name, f) in row.get_column_iter() {
            match (name.as_str(), f) {
                ("id", Field::Int(v)) => id = Some(v.to_string()),
                ("id", Field::Long(v)) => id = Some(v.to_string()),
                ("id", Field::Str(v)) => id = Some(v.clone()),
                ("features", Field::ListInternal(l)) => {
                    let v: Option<Vec<f32>> = l
                        .elements()
                        .iter()
                        .map(|e| match e {
                            Field::Float(x) => Some(*x),
                            Field::Double(x) => Some(*x as f32),
                            _ => None,
                        })
                        .collect();
                    feats = Some(v.ok_or_else(|| {
                        arg(format!(
                            "Parquet row {n}: features must be floats or doubles"
                        ))
                    })?);
                }
                _ => {}
            }
        }
        let id =
            id.ok_or_else(|| arg(format!("Parquet row {n}: no int/long/string 'id' column")))?;
        let feats =
            feats.ok_or_else(|| arg(format!("Parquet row {n}: no 'features' list column")))?;
        push_row(&mut out, id, feats, &format!("Parquet row {n}"))?;
    }
    Ok(out)
}

/// A 2-D little-endian float32/float64 C-order `.npy`; `ids` name the rows.
pub fn from_npy(bytes: &[u8], ids: Vec<String>) -> Result<Imported> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(arg("not a .npy file (missing \\x93NUMPY magic)".into()));
    }
    let (hlen, hstart) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(arg(format!(".npy version {v} is not supported"))),
    };
    let header = bytes
        .get(hstart..hstart + hlen)
        .ok_or_else(|| arg(".npy header is truncated".into()))?;
    let header = String::from_utf8_lossy(header);
    let field = |k: &str| header.find(k).map(|i| &header[i + k.len()..]);
    let descr = field("'descr':").ok_or_else(|| arg(".npy header has no descr".into()))?;
    let elem = if descr.trim_start().starts_with("'<f4'") {
        4
    } else if descr.trim_start().starts_with("'<f8'") {
        8
    } else {
        return Err(arg(format!(
            ".npy dtype {} is not supported: save float32 or float64",
            descr.split(',').next().unwrap_or("")
        )));
    };
    if field("'fortran_order':").is_some_and(|f| f.trim_start().starts_with("True")) {
        return Err(arg(
            ".npy is Fortran-ordered: save with np.ascontiguousarray".into(),
        ));
    }
    let shape = field("'shape':").ok_or_else(|| arg(".npy header has no shape".into()))?;
    let inner = &shape[shape.find('(').unwrap_or(0) + 1..shape.find(')').unwrap_or(0)];
    let dims: Vec<usize> = inner
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().unwrap_or(usize::MAX))
        .collect();
    if dims.len() != 2 || dims.iter().any(|d| *d == usize::MAX || *d == 0) {
        return Err(arg(format!(
            ".npy shape ({inner}) must be 2-D: items × factors"
        )));
    }
    let (n, d) = (dims[0], dims[1]);
    let data = &bytes[hstart + hlen..];
    if data.len()
        != n.checked_mul(d)
            .and_then(|x| x.checked_mul(elem))
            .unwrap_or(usize::MAX)
    {
        return Err(arg(format!(
            ".npy holds {} data bytes, shape ({n}, {d}) needs {}",
            data.len(),
            n * d * elem
        )));
    }
    if ids.len() != n {
        return Err(arg(format!(
            ".npy has {n} rows but {} ids were given",
            ids.len()
        )));
    }
    let mut out = Imported {
        ids: vec![],
        dim: d,
        values: Vec::with_capacity(n * d),
    };
    for (r, id) in ids.into_iter().enumerate() {
        let row: Vec<f32> = (0..d)
            .map(|c| {
                let o = (r * d + c) * elem;
                if elem == 4 {
                    f32::from_le_bytes(data[o..o + 4].try_into().expect("4 bytes"))
                } else {
                    f64::from_le_bytes(data[o..o + 8].try_into().expect("8 bytes")) as f32
                }
            })
            .collect();
        push_row(&mut out, id, row, ".npy")?;
    }
    Ok(out)
}

/// Reorders imported rows to follow `catalog_ids`; items without factors get zero rows (never
/// recommended), factors for ids outside the catalog are counted and dropped.
pub fn align(imp: &Imported, catalog_ids: &[String]) -> (Vec<f32>, usize, usize) {
    let pos: HashMap<&str, usize> = imp
        .ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let d = imp.dim;
    let mut out = vec![0f32; catalog_ids.len() * d];
    let mut missing = 0;
    for (j, id) in catalog_ids.iter().enumerate() {
        match pos.get(id.as_str()) {
            Some(&r) => out[j * d..(j + 1) * d].copy_from_slice(&imp.values[r * d..(r + 1) * d]),
            None => missing += 1,
        }
    }
    let known: std::collections::HashSet<&str> = catalog_ids.iter().map(String::as_str).collect();
    let dropped = imp
        .ids
        .iter()
        .filter(|id| !known.contains(id.as_str()))
        .count();
    (out, missing, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_csv_jsonl_and_npy() {
        let c = from_csv("id,f0,f1\nA,1,2\nB,3,4.5\n").unwrap();
        assert_eq!(
            (c.ids.clone(), c.dim, c.values.clone()),
            (
                vec!["A".to_string(), "B".into()],
                2,
                vec![1.0, 2.0, 3.0, 4.5]
            )
        );
        assert!(from_csv("A,1,2\nB,3\n")
            .err()
            .unwrap()
            .to_string()
            .contains("expected 2"));
        let j = from_json_lines(
            "{\"id\":85123,\"features\":[0.5,-1]}\n{\"id\":\"X\",\"features\":[1,2]}\n",
        )
        .unwrap();
        assert_eq!(j.ids, vec!["85123".to_string(), "X".into()]);
        // a real numpy v1 header for float32 (2, 3)
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        let mut h = header.to_string();
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend((h.len() as u16).to_le_bytes());
        b.extend(h.as_bytes());
        for v in [1f32, 2., 3., 4., 5., 6.] {
            b.extend(v.to_le_bytes());
        }
        let n = from_npy(&b, vec!["a".into(), "b".into()]).unwrap();
        assert_eq!((n.dim, n.values.clone()), (3, vec![1., 2., 3., 4., 5., 6.]));
        assert!(from_npy(&b[..b.len() - 4], vec!["a".into(), "b".into()]).is_err());
        assert!(from_npy(&b, vec!["a".into()]).is_err());
        let (rows, missing, dropped) = align(&n, &["b".to_string(), "z".into()]);
        // Spark-style itemFactors written by pyarrow (tools/gen_parquet_fixture.py), snappy
        let pq = from_parquet(include_bytes!("../../tests/fixtures/item_factors.parquet").to_vec())
            .unwrap();
        assert_eq!(
            pq.ids,
            vec!["85123".to_string(), "71053".into(), "84406".into()]
        );
        assert_eq!(
            (pq.dim, &pq.values[..4]),
            (4, &[0.5f32, -1.0, 0.25, 2.0][..])
        );
        assert!(from_parquet(b"PAR1 not really".to_vec()).is_err());
        assert_eq!(
            (rows, missing, dropped),
            (vec![4., 5., 6., 0., 0., 0.], 1, 1)
        );
    }
}
