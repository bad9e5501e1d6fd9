//! Catalogs: a CSV (`id,name,category,price,in_stock`, or the Online Retail subset's
//! `stock_code,name,derived_category,median_unit_price_gbp`), or one derived from a retail log
//! (most frequent description, median price, a category from [`categorize`]).

use super::events::{read_text, EventLog};
use crate::bundle::ItemMeta;
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// Themes win wherever they appear in a name ("CHRISTMAS MUG" is Christmas).
const THEMES: &[(&str, &[&str])] = &[
    (
        "Christmas",
        &[
            "CHRISTMAS",
            "XMAS",
            "ADVENT",
            "SANTA",
            "REINDEER",
            "SNOWFLAKE",
            "SNOWMAN",
            "BAUBLE",
            "NOEL",
            "NATIVITY",
        ],
    ),
    (
        "Party & Celebrations",
        &[
            "PARTY",
            "BIRTHDAY",
            "BUNTING",
            "BALLOON",
            "CONFETTI",
            "PAPER CHAIN",
            "PINATA",
            "EASTER",
            "HALLOWEEN",
            "VALENTINE",
            "WEDDING",
        ],
    ),
];

/// Product-type words. A name's category is decided by the type word nearest its end, because
/// English names end in what the thing is ("ICE CREAM DESIGN GARDEN PARASOL" is a parasol,
/// "SPACEBOY LUNCH BOX" a lunch box); at the same position the longer keyword wins, then the
/// earlier rule.
const TYPES: &[(&str, &[&str])] = &[
    (
        "Candles & Lighting",
        &[
            "CANDLE",
            "T-LIGHT",
            "TEALIGHT",
            "TEA LIGHT",
            "T-LIGHT HOLDER",
            "LANTERN",
            "LIGHT",
            "LIGHTS",
            "LAMP",
            "CHANDELIER",
            "INCENSE",
            "OIL BURNER",
            "NIGHT LIGHT",
            "FAIRY LIGHTS",
        ],
    ),
    (
        "Jewellery & Accessories",
        &[
            "NECKLACE",
            "BRACELET",
            "EARRINGS",
            "EARRING",
            "RING",
            "BROOCH",
            "CHARM",
            "HAIRCLIP",
            "HAIRBAND",
            "HAIR CLIP",
            "HAIR SLIDE",
            "HAIR GRIP",
            "SCARF",
            "UMBRELLA",
            "PURSE",
            "WALLET",
            "KEY RING",
            "KEYRING",
            "BEADS",
            "SUNGLASSES",
            "COMPACT MIRROR",
            "HANDBAG",
        ],
    ),
    (
        "Bags",
        &[
            "BAG",
            "BAGS",
            "SHOPPER",
            "TOTE",
            "RUCKSACK",
            "BACKPACK",
            "WASHBAG",
            "SATCHEL",
            "LUNCH BAG",
            "JUMBO BAG",
        ],
    ),
    (
        "Toys & Kids",
        &[
            "TOY",
            "TOYS",
            "GAME",
            "GAMES",
            "PUZZLE",
            "JIGSAW",
            "DOLL",
            "DOLLY",
            "DOLLS",
            "PLAYHOUSE",
            "SKIPPING ROPE",
            "CRAYONS",
            "COLOURING",
            "TEDDY",
            "DINOSAUR",
            "SOLDIER",
            "SPINNING TOP",
            "KNITTING",
            "DOMINOES",
            "MARBLES",
            "RATTLE",
            "HELICOPTER",
            "KIT",
            "BLOCKS",
            "PLAYING CARDS",
            "SNAKES AND LADDERS",
            "TATTOOS",
            "BUBBLES",
            "BALL",
            "MASK",
            "WAND",
        ],
    ),
    (
        "Kitchen & Dining",
        &[
            "MUG",
            "MUGS",
            "CUP",
            "CUPS",
            "SAUCER",
            "PLATE",
            "PLATES",
            "BOWL",
            "BOWLS",
            "TEAPOT",
            "COFFEE POT",
            "KITCHEN",
            "CAKESTAND",
            "CAKE STAND",
            "CAKE TIN",
            "BAKING",
            "LUNCH BOX",
            "JAR",
            "JARS",
            "TIN",
            "TINS",
            "SPOON",
            "SPOONS",
            "CUTLERY",
            "NAPKIN",
            "NAPKINS",
            "APRON",
            "TRAY",
            "OVEN GLOVE",
            "JUG",
            "BOTTLE",
            "RECIPE",
            "CHOPSTICKS",
            "EGG CUP",
            "BEAKER",
            "GLASS",
            "GLASSES",
            "DOILY",
            "DOILIES",
            "CASES",
            "CAKE CASES",
            "PICNIC",
            "SUGAR",
            "BISCUIT",
            "BREAD",
            "CHOPPING BOARD",
            "COASTER",
            "COASTERS",
            "PLACEMAT",
            "PLACEMATS",
            "FORK",
            "KNIFE",
            "TUMBLER",
            "POPCORN",
            "TEA TOWEL",
            "TEA TOWELS",
            "SCALES",
            "MOULD",
            "ICE LOLLY",
            "WINE",
            "TEACUP",
            "FLASK",
            "CAFETIERE",
            "MILK JUG",
            "STRAWS",
            "CANISTER",
            "CONTAINER",
            "BREAD BIN",
            "CAKE",
            "CAKES",
            "PANTRY",
            "TEA",
            "COFFEE",
            "SAUCEPAN",
            "COLANDER",
            "WHISK",
            "GRATER",
            "TIMER",
        ],
    ),
    (
        "Bathroom & Beauty",
        &[
            "SOAP",
            "SOAPS",
            "BATH",
            "BATHROOM",
            "TOWEL",
            "TOWELS",
            "SPONGE",
            "TOOTHBRUSH",
            "TOILET",
            "LIP GLOSS",
            "MAKE UP",
            "COSMETIC",
            "PERFUME",
            "NAIL",
            "HOT WATER BOTTLE",
        ],
    ),
    (
        "Garden & Outdoor",
        &[
            "GARDEN",
            "PLANT",
            "PLANTER",
            "POT",
            "POTS",
            "PLANT POT",
            "FLOWER POT",
            "SEED",
            "SEEDS",
            "WATERING CAN",
            "BIRD FEEDER",
            "BIRDHOUSE",
            "BIRD HOUSE",
            "BIRD TABLE",
            "PARASOL",
            "HERB MARKER",
            "HERB MARKERS",
            "GNOME",
            "TRUG",
            "SHED",
            "OUTDOOR",
            "DOORMAT",
            "WINDMILL",
            "FEEDER",
            "GREENHOUSE",
            "HAMMOCK",
            "CHIME",
            "CHIMES",
            "WIND CHIME",
            "GARDEN SET",
            "GLOVES",
            "THERMOMETER",
        ],
    ),
    (
        "Stationery & Cards",
        &[
            "CARD",
            "CARDS",
            "PAPER",
            "NOTEBOOK",
            "PENCIL",
            "PENCILS",
            "PEN",
            "PENS",
            "PENCIL CASE",
            "PEN CASE",
            "WRAP",
            "GIFT WRAP",
            "STICKER",
            "STICKERS",
            "TAPE",
            "ENVELOPE",
            "ENVELOPES",
            "CALENDAR",
            "NOTE",
            "NOTES",
            "NOTEPAD",
            "NOTEBOOKS",
            "DIARY",
            "ERASER",
            "RUBBER",
            "RIBBON",
            "RIBBONS",
            "TISSUE",
            "TISSUES",
            "TAG",
            "TAGS",
            "GIFT TAG",
            "BOOK",
            "BOOKMARK",
            "JOURNAL",
            "STATIONERY",
            "RULER",
            "SHARPENER",
            "POSTCARD",
            "STAMP",
            "STAMPS",
            "PAPERWEIGHT",
            "SKETCHBOOK",
            "CHALK",
            "CRAYON",
            "MEMO",
            "ORGANISER",
            "PAD",
            "ALBUM",
        ],
    ),
    (
        "Home Decor",
        &[
            "FRAME",
            "PHOTO FRAME",
            "CLOCK",
            "ALARM CLOCK",
            "SIGN",
            "CUSHION",
            "CUSHION COVER",
            "DOORSTOP",
            "DOOR STOP",
            "HOOK",
            "HOOKS",
            "WALL",
            "MIRROR",
            "VASE",
            "DECORATION",
            "DECORATIONS",
            "HEART",
            "HEARTS",
            "ORNAMENT",
            "DRAWER",
            "DRAWERS",
            "CABINET",
            "BOX",
            "BOXES",
            "STORAGE",
            "RACK",
            "COAT RACK",
            "PLAQUE",
            "GARLAND",
            "CHALKBOARD",
            "MAGNET",
            "MAGNETS",
            "WREATH",
            "DOORKNOB",
            "KNOB",
            "HANGER",
            "HANGERS",
            "BASKET",
            "THROW",
            "BLANKET",
            "QUILT",
            "CURTAIN",
            "SHELF",
            "TABLE",
            "CHAIR",
            "STOOL",
            "LETTERS",
            "BELL",
            "BELLS",
            "FEATHER",
            "BIRDCAGE",
            "MOBILE",
            "CHEST",
            "CRATE",
            "PLATTER",
            "BUCKET",
            "PEGS",
            "PEG",
            "DISPLAY",
            "HOLDER",
            "STAND",
            "CANDLESTICK",
            "DOORMAT",
            "BLACKBOARD",
            "SCREEN",
            "LAMPSHADE",
            "RUG",
            "MAT",
            "ORGANISER",
            "TRINKET BOX",
            "JEWELLERY BOX",
            "WASHING LINE",
        ],
    ),
];

