//! Catalogs: a CSV (`id,name,category,price,in_stock`, or the Online Retail subset's
//! `stock_code,name,derived_category,median_unit_price_gbp`), or one derived from a retail log
//! (most frequent description, median price, a category from [`categorize`]).

use super::events::{read_text, EventLog};
use crate::bundle::ItemMeta;
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// Ordered keyword rules: the first category with a keyword matching the start of a word of
/// the product name wins. Earlier rules are more specific (a "CHRISTMAS MUG" is Christmas).
const RULES: &[(&str, &[&str])] = &[
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
            "ANGEL",
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
    (
        "Candles & Lighting",
        &[
            "CANDLE",
            "T-LIGHT",
            "TEALIGHT",
            "TEA LIGHT",
            "LANTERN",
            "LIGHT",
            "LIGHTS",
            "LAMP",
            "CHANDELIER",
            "INCENSE",
            "OIL BURNER",
        ],
    ),
    (
        "Jewellery & Accessories",
        &[
            "NECKLACE",
            "NECKLACE,",
            "BRACELET",
            "EARRINGS",
            "EARRING",
            "RING",
            "BROOCH",
            "CHARM",
            "HAIR",
            "HAIRCLIP",
            "HAIRBAND",
            "SCARF",
            "UMBRELLA",
            "PURSE",
            "WALLET",
            "KEY RING",
            "KEYRING",
            "DIAMANTE",
            "BEADS",
            "SUNGLASSES",
        ],
    ),
    (
        "Bags",
        &[
            "BAG", "BAGS", "SHOPPER", "TOTE", "RUCKSACK", "BACKPACK", "WASHBAG", "SATCHEL",
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
            "CHILDREN",
            "CHILDRENS",
            "CHILD",
            "KIDS",
            "SPACEBOY",
            "PLAYHOUSE",
            "SKIPPING",
            "CRAYONS",
            "COLOURING",
            "TEDDY",
            "BABY",
            "DINOSAUR",
            "SOLDIER",
            "SPINNING",
            "KNITTING",
            "DOMINOES",
            "MARBLES",
            "BLOCK",
            "ALPHABET",
            "RATTLE",
            "HELICOPTER",
            "PLAY",
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
            "TEA",
            "TEAPOT",
            "COFFEE",
            "KITCHEN",
            "CAKE",
            "CAKES",
            "CAKESTAND",
            "BAKING",
            "LUNCH",
            "JAR",
            "TIN",
            "TINS",
            "SPOON",
            "SPOONS",
            "CUTLERY",
            "NAPKIN",
            "NAPKINS",
            "APRON",
            "TRAY",
            "OVEN",
            "JUG",
            "BOTTLE",
            "RECIPE",
            "CHOPSTICKS",
            "EGG",
            "PANTRY",
            "BEAKER",
            "GLASS",
            "GLASSES",
            "DOILY",
            "DOILIES",
            "CASES",
            "PICNIC",
            "SUGAR",
            "BISCUIT",
            "BREAD",
            "MILK",
            "CHOPPING",
            "COASTER",
            "COASTERS",
            "PLACEMAT",
            "FORK",
            "KNIFE",
            "TUMBLER",
            "POPCORN",
            "CHOCOLATE",
            "SWEETHEART CAKE",
            "DINNER",
            "TEATIME",
            "JAM",
            "STRAWS",
            "SCALES",
            "FOOD",
            "COOKIE",
            "MOULD",
            "ICE",
            "WINE",
            "TEACUP",
        ],
    ),
    (
        "Bathroom & Beauty",
        &[
            "SOAP",
            "BATH",
            "BATHROOM",
            "TOWEL",
            "TOWELS",
            "SPONGE",
            "TOOTHBRUSH",
            "TOILET",
            "LIP",
            "MAKE",
            "COSMETIC",
            "PERFUME",
            "NAIL",
            "HOT WATER",
        ],
    ),
    (
        "Garden & Outdoor",
        &[
            "GARDEN",
            "GARDENERS",
            "PLANT",
            "PLANTER",
            "POT",
            "POTS",
            "SEED",
            "SEEDS",
            "WATERING",
            "BIRD",
            "BIRDHOUSE",
            "PARASOL",
            "HERB",
            "HERBS",
            "GNOME",
            "TRUG",
            "SHED",
            "OUTDOOR",
            "DOORMAT",
            "FLOWER",
            "WINDMILL",
            "WIND",
            "FEEDER",
            "GREENHOUSE",
            "HAMMOCK",
            "BUTTERFLY",
            "CHIME",
            "CHIMES",
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
            "WRAP",
            "STICKER",
            "STICKERS",
            "TAPE",
            "ENVELOPE",
            "ENVELOPES",
            "CALENDAR",
            "NOTE",
            "NOTES",
            "NOTEPAD",
            "DIARY",
            "ERASER",
            "RUBBER",
            "RIBBON",
            "RIBBONS",
            "TISSUE",
            "TISSUES",
            "TAG",
            "TAGS",
            "BOOK",
            "BOOKMARK",
            "JOURNAL",
            "STATIONERY",
            "RULER",
            "SHARPENER",
            "POSTCARD",
            "STAMP",
            "CRAFT",
            "PAPERWEIGHT",
            "SKETCHBOOK",
            "LETTER",
            "CHALK",
        ],
    ),
    (
        "Home Decor",
        &[
            "FRAME",
            "CLOCK",
            "SIGN",
            "CUSHION",
            "DOORSTOP",
            "HOOK",
            "HOOKS",
            "WALL",
            "MIRROR",
            "VASE",
            "DECORATION",
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
            "PLAQUE",
            "GARLAND",
            "CHALKBOARD",
            "MAGNET",
            "WREATH",
            "DOOR",
            "KNOB",
            "HANGER",
            "HANGING",
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
            "PHOTO",
            "ALBUM",
            "HOLDER",
            "STAND",
            "BELL",
            "BELLS",
            "FEATHER",
            "BIRDCAGE",
            "MOBILE",
            "DOORKNOB",
            "CHEST",
            "CRATE",
            "ROSE",
            "DOVE",
            "STAR",
            "PLATTER",
            "BUCKET",
            "WASHING",
            "LINE",
            "PEGS",
            "PEG",
            "KEY",
            "DISPLAY",
        ],
    ),
];

/// The category for a product name (uppercase keyword rules), or `Other Gifts`.
pub fn categorize(name: &str) -> &'static str {
    let up = name.to_uppercase();
    let words: Vec<&str> = up
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
        .filter(|w| !w.is_empty())
        .collect();
    for (cat, keys) in RULES {
        for k in *keys {
            let kw: Vec<&str> = k.split(' ').collect();
            let hit = words.windows(kw.len()).any(|win| {
                win.iter().zip(&kw).enumerate().all(|(i, (w, k))| {
                    if i + 1 == kw.len() {
                        w.starts_with(k) && w.len() <= k.len() + 2
                    } else {
                        w == k
                    }
                })
            });
            if hit {
                return cat;
            }
        }
    }
    "Other Gifts"
}

/// A catalog from a retail log's own descriptions and prices.
pub fn derive_catalog(log: &EventLog) -> Vec<ItemMeta> {
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
                in_stock: None,
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
        assert_eq!(categorize("SPACEBOY LUNCH BOX"), "Toys & Kids");
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
