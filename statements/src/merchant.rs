//! Merchant extraction and description normalisation for imported transactions (spec §3.7).
//!
//! [`extract`] turns a statement narration into an [`Extraction`] in three steps:
//!
//! 1. **Bank patterns** — SBI narrations (`WDL TFR`/`DEP TFR` UPI, `POS ATM PURCH`, `ATM WDL`,
//!    `INB`, `CASH DEPOSIT`, `CEMTEX DEP`, `VISA-IN-RMT`, `OF Mr NAME` transfers) and the generic
//!    UPI/IMPS/NEFT/RTGS slash and dash forms yield the payment method, reference, location,
//!    counterparty bank, UPI id, app and counterparty name.
//! 2. **Known merchants** — a table of aliases matched on token boundaries; a hit in the
//!    counterparty fields (or in the whole text when no bank pattern matched) wins over the raw name.
//! 3. **Cleaning fallback** — whole-token noise words, numbers and IFSC codes are dropped and the
//!    rest is title-cased; nothing left means `Unknown`.
//!
//! Everything here is pure, bounded (linear-time regexes) and never panics.

use regex::{Captures, Regex};
use std::borrow::Cow;
use std::cell::OnceCell;
use std::sync::LazyLock;

/// What [`extract`] found in one narration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Extraction {
    /// Canonical payment method (`upi`, `pos`, `atm`, `neft`, `imps`, `rtgs`, `inb`, `cash`,
    /// `card`, `transfer`), when the narration names one.
    pub method: Option<&'static str>,
    /// Counterparty or merchant display name; never empty (`Unknown` when nothing usable).
    pub merchant: String,
    /// UTR, POS reference, ATM id or deposit reference found in the narration.
    pub reference: Option<String>,
    /// Place named by the narration: POS city, ATM site or SBI branch after `AT <code>`.
    pub location: Option<String>,
    /// Counterparty bank code as written (e.g. `SBIN`, `HDFC`).
    pub counterparty_bank: Option<String>,
    /// Counterparty UPI id (VPA) as written, possibly truncated by the bank.
    pub upi_id: Option<String>,
    /// UPI app named by the narration (e.g. `GPay`).
    pub app: Option<String>,
    /// Short human-readable line; for text that is not a bank narration, the input with
    /// whitespace runs collapsed.
    pub clean_description: String,
}

/// Merchant name used when nothing usable is found.
const UNKNOWN: &str = "Unknown";

/// Longest merchant name the cleaning fallback produces (in characters).
const MAX_FALLBACK_CHARS: usize = 64;

/// Known merchants: official name and lower-case aliases. The first merchant with a matching
/// alias wins, so more specific entries come first (Swiggy Instamart before Swiggy, Google Pay
/// before YouTube and Google).
#[rustfmt::skip]
const KNOWN_MERCHANTS: &[(&str, &[&str])] = &[
    ("Swiggy Instamart", &["swiggy instamart", "swiggyinstamart", "instamart"]),
    ("Swiggy", &["swiggy"]),
    ("Zomato", &["zomato", "zomatofo", "payzomato", "zomatofood", "zomato-ord"]),
    ("Uber", &["uber", "uber india"]),
    ("Ola", &["ola", "olacabs", "olamon"]),
    ("Rapido", &["rapido"]),
    ("Blinkit", &["blinkit", "grofers"]),
    ("Zepto", &["zepto", "zeptonow"]),
    ("BigBasket", &["bigbasket", "big basket"]),
    ("Amazon", &["amazon", "amzn", "amazonpay"]),
    ("Flipkart", &["flipkart"]),
    ("Myntra", &["myntra"]),
    ("Ajio", &["ajio"]),
    ("Netflix", &["netflix"]),
    ("Spotify", &["spotify"]),
    ("Google Pay", &["google pay", "googlepay", "gpay"]),
    ("YouTube", &["youtube", "google oct"]),
    ("Apple", &["apple.com", "itunes"]),
    ("Google", &["google"]),
    ("Jio", &["jio", "reliance jio"]),
    ("Airtel", &["airtel"]),
    ("Vodafone", &["vodafone", "vi"]),
    ("PhonePe", &["phonepe", "phonpe"]),
    ("Paytm", &["paytm", "one97communica", "one97"]),
    ("CRED", &["cred"]),
    ("Dunzo", &["dunzo"]),
    ("Dream11", &["dream11"]),
    ("Groww", &["groww"]),
    ("Zerodha", &["zerodha"]),
    ("Slice", &["slice"]),
    ("Meesho", &["meesho"]),
    ("Nykaa", &["nykaa"]),
    ("BookMyShow", &["bookmyshow"]),
    ("IRCTC", &["irctc"]),
    ("MakeMyTrip", &["makemytrip"]),
    ("Ixigo", &["ixigo"]),
    ("BESCOM", &["bescom"]),
    ("McDonald's", &["mcdonalds", "mcdonald's", "mcdonald"]),
    ("Starbucks", &["starbucks"]),
    ("KFC", &["kfc"]),
    ("Burger King", &["burger king", "burgerking"]),
    ("Domino's", &["dominos", "domino's", "domino"]),
    ("Pizza Hut", &["pizza hut", "pizzahut"]),
    ("Subway", &["subway"]),
];

/// Aliases longer than 4 characters that are ordinary words and so must match a whole word too.
const WHOLE_WORD_ALIASES: &[&str] = &["slice"];

/// Known merchants that are payment channels: found only in a UPI id or app field they name the
/// app used, not the counterparty, so they never override the counterparty name there.
const PAYMENT_APPS: &[&str] = &["Google Pay", "PhonePe", "Paytm"];

