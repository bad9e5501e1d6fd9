//! Event logs: the UCI Online Retail file as published (and its `purchase_events` subset), or a
//! generic `user,item,event[,ts][,weight]` CSV. Gzip is detected from the file's magic bytes.

use super::parse_time;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// One interaction in a log.
#[derive(Clone, Debug, PartialEq)]
pub struct LogEvent {
    pub user: String,
    pub item: String,
    pub kind: String,
    pub weight: Option<f32>,
    pub ts: Option<f64>,
}

/// What a retail log says about an item (for a catalog derived from the log).
#[derive(Clone, Debug, Default)]
pub struct ItemStats {
    /// description → count
    pub names: HashMap<String, u32>,
    pub prices: Vec<f32>,
    /// Time of the item's latest sale (ms), when the log has times.
    pub last: Option<f64>,
}

/// A parsed log.
#[derive(Default)]
pub struct EventLog {
    pub events: Vec<LogEvent>,
    pub items: HashMap<String, ItemStats>,
    /// Rows skipped, by reason (cancellations, non-products, missing customer, …).
    pub skipped: HashMap<&'static str, usize>,
}

impl EventLog {
    /// Events before `t` (ms) and the rest.
    pub fn split(&self, t: f64) -> (EventLog, EventLog) {
        let (a, b): (Vec<_>, Vec<_>) = self
            .events
            .iter()
            .cloned()
            .partition(|e| e.ts.is_some_and(|x| x < t));
        (
            EventLog {
                events: a,
                items: self.items.clone(),
                skipped: HashMap::new(),
            },
            EventLog {
                events: b,
                items: self.items.clone(),
                skipped: HashMap::new(),
            },
        )
    }
}

/// Reads a whole file, un-gzipping it when it starts with the gzip magic.
pub fn read_text(path: &Path) -> Result<String> {
    let raw = std::fs::read(path)
        .map_err(|e| Error::Argument(format!("reading {}: {e}", path.display())))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_string(&mut s)
            .map_err(|e| Error::Argument(format!("un-gzipping {}: {e}", path.display())))?;
        Ok(s)
    } else {
        String::from_utf8(raw)
            .map_err(|e| Error::Argument(format!("{} is not UTF-8: {e}", path.display())))
    }
}

/// A product stock code in the Online Retail data: five digits, optionally a letter suffix.
/// POST, DOT, M, BANK CHARGES, gift vouchers and the like are not products.
pub fn is_product_code(code: &str) -> bool {
    code.len() >= 5 && code.as_bytes()[..5].iter().all(u8::is_ascii_digit)
}

fn col(header: &csv::StringRecord, names: &[&str]) -> Option<usize> {
    header
        .iter()
        .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
}

/// Parses an event log (see the module docs for the accepted layouts).
pub fn parse_events(text: &str, source: &str) -> Result<EventLog> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = rdr
        .headers()
        .map_err(|e| Error::Argument(format!("{source}: {e}")))?
        .clone();
    let need = |names: &[&str], what: &str| {
        col(&header, names).ok_or_else(|| {
            Error::Argument(format!(
                "{source}: no {what} column (looked for {}; header: {})",
                names.join("/"),
                header.iter().collect::<Vec<_>>().join(",")
            ))
        })
    };
    let user = need(&["CustomerID", "customer_id", "user", "user_id"], "user")?;
    let item = need(&["StockCode", "stock_code", "item", "item_id"], "item")?;
    let retail = col(&header, &["InvoiceNo", "invoice_no"]);
    let qty = col(&header, &["Quantity", "quantity"]);
    let price = col(&header, &["UnitPrice", "unit_price_gbp", "price"]);
    let desc = col(&header, &["Description", "name"]);
    let time = col(
        &header,
        &["InvoiceDate", "invoice_date", "ts", "timestamp", "time"],
    );
    let kind = col(&header, &["event", "type", "event_type"]);
    let weight = col(&header, &["weight"]);
    if retail.is_none() && kind.is_none() {
        return Err(Error::Argument(format!(
            "{source}: a generic log needs an 'event' column (view/cart/purchase)"
        )));
    }
    let mut log = EventLog::default();
    let mut skip = |why: &'static str| *log.skipped.entry(why).or_insert(0) += 1;
    let mut events = Vec::new();
    let mut items: HashMap<String, ItemStats> = HashMap::new();
    for (line, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| Error::Argument(format!("{source} line {}: {e}", line + 2)))?;
        let f = |i: Option<usize>| i.and_then(|i| rec.get(i)).map(str::trim).unwrap_or("");
        let u = f(Some(user));
        let u = u.strip_suffix(".0").unwrap_or(u);
        let it = f(Some(item));
        if u.is_empty() {
            skip("no customer");
            continue;
        }
        if let Some(r) = retail {
            if f(Some(r)).starts_with('C') {
                skip("cancellation");
                continue;
            }
            if !is_product_code(it) {
                skip("not a product");
                continue;
            }
            if qty.is_some() && f(qty).parse::<f64>().map_or(true, |q| q <= 0.0) {
                skip("quantity <= 0");
                continue;
            }
            let p: f32 = f(price).parse().unwrap_or(0.0);
            if price.is_some() && p <= 0.0 {
                skip("price <= 0");
                continue;
            }
            let st = items.entry(it.to_string()).or_default();
            if !f(desc).is_empty() {
                *st.names.entry(f(desc).to_string()).or_insert(0) += 1;
            }
            if p > 0.0 {
                st.prices.push(p);
            }
        }
        let ts = match f(time) {
            "" => None,
            t => Some(
                t.parse::<f64>()
                    .ok()
                    .or_else(|| parse_time(t))
                    .ok_or_else(|| {
                        Error::Argument(format!(
                            "{source} line {}: time '{t}' is neither ms nor YYYY-MM-DD[ HH:MM:SS]",
                            line + 2
                        ))
                    })?,
            ),
        };
        if let (Some(t), Some(st)) = (ts, items.get_mut(it)) {
            st.last = Some(st.last.map_or(t, |l| l.max(t)));
        }
        let w = match f(weight) {
            "" => None,
            w => Some(w.parse::<f32>().map_err(|_| {
                Error::Argument(format!("{source} line {}: weight '{w}'", line + 2))
            })?),
        };
        events.push(LogEvent {
            user: u.to_string(),
            item: it.to_string(),
            kind: if retail.is_some() && kind.is_none() {
                "purchase".into()
            } else {
                f(kind).to_string()
            },
            weight: w,
            ts,
        });
    }
    log.events = events;
    log.items = items;
    Ok(log)
}