fn key_matches(words: &[&str], end: usize, key: &[&str]) -> bool {
    let n = key.len();
    if n == 0 || n > end + 1 {
        return false;
    }
    let start = end + 1 - n;
    key.iter().enumerate().all(|(i, k)| {
        let w = words[start + i];
        // the last word may carry a plural or a short suffix ("CANDLES", "T-LIGHTS")
        if i + 1 == n {
            w.starts_with(k) && w.len() <= k.len() + 2
        } else {
            w == *k
        }
    })
}

/// The category for a product name (uppercase keyword rules, see [`THEMES`] and [`TYPES`]), or
/// `Other Gifts`.
pub fn categorize(name: &str) -> &'static str {
    let up = name.to_uppercase();
    let words: Vec<&str> = up
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
        .filter(|w| !w.is_empty())
        .collect();
    for (cat, keys) in THEMES {
        for end in 0..words.len() {
            if keys
                .iter()
                .any(|k| key_matches(&words, end, &k.split(' ').collect::<Vec<_>>()))
            {
                return cat;
            }
        }
    }
    for end in (0..words.len()).rev() {
        let mut best: Option<(usize, &'static str)> = None;
        for (cat, keys) in TYPES {
            for k in *keys {
                let kw: Vec<&str> = k.split(' ').collect();
                if key_matches(&words, end, &kw) && best.is_none_or(|(len, _)| kw.len() > len) {
                    best = Some((kw.len(), cat));
                }
            }
        }
        if let Some((_, cat)) = best {
            return cat;
        }
    }
    "Other Gifts"
}