/// Whole tokens dropped by the cleaning fallback (compared upper-cased).
const NOISE_WORDS: &[&str] = &[
    "UPI", "UPVDR", "NEFT", "IMPS", "RTGS", "POS", "ATM", "WDL", "TFR", "DEP", "DR", "CR", "MB",
    "IB", "INB", "PURCH", "OTHPG", "SBIPG", "DBTPG", "ACH", "NACH", "DEBIT", "RS", "INR",
];

/// IFSC bank prefixes recognised as a bare 4-letter segment of a dash-form narration.
const BANK_CODES: &[&str] = &[
    "AIRP", "AUBL", "BARB", "BKID", "CBIN", "CITI", "CNRB", "DBSS", "ESFB", "FDRL", "HDFC", "HSBC",
    "ICIC", "IDFB", "IDIB", "INDB", "IOBA", "KARB", "KKBK", "KVBL", "MAHB", "PSIB", "PUNB", "PYTM",
    "RATN", "SBIN", "SCBL", "SIBL", "TMBL", "UBIN", "UCBA", "UTIB", "YESB",
];

/// Substrings of a payment-method column value that mean a card payment.
const CARD_MARKERS: &[&str] = &["visa", "mastercard", "rupay", "amex", "card", "****"];

/// Methods recognised as a whole word of a payment-method column value, in priority order.
const WORD_METHODS: &[&str] = &[
    "neft", "imps", "rtgs", "atm", "pos", "cash", "inb", "transfer",
];

/// Phrases of a payment-method column value that mean internet banking.
const NET_BANKING: &[&str] = &[
    "net banking",
    "netbanking",
    "net-banking",
    "internet banking",
];

/// Optional SBI transfer prefix shared by the UPI/NEFT/IMPS/RTGS rules: groups `sbi` (WDL/DEP)
/// and `yono` (TO/BY).
const TRANSFER_PREFIX: &str = r"^(?:(?P<sbi>WDL|DEP) TFR |(?P<yono>TO|BY) TRANSFER-)?";

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("static regex is valid")
}

fn prefixed(rest: &str) -> Regex {
    regex(&format!("{TRANSFER_PREFIX}{rest}"))
}

static BRANCH_TAIL: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?:\.{2,})? ?\bAT \d{4,}(?: (.*))?$"));
static UPI_SLASH: LazyLock<Regex> = LazyLock::new(|| {
    prefixed(
        r"(?i:(?P<kind>UPI|UPVDR|UPS))/(?:(?i:(?P<dir>DR|CR))/)?(?P<utr>\d+)(?:/(?P<rest>.*))?$",
    )
});
static UPI_DASH: LazyLock<Regex> = LazyLock::new(|| prefixed(r"(?i:UPI)-(?P<rest>.+)$"));
static BANK_SLASH: LazyLock<Regex> =
    LazyLock::new(|| prefixed(r"(?i:(?P<kind>NEFT|IMPS|RTGS))/(?P<rest>.*)$"));
static BANK_DASH: LazyLock<Regex> = LazyLock::new(|| {
    prefixed(r"(?i:(?P<kind>NEFT|IMPS|RTGS))(?: (?i:(?P<dir>DR|CR)))?(?P<sep>[-*])(?P<rest>.+)$")
});
static POS_PURCH: LazyLock<Regex> = LazyLock::new(|| regex(r"^POS ATM PURCH(?: (.*))?$"));
static POS_SHORT: LazyLock<Regex> = LazyLock::new(|| regex(r"^POS (\d{4,}) (.+)$"));
static ATM_WDL: LazyLock<Regex> = LazyLock::new(|| regex(r"^ATM WDL(?: ATM CASH)?(?: (.*))?$"));
static INB: LazyLock<Regex> = LazyLock::new(|| regex(r"^(WDL|DEP) TFR INB(?: (.*))?$"));
static CASH_DEPOSIT: LazyLock<Regex> = LazyLock::new(|| regex(r"^CASH DEP(?:OSIT)?(?: (.*))?$"));
static CEMTEX: LazyLock<Regex> = LazyLock::new(|| regex(r"^CEMTEX DEP(?: (.*))?$"));
static VISA_REMITTANCE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^DEP TFR VISA-IN-RMT:?(\d*)(.*)$"));
static OF_NAME: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\bOF (?:Mr|Mrs|Ms|Miss|MR|MRS|MS|MISS)\.? (.+)$"));
static TRANSFER_WORD: LazyLock<Regex> = LazyLock::new(|| regex(r"\b(?:TFR|TRANSFER)\b"));
static SBI_TRANSFER: LazyLock<Regex> = LazyLock::new(|| regex(r"^(WDL|DEP) TFR(?: (.*))?$"));
static IFSC: LazyLock<Regex> = LazyLock::new(|| regex(r"^[A-Z]{4}0[A-Z0-9]{6}$"));
static MASKED_NUMBER: LazyLock<Regex> = LazyLock::new(|| regex(r"^[Xx*]{3,}\d*$"));
static LONG_DIGITS: LazyLock<Regex> = LazyLock::new(|| regex(r"\d{5,}"));
static METHOD_WORD: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?i)\b(upi|upvdr|neft|imps|rtgs|inb|pos|atm|visa|mastercard|rupay)\b")
});

/// Extracts method, merchant, reference and the other fields from a narration or merchant cell.
///
/// Whitespace runs (including newlines of multi-line SBI cells) are collapsed first; then bank
/// patterns, the known-merchant table and the cleaning fallback are tried in that order.
pub fn extract(narration: &str) -> Extraction {
    let text = collapse_whitespace(narration);
    bank_pattern(&text).unwrap_or_else(|| plain_text(&text))
}

/// Looks `text` up in the known-merchant table on token boundaries and returns the official name.
///
/// Aliases of up to 4 characters (and ordinary words such as `slice`) must be whole words; longer
/// aliases may also start a concatenated token (`zomatofo`, `17Pho*PHONEPE`, `36Swiggy`).
pub fn known_merchant(text: &str) -> Option<&'static str> {
    let collapsed = collapse_whitespace(text);
    // ASCII text is compared case-insensitively in place; other text is lower-cased first.
    let haystack = if collapsed.is_ascii() {
        collapsed
    } else {
        Cow::Owned(collapsed.to_lowercase())
    };
    let by_first_byte = &*ALIASES_BY_FIRST_BYTE;
    // The first merchant of the table with a matching alias: the lowest index over every
    // token start (an alias never matches where a letter precedes it).
    let mut best: Option<usize> = None;
    let mut before: Option<char> = None;
    for (start, c) in haystack.char_indices() {
        if !before.is_some_and(char::is_alphabetic) {
            let rest = &haystack[start..];
            let first = rest.as_bytes()[0].to_ascii_lowercase();
            for &(merchant, alias, whole_word) in &by_first_byte[usize::from(first)] {
                let found = rest
                    .as_bytes()
                    .get(..alias.len())
                    .is_some_and(|head| head.eq_ignore_ascii_case(alias.as_bytes()));
                if best.is_some_and(|b| b <= merchant) || !found {
                    continue;
                }
                let after = rest[alias.len()..].chars().next();
                let bounded = !whole_word
                    || (!before.is_some_and(char::is_alphanumeric)
                        && !after.is_some_and(char::is_alphanumeric));
                if bounded {
                    best = Some(merchant);
                }
            }
        }
        before = Some(c);
    }
    best.map(|merchant| KNOWN_MERCHANTS[merchant].0)
}

/// A known-merchant alias: the merchant's index in [`KNOWN_MERCHANTS`], the alias, and whether it
/// must be a whole word.
type Alias = (usize, &'static str, bool);

/// Every alias of [`KNOWN_MERCHANTS`] ([`Alias`]), listed under
/// its first byte, so that [`known_merchant`] tries at each token start only the aliases that
/// can begin there.
static ALIASES_BY_FIRST_BYTE: LazyLock<Vec<Vec<Alias>>> = LazyLock::new(|| {
    let mut table = vec![Vec::new(); 256];
    for (merchant, (_, aliases)) in KNOWN_MERCHANTS.iter().enumerate() {
        for alias in *aliases {
            let whole_word = alias.chars().count() <= 4 || WHOLE_WORD_ALIASES.contains(alias);
            table[usize::from(alias.as_bytes()[0])].push((merchant, *alias, whole_word));
        }
    }
    table
});

/// True when `text` is a raw bank narration, i.e. one of the bank-pattern rules recognises it.
pub fn is_bank_narration(text: &str) -> bool {
    bank_pattern(&collapse_whitespace(text)).is_some()
}

/// Canonical lower-case payment method for a source "payment method"/"mode" column value.
///
/// `UPI: QR code` → `upi`, `Visa **** 3534` → `card`, `Net Banking` → `inb`; values naming no
/// known method come back trimmed and lower-cased, and blank input gives `""`.
pub fn canonical_method(source: &str) -> String {
    let lower = source
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .to_lowercase();
    if lower.contains("upi") {
        return "upi".into();
    }
    if CARD_MARKERS.iter().any(|marker| lower.contains(marker)) {
        return "card".into();
    }
    if let Some(method) = WORD_METHODS.iter().find(|method| has_word(&lower, method)) {
        return (*method).into();
    }
    if NET_BANKING.iter().any(|phrase| lower.contains(phrase)) {
        return "inb".into();
    }
    lower
}

// ---------------------------------------------------------------------------------------------
// Step 1: bank patterns
// ---------------------------------------------------------------------------------------------

/// One bank-pattern rule: `Some` when it recognises the (whitespace-collapsed) narration. Each
/// first checks a literal its pattern needs, so that most rules cost no regex search.
type Rule = fn(&Narration<'_>) -> Option<Extraction>;

/// A whitespace-collapsed narration, its SBI branch tail split off at most once for all rules.
struct Narration<'a> {
    text: &'a str,
    tail: OnceCell<(&'a str, Option<&'a str>)>,
}

impl<'a> Narration<'a> {
    /// The narration without its branch tail, and the tail's place.
    fn head_and_location(&self) -> (&'a str, Option<String>) {
        let (head, location) = *self.tail.get_or_init(|| split_branch_tail(self.text));
        (head, location.map(str::to_string))
    }
}

/// True when `text`, or `text` after an SBI/YONO transfer prefix ([`TRANSFER_PREFIX`]), starts
/// with one of `keywords` (ASCII case-insensitive).
fn starts_after_prefix(text: &str, keywords: &[&str]) -> bool {
    let after = ["WDL TFR ", "DEP TFR ", "TO TRANSFER-", "BY TRANSFER-"]
        .iter()
        .find_map(|prefix| text.strip_prefix(prefix))
        .unwrap_or(text);
    keywords.iter().any(|keyword| {
        [text, after].iter().any(|candidate| {
            candidate
                .as_bytes()
                .get(..keyword.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(keyword.as_bytes()))
        })
    })
}

/// Bank-pattern rules, most specific first; the first match wins.
const RULES: &[Rule] = &[
    upi_slash,
    upi_dash,
    pos_purchase,
    pos_short,
    atm_withdrawal,
    inb_transfer,
    cash_deposit,
    cemtex_deposit,
    visa_remittance,
    bank_slash,
    bank_dash,
    named_transfer,
    sbi_transfer,
];

fn bank_pattern(text: &str) -> Option<Extraction> {
    let narration = Narration {
        text,
        tail: OnceCell::new(),
    };
    RULES.iter().find_map(|rule| rule(&narration))
}

/// Direction of money flow, when the narration says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Debit,
    Credit,
    Unknown,
}