/// A catalog from a retail log's own descriptions and prices. With `in_stock_days`, an item is
/// in stock when it sold within that many days of the log's latest sale (the data has no stock
/// column; recent sales are the evidence it has).
pub fn derive_catalog(log: &EventLog, in_stock_days: Option<f64>) -> Vec<ItemMeta> {
    let latest = log
        .items
        .values()
        .filter_map(|s| s.last)
        .fold(f64::NEG_INFINITY, f64::max);
    let cutoff = in_stock_days.map(|d| latest - d * 86_400_000.0);
    let mut out: Vec<ItemMeta> = log
        .items
        .iter()
        .map(|(id, st)| {
            let name = st
                .names
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(n, _)| n.clone());
            let mut p = st.prices.clone();
            p.sort_by(f32::total_cmp);
            let price = if p.is_empty() {
                None
            } else {
                Some((p[p.len() / 2] as f64 * 100.0).round() / 100.0)
            };
            ItemMeta {
                id: id.clone(),
                category: name.as_deref().map(|n| categorize(n).to_string()),
                name,
                price,
                in_stock: cutoff.map(|c| st.last.is_some_and(|t| t >= c)),
                extra: BTreeMap::new(),
            }
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Reads a catalog CSV.
pub fn read_catalog(path: &Path) -> Result<Vec<ItemMeta>> {
    let text = read_text(path)?;
    let src = path.display().to_string();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let h = rdr
        .headers()
        .map_err(|e| Error::Argument(format!("{src}: {e}")))?
        .clone();
    let col = |names: &[&str]| {
        h.iter()
            .position(|x| names.iter().any(|n| x.trim().eq_ignore_ascii_case(n)))
    };
    let id = col(&["id", "item", "item_id", "stock_code", "StockCode"])
        .ok_or_else(|| Error::Argument(format!("{src}: no id column (id/item_id/stock_code)")))?;
    let name = col(&["name", "description", "Description"]);
    let cat = col(&["category", "derived_category"]);
    let price = col(&["price", "median_unit_price_gbp", "UnitPrice"]);
    let stock = col(&["in_stock", "inStock"]);
    let mut out = Vec::new();
    for (line, r) in rdr.records().enumerate() {
        let r = r.map_err(|e| Error::Argument(format!("{src} line {}: {e}", line + 2)))?;
        let g = |i: Option<usize>| {
            i.and_then(|i| r.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let idv = g(Some(id))
            .ok_or_else(|| Error::Argument(format!("{src} line {}: empty id", line + 2)))?;
        out.push(ItemMeta {
            id: idv.to_string(),
            name: g(name).map(str::to_string),
            category: g(cat)
                .map(str::to_string)
                .or_else(|| g(name).map(|n| categorize(n).to_string())),
            price: match g(price) {
                None => None,
                Some(p) => Some(p.parse().map_err(|_| {
                    Error::Argument(format!("{src} line {}: price '{p}'", line + 2))
                })?),
            },
            in_stock: match g(stock) {
                None => None,
                Some(s) => Some(matches!(
                    s.to_ascii_lowercase().as_str(),
                    "1" | "true" | "yes" | "y"
                )),
            },
            extra: BTreeMap::new(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::categorize;

    #[test]
    fn categories_from_names() {
        assert_eq!(
            categorize("WHITE HANGING HEART T-LIGHT HOLDER"),
            "Candles & Lighting"
        );
        assert_eq!(categorize("JUMBO BAG RED RETROSPOT"), "Bags");
        assert_eq!(categorize("REGENCY CAKESTAND 3 TIER"), "Kitchen & Dining");
        assert_eq!(categorize("PAPER CHAIN KIT 50'S CHRISTMAS"), "Christmas");
        assert_eq!(categorize("SPACEBOY LUNCH BOX"), "Kitchen & Dining");
        assert_eq!(
            categorize("ICE CREAM DESIGN GARDEN PARASOL"),
            "Garden & Outdoor"
        );
        assert_eq!(categorize("TEATIME PEN CASE & PENS"), "Stationery & Cards");
        assert_eq!(
            categorize("FOOD/DRINK SPONGE STICKERS"),
            "Stationery & Cards"
        );
        assert_eq!(categorize("CHRISTMAS CRAFT TREE TOP ANGEL"), "Christmas");
        assert_eq!(
            categorize("SET OF 3 CAKE TINS PANTRY DESIGN"),
            "Kitchen & Dining"
        );
        assert_eq!(
            categorize("HOT WATER BOTTLE KEEP CALM"),
            "Bathroom & Beauty"
        );
        assert_eq!(categorize("ASSORTED COLOURS SILK FAN"), "Other Gifts");
        assert_eq!(
            categorize("PACK OF 72 RETROSPOT CAKE CASES"),
            "Kitchen & Dining"
        );
        assert_eq!(
            categorize("WOODEN PICTURE FRAME WHITE FINISH"),
            "Home Decor"
        );
    }
}