impl Direction {
    /// From the SBI `WDL`/`DEP` or YONO `TO`/`BY` prefix captured by [`TRANSFER_PREFIX`].
    fn from_prefix(caps: &Captures) -> Self {
        let word = caps.name("sbi").or_else(|| caps.name("yono"));
        match word.map(|m| m.as_str()) {
            Some("WDL" | "TO") => Direction::Debit,
            Some("DEP" | "BY") => Direction::Credit,
            _ => Direction::Unknown,
        }
    }

    /// From an explicit `DR`/`CR` marker, falling back to `self`.
    fn with_marker(self, marker: Option<&str>) -> Self {
        match marker.map(str::to_ascii_uppercase).as_deref() {
            Some("DR") => Direction::Debit,
            Some("CR") => Direction::Credit,
            _ => self,
        }
    }

    fn from_sbi_word(word: &str) -> Self {
        if word == "DEP" {
            Direction::Credit
        } else {
            Direction::Debit
        }
    }
}

/// `<label> Transfer to X` / `<label> Received from X`; known merchants of unknown direction are
/// payees (`<label> Payment to X`).
fn transfer_line(label: &str, direction: Direction, merchant: &str, known: bool) -> String {
    match direction {
        Direction::Debit => format!("{label} Transfer to {merchant}"),
        Direction::Credit => format!("{label} Received from {merchant}"),
        Direction::Unknown if known => format!("{label} Payment to {merchant}"),
        Direction::Unknown => format!("{label} Transfer: {merchant}"),
    }
}

/// `Transfer to X` / `Transfer from X` for plain account-to-account transfers.
fn plain_transfer_line(direction: Direction, name: &str) -> String {
    match direction {
        Direction::Credit => format!("Transfer from {name}"),
        _ => format!("Transfer to {name}"),
    }
}

/// `UPI/DR|CR/utr/name/bank/upi_id/app` and `UPVDR/utr/name/bank/upi_id`, optionally behind
/// `WDL TFR`/`DEP TFR` (SBI) and followed by an SBI branch tail `AT <code> <branch>`.
fn upi_slash(narration: &Narration<'_>) -> Option<Extraction> {
    let text = narration.text;
    if !(starts_after_prefix(text, &["UP"])) {
        return None;
    }
    let (head, location) = narration.head_and_location();
    let caps = UPI_SLASH.captures(head)?;
    let mut direction =
        Direction::from_prefix(&caps).with_marker(caps.name("dir").map(|m| m.as_str()));
    if direction == Direction::Unknown && caps["kind"].eq_ignore_ascii_case("UPVDR") {
        direction = Direction::Debit;
    }
    let segments: Vec<&str> = caps
        .name("rest")
        .map_or(Vec::new(), |m| m.as_str().split('/').collect());
    let field = |i: usize| segments.get(i).and_then(|s| non_empty(s));
    let name = field(0).and_then(|s| clean_name(&s));
    let upi_id = field(2);
    let app = field(3).and_then(|s| non_empty(s.trim_end_matches(['.', ' '])));
    let (merchant, known) = resolve_merchant(name.as_deref(), &[upi_id.as_deref(), app.as_deref()]);
    Some(Extraction {
        method: Some("upi"),
        clean_description: transfer_line("UPI", direction, &merchant, known),
        merchant,
        reference: Some(caps["utr"].to_string()),
        location,
        counterparty_bank: field(1),
        upi_id,
        app,
    })
}

/// `UPI-NAME-vpa@handle-IFSC-utr-remark` (HDFC style); the `@` segment is the UPI id.
fn upi_dash(narration: &Narration<'_>) -> Option<Extraction> {
    let text = narration.text;
    if !(starts_after_prefix(text, &["UPI-"])) {
        return None;
    }
    let caps = UPI_DASH.captures(text)?;
    let mut direction = Direction::from_prefix(&caps);
    let mut segments: Vec<&str> = caps["rest"].split('-').map(str::trim).collect();
    if segments.len() > 1 && is_direction_marker(segments[0]) {
        direction = direction.with_marker(Some(segments.remove(0)));
    }
    let vpa_index = segments
        .iter()
        .position(|s| s.contains('@'))
        .filter(|&i| i > 0);
    let name_end = vpa_index.unwrap_or(1).min(segments.len());
    let name = clean_name(&segments[..name_end].join("-"))?;
    let upi_id = vpa_index
        .and_then(|i| segments[i].split_whitespace().next())
        .map(str::to_string);
    let tail = segments
        .get(name_end + usize::from(vpa_index.is_some())..)
        .unwrap_or_default();
    let parts = classify_segments(tail);
    let (merchant, known) = resolve_merchant(Some(&name), &[upi_id.as_deref()]);
    Some(Extraction {
        method: Some("upi"),
        clean_description: transfer_line("UPI", direction, &merchant, known),
        merchant,
        reference: parts.reference,
        counterparty_bank: parts.bank,
        upi_id,
        ..Extraction::default()
    })
}

/// `POS ATM PURCH <gateway> <ref> <merchant...> <LOCATION>` (SBI card purchase).
fn pos_purchase(narration: &Narration<'_>) -> Option<Extraction> {
    let text = narration.text;
    if !(text.starts_with("POS ATM PURCH")) {
        return None;
    }
    let caps = POS_PURCH.captures(text)?;
    let mut tokens: Vec<&str> = caps.get(1).map_or("", |m| m.as_str()).split(' ').collect();
    tokens.retain(|t| !t.is_empty());
    let mut reference = None;
    if tokens.len() > 1 && is_gateway(tokens[0]) && is_digits(tokens[1]) {
        reference = Some(tokens[1].to_string());
        tokens.drain(..2);
    } else if tokens.first().is_some_and(|t| is_digits(t)) {
        reference = Some(tokens[0].to_string());
        tokens.remove(0);
    }
    // A trailing number (often a phone number) is neither merchant nor location.
    while tokens.len() > 1 && tokens.last().is_some_and(|t| is_digits(t)) {
        tokens.pop();
    }
    let location = match tokens.as_slice() {
        [_, .., last] if last.chars().any(char::is_alphabetic) => tokens.pop().map(str::to_string),
        _ => None,
    };
    let body = tokens.join(" ");
    let merchant = known_merchant(&body)
        .map(str::to_string)
        .or_else(|| clean_name(strip_gateway_prefix(&body)))
        .or_else(|| location.clone())
        .unwrap_or_else(|| UNKNOWN.to_string());
    let clean_description = match &location {
        Some(loc) => format!("POS Purchase at {merchant} ({loc})"),
        None => format!("POS Purchase at {merchant}"),
    };
    Some(Extraction {
        method: Some("pos"),
        merchant,
        reference,
        location,
        clean_description,
        ..Extraction::default()
    })
}

/// `POS <digits> NAME` (short card-purchase form).
fn pos_short(narration: &Narration<'_>) -> Option<Extraction> {
    let text = narration.text;
    if !(text.starts_with("POS ")) {
        return None;
    }
    let caps = POS_SHORT.captures(text)?;
    let name = &caps[2];
    let merchant = known_merchant(name)
        .map(str::to_string)
        .or_else(|| clean_name(name))
        .unwrap_or_else(|| UNKNOWN.to_string());
    Some(Extraction {
        method: Some("pos"),
        clean_description: format!("POS Purchase at {merchant}"),
        merchant,
        reference: Some(caps[1].to_string()),
        ..Extraction::default()
    })
}

/// `ATM WDL ATM CASH <atm id> <LOCATION>`.
fn atm_withdrawal(narration: &Narration<'_>) -> Option<Extraction> {
    let text = narration.text;
    if !(text.starts_with("ATM WDL")) {
        return None;
    }
    let caps = ATM_WDL.captures(text)?;
    let rest = caps.get(1).map_or("", |m| m.as_str()).trim();
    let (first, remainder) = rest.split_once(' ').unwrap_or((rest, ""));
    let (reference, place) = if first.chars().any(|c| c.is_ascii_digit()) {
        (Some(first.to_string()), remainder)
    } else {
        (None, rest)
    };
    let location = non_empty(place.trim_matches([',', ' ']));
    let clean_description = match &location {
        Some(loc) => format!("ATM Cash Withdrawal at {loc}"),
        None => "ATM Cash Withdrawal".to_string(),
    };
    Some(Extraction {
        method: Some("atm"),
        merchant: "ATM Withdrawal".to_string(),
        reference,
        location,
        clean_description,
        ..Extraction::default()
    })
}

/// `WDL TFR INB <name>... AT <code> <branch>` (SBI internet banking).
fn inb_transfer(narration: &Narration<'_>) -> Option<Extraction> {
    let text = narration.text;
    if !(["WDL TFR INB", "DEP TFR INB"]
        .iter()
        .any(|p| text.starts_with(p)))
    {
        return None;
    }
    let (head, location) = narration.head_and_location();
    let caps = INB.captures(head)?;
    let direction = Direction::from_sbi_word(&caps[1]);
    let name = caps.get(2).and_then(|m| clean_name(m.as_str()));
    let (merchant, _) = resolve_merchant(name.as_deref(), &[]);
    let clean_description = match (&name, direction) {
        (Some(raw), _) if raw.starts_with("Gift") => format!("Online Transfer: {raw}"),
        (_, Direction::Credit) => format!("Online Transfer from {merchant}"),
        _ => format!("Online Transfer to {merchant}"),
    };
    Some(Extraction {
        method: Some("inb"),
        merchant,
        location,
        clean_description,
        ..Extraction::default()
    })
}

/// `CASH DEPOSIT SELF AT <code> <branch>`.
fn cash_deposit(narration: &Narration<'_>) -> Option<Extraction> {
    let text = narration.text;
    if !(text.starts_with("CASH DEP")) {
        return None;
    }
    let (head, location) = narration.head_and_location();
    let caps = CASH_DEPOSIT.captures(head)?;
    let is_self = caps.get(1).is_some_and(|m| m.as_str().starts_with("SELF"));
    let merchant = if is_self {
        "Self Deposit"
    } else {
        "Cash Deposit"
    };
    let clean_description = match &location {
        Some(loc) => format!("Cash Deposit at {loc}"),
        None => "Cash Deposit".to_string(),
    };
    Some(Extraction {
        method: Some("cash"),
        merchant: merchant.to_string(),
        location,
        clean_description,
        ..Extraction::default()
    })
}

/// `CEMTEX DEP <ref> ...` (cash deposit machine).
fn cemtex_deposit(narration: &Narration<'_>) -> Option<Extraction> {
    let text = narration.text;
    if !(text.starts_with("CEMTEX DEP")) {
        return None;
    }
    let caps = CEMTEX.captures(text)?;
    let rest = caps.get(1).map_or("", |m| m.as_str());
    let reference = rest
        .split(' ')
        .next()
        .filter(|t| t.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_string);
    let merchant = known_merchant(rest).unwrap_or("Cash Deposit Machine");
    let clean_description = match &reference {
        Some(r) => format!("CDM Deposit (Ref: {r})"),
        None => "CDM Deposit".to_string(),
    };
    Some(Extraction {
        method: Some("cash"),
        merchant: merchant.to_string(),
        reference,
        clean_description,
        ..Extraction::default()
    })
}

/// `DEP TFR VISA-IN-RMT:<digits><NAME>` (Visa card-network credit, typically a refund).
fn visa_remittance(narration: &Narration<'_>) -> Option<Extraction> {
    let text = narration.text;
    if !(text.starts_with("DEP TFR VISA-IN-RMT")) {
        return None;
    }
    let caps = VISA_REMITTANCE.captures(text)?;
    let name = clean_name(&caps[2]);
    let (merchant, known) = resolve_merchant(name.as_deref(), &[]);
    let clean_description = if known {
        format!("Refund from {merchant}")
    } else {
        format!("Visa Credit from {merchant}")
    };
    Some(Extraction {
        method: Some("card"),
        merchant,
        reference: non_empty(&caps[1]),
        clean_description,
        ..Extraction::default()
    })
}

/// `NEFT|IMPS|RTGS/[P2A/]ref/name/bank/...`.
fn bank_slash(narration: &Narration<'_>) -> Option<Extraction> {
    let text = narration.text;
    if !(starts_after_prefix(text, &["NEFT/", "IMPS/", "RTGS/"])) {
        return None;
    }
    let (head, location) = narration.head_and_location();
    let caps = BANK_SLASH.captures(head)?;
    let kind = caps["kind"].to_ascii_uppercase();
    let mut direction = Direction::from_prefix(&caps);
    let mut segments = caps["rest"].split('/').map(str::trim).peekable();
    while let Some(marker) = segments.next_if(|s| is_channel_marker(s)) {
        direction = direction.with_marker(Some(marker));
    }
    let reference = segments
        .next_if(|s| !s.contains(' ') && s.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_string);
    let name = segments.next().and_then(clean_name);
    let bank = segments.next().and_then(non_empty);
    Some(bank_transfer(
        &kind, direction, name, reference, bank, location,
    ))
}

/// `NEFT-DR-BANK-NAME`, `NEFT DR-IFSC-NAME-...-ref`, `IMPS-ref-NAME-BANK-...` (dash or `*` form).
fn bank_dash(narration: &Narration<'_>) -> Option<Extraction> {
    let text = narration.text;
    if !(starts_after_prefix(text, &["NEFT", "IMPS", "RTGS"])) {
        return None;
    }
    let (head, location) = narration.head_and_location();
    let caps = BANK_DASH.captures(head)?;
    let kind = caps["kind"].to_ascii_uppercase();
    let mut direction =
        Direction::from_prefix(&caps).with_marker(caps.name("dir").map(|m| m.as_str()));
    let separator = if &caps["sep"] == "*" { '*' } else { '-' };
    let mut segments: Vec<&str> = caps["rest"].split(separator).map(str::trim).collect();
    while segments.first().is_some_and(|s| is_channel_marker(s)) {
        direction = direction.with_marker(Some(segments.remove(0)));
    }
    let parts = classify_segments(&segments);
    Some(bank_transfer(
        &kind,
        direction,
        parts.name,
        parts.reference,
        parts.bank,
        location,
    ))
}

/// Shared result of the NEFT/IMPS/RTGS rules.
fn bank_transfer(
    kind: &str,
    direction: Direction,
    name: Option<String>,
    reference: Option<String>,
    bank: Option<String>,
    location: Option<String>,
) -> Extraction {
    let method = match kind {
        "NEFT" => "neft",
        "IMPS" => "imps",
        _ => "rtgs",
    };
    let (merchant, known) = resolve_merchant(name.as_deref(), &[]);
    Extraction {
        method: Some(method),
        clean_description: transfer_line(kind, direction, &merchant, known),
        merchant,
        reference,
        location,
        counterparty_bank: bank,
        ..Extraction::default()
    }
}

/// `... TFR ... OF Mr|Mrs|Ms|Miss NAME AT <code> <branch>` (account-to-account transfer).
fn named_transfer(narration: &Narration<'_>) -> Option<Extraction> {
    let text = narration.text;
    if !(text.contains("OF ")) {
        return None;
    }
    let (head, location) = narration.head_and_location();
    let caps = OF_NAME.captures(head)?;
    let before = &head[..caps.get(0).map_or(0, |m| m.start())];
    if !TRANSFER_WORD.is_match(before) {
        return None;
    }
    let direction = if head.starts_with("DEP ") || head.starts_with("BY ") {
        Direction::Credit
    } else {
        Direction::Debit
    };
    let (merchant, _) = resolve_merchant(clean_name(&caps[1]).as_deref(), &[]);
    Some(Extraction {
        method: Some("transfer"),
        clean_description: plain_transfer_line(direction, &merchant),
        merchant,
        location,
        ..Extraction::default()
    })
}

/// Any other `WDL TFR`/`DEP TFR` narration: payment to / refund from a known merchant, else a
/// transfer named by the cleaned remainder.
fn sbi_transfer(narration: &Narration<'_>) -> Option<Extraction> {
    let text = narration.text;
    if !(["WDL TFR", "DEP TFR"].iter().any(|p| text.starts_with(p))) {
        return None;
    }
    let (head, location) = narration.head_and_location();
    let caps = SBI_TRANSFER.captures(head)?;
    let direction = Direction::from_sbi_word(&caps[1]);
    let rest = caps.get(2).map_or("", |m| m.as_str());
    let (merchant, clean_description) = match known_merchant(rest) {
        Some(known) if direction == Direction::Credit => {
            (known.to_string(), format!("Refund from {known}"))
        }
        Some(known) => (known.to_string(), format!("Payment to {known}")),
        None => match clean_fallback(rest) {
            Some(name) => {
                let line = plain_transfer_line(direction, &name);
                (name, line)
            }
            None if direction == Direction::Credit => {
                (UNKNOWN.to_string(), "Incoming Transfer".to_string())
            }
            None => (UNKNOWN.to_string(), "Outgoing Transfer".to_string()),
        },
    };
    Some(Extraction {
        method: Some("transfer"),
        merchant,
        location,
        clean_description,
        ..Extraction::default()
    })
}

/// Fields recovered from the loosely ordered segments of a dash-form narration.
#[derive(Default)]
struct Segments {
    name: Option<String>,
    reference: Option<String>,
    bank: Option<String>,
}

/// Classifies dash-form segments: IFSC or bank code → bank, a token with 6+ digits → reference,
/// the first other segment with letters → name; masked account numbers are skipped.
fn classify_segments(segments: &[&str]) -> Segments {
    let mut parts = Segments::default();
    for segment in segments.iter().map(|s| s.trim()) {
        if MASKED_NUMBER.is_match(segment) {
            continue;
        }
        if parts.bank.is_none() && (IFSC.is_match(segment) || BANK_CODES.contains(&segment)) {
            parts.bank = segment.get(..4).map(str::to_string);
        } else if parts.reference.is_none() && is_reference_token(segment) {
            parts.reference = Some(segment.to_string());
        } else if parts.name.is_none() {
            parts.name = clean_name(segment);
        }
    }
    parts
}

/// Splits an SBI branch tail (`... AT 04413 PBB NELLORE`) off the narration.
fn split_branch_tail(text: &str) -> (&str, Option<&str>) {
    if !text.contains("AT ") {
        return (text, None);
    }
    match BRANCH_TAIL.captures(text) {
        Some(caps) => {
            let start = caps.get(0).map_or(text.len(), |m| m.start());
            let location = caps
                .get(1)
                .map(|m| m.as_str().trim())
                .filter(|place| !place.is_empty());
            (text[..start].trim_end(), location)
        }
        None => (text, None),
    }
}

/// Final merchant for a counterparty: a known merchant in the name, else one in the UPI id (local
/// part) or app that is not a payment app, else the raw name, else `Unknown`. Also says whether
/// the merchant came from the known-merchant table.
fn resolve_merchant(name: Option<&str>, channel_fields: &[Option<&str>]) -> (String, bool) {
    if let Some(known) = name.and_then(known_merchant) {
        return (known.to_string(), true);
    }
    let from_channel = channel_fields
        .iter()
        .flatten()
        .map(|field| field.split('@').next().unwrap_or_default())
        .filter_map(known_merchant)
        .find(|known| !PAYMENT_APPS.contains(known));
    match (from_channel, name) {
        (Some(known), _) => (known.to_string(), true),
        (None, Some(raw)) => (raw.to_string(), false),
        (None, None) => (UNKNOWN.to_string(), false),
    }
}

/// A counterparty name as written, trimmed of `...`, trailing `._-` and spaces; `None` unless it
/// has a letter.
fn clean_name(raw: &str) -> Option<String> {
    let name = collapse_whitespace(raw);
    let name = name
        .trim_end_matches(['.', '_', '-', ' ', ','])
        .trim_start();
    name.chars()
        .any(char::is_alphabetic)
        .then(|| name.to_string())
}

/// Drops a gateway prefix (`17Pho*`, `RAZ*`, `*`) and leading digits (`36Swiggy`).
fn strip_gateway_prefix(body: &str) -> &str {
    let body = match body.split_once('*') {
        Some((prefix, rest)) if !prefix.contains(' ') => rest,
        _ => body,
    };
    body.trim_start_matches(|c: char| c.is_ascii_digit() || c == '*' || c == ' ')
}

/// Payment-gateway code in a POS narration (`OTHPG`, `SBIPG`): upper-case letters and digits,
/// starting with a letter.
fn is_gateway(token: &str) -> bool {
    token.starts_with(|c: char| c.is_ascii_uppercase())
        && token
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn is_digits(token: &str) -> bool {
    !token.is_empty() && token.chars().all(|c| c.is_ascii_digit())
}

/// A single alphanumeric token with at least six digits (UTR, NEFT reference).
fn is_reference_token(token: &str) -> bool {
    token.chars().all(|c| c.is_ascii_alphanumeric())
        && token.chars().filter(char::is_ascii_digit).count() >= 6
}

/// `DR` or `CR`.
fn is_direction_marker(segment: &str) -> bool {
    ["DR", "CR"].iter().any(|m| segment.eq_ignore_ascii_case(m))
}

/// `DR`, `CR` or an IMPS channel code (`P2A`, `P2P`, `P2M`).
fn is_channel_marker(segment: &str) -> bool {
    is_direction_marker(segment)
        || ["P2A", "P2P", "P2M"]
            .iter()
            .any(|m| segment.eq_ignore_ascii_case(m))
}

// ---------------------------------------------------------------------------------------------
// Steps 2 and 3: known merchants and the cleaning fallback for text that is not a bank narration
// ---------------------------------------------------------------------------------------------

fn plain_text(text: &str) -> Extraction {
    let merchant = known_merchant(text)
        .map(str::to_string)
        .or_else(|| clean_fallback(text))
        .unwrap_or_else(|| UNKNOWN.to_string());
    Extraction {
        method: inferred_method(text),
        merchant,
        clean_description: text.to_string(),
        ..Extraction::default()
    }
}

/// A payment method named by a whole word in free text (`UPI`, `NEFT`, `POS`, `Visa`, ...).
fn inferred_method(text: &str) -> Option<&'static str> {
    let word = METHOD_WORD
        .captures(text)?
        .get(1)?
        .as_str()
        .to_ascii_lowercase();
    Some(match word.as_str() {
        "upi" | "upvdr" => "upi",
        "neft" => "neft",
        "imps" => "imps",
        "rtgs" => "rtgs",
        "inb" => "inb",
        "pos" => "pos",
        "atm" => "atm",
        _ => "card",
    })
}

/// The cleaning fallback: split on whitespace and separators, drop whole-token noise words,
/// numbers, long digit runs, IFSC codes and masked numbers, then title-case. `None` when nothing
/// is left.
fn clean_fallback(text: &str) -> Option<String> {
    let is_separator = |c: char| c.is_whitespace() || "/|\\<>*_,;:#()[]{}\"=+!?".contains(c);
    let mut words: Vec<String> = Vec::new();
    for raw in text.split(is_separator) {
        let token = trim_punctuation(raw);
        if token == "&" {
            words.push(token.to_string());
            continue;
        }
        let upper = token.to_uppercase();
        if NOISE_WORDS.contains(&upper.as_str())
            || IFSC.is_match(token)
            || MASKED_NUMBER.is_match(token)
        {
            continue;
        }
        let stripped = LONG_DIGITS.replace_all(token, "");
        let stripped = trim_punctuation(&stripped);
        if stripped.chars().any(char::is_alphabetic) {
            words.push(stripped.to_string());
        }
    }
    while words.last().is_some_and(|w| w == "&") {
        words.pop();
    }
    let start = words.iter().position(|w| w != "&")?;
    let all_caps = !text.chars().any(char::is_lowercase);
    let titled: Vec<String> = words[start..]
        .iter()
        .map(|w| title_word(w, all_caps))
        .collect();
    Some(truncate_words(&titled, MAX_FALLBACK_CHARS))
}

/// Trims leading and trailing characters that are not letters or digits.
fn trim_punctuation(token: &str) -> &str {
    if token == "&" {
        return token;
    }
    token.trim_matches(|c: char| !c.is_alphanumeric())
}

/// Title-cases an all-caps or all-lower-case word (`SWIGGY` → `Swiggy`, `coffee` → `Coffee`);
/// mixed-case words (`McDonald`, `iPhone`) and, in mixed-case text, upper-case words (`PVR`) are
/// kept.
fn title_word(word: &str, all_caps_text: bool) -> String {
    let has_upper = word.chars().any(char::is_uppercase);
    let has_lower = word.chars().any(char::is_lowercase);
    let keep = match (has_upper, has_lower) {
        (true, true) => true,
        (true, false) => !all_caps_text,
        (false, _) => false,
    };
    if keep {
        return word.to_string();
    }
    let mut out = String::with_capacity(word.len());
    let mut word_start = true;
    for c in word.chars() {
        if c.is_alphabetic() {
            if word_start {
                out.extend(c.to_uppercase());
            } else {
                out.extend(c.to_lowercase());
            }
            word_start = false;
        } else {
            out.push(c);
            word_start = !(c.is_alphanumeric() || c == '\'');
        }
    }
    out
}

/// Joins words with spaces, stopping before the one that would exceed `max_chars` (the first
/// word is cut at a character boundary if it alone is too long).
fn truncate_words(words: &[String], max_chars: usize) -> String {
    let mut out = String::new();
    let mut chars = 0;
    for word in words {
        let len = word.chars().count();
        let needed = if out.is_empty() { len } else { len + 1 };
        if chars + needed > max_chars {
            if out.is_empty() {
                out = word.chars().take(max_chars).collect();
            }
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
        chars += needed;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Small text helpers
// ---------------------------------------------------------------------------------------------

/// Collapses runs of Unicode whitespace (and U+FEFF) to one space and trims the ends; ASCII text
/// that has nothing to collapse is borrowed.
fn collapse_whitespace(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    // One pass: ASCII, no whitespace but single inner spaces.
    let mut previous_space = true;
    let collapsed = bytes.iter().all(|&b| {
        let ok = match b {
            b' ' => !previous_space,
            b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r' => false,
            _ => b.is_ascii(),
        };
        previous_space = b == b' ';
        ok
    }) && !previous_space;
    if collapsed || text.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for word in text
        .split(|c: char| c.is_whitespace() || c == '\u{feff}')
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    Cow::Owned(out)
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// True when `word` occurs in `text` delimited by non-alphanumeric characters.
fn has_word(text: &str, word: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric())
        .any(|token| token == word)
}

#[cfg(test)]
mod tests;
