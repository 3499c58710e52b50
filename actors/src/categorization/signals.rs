//! What a raw narration and its amount say beyond the cleaned words: the payment channel
//! (`UPI`, `NEFT`, `ATM`, … — words the cleaner drops), direction markers, the kind of UPI
//! handle (a phone number, a named person or a merchant), legal-name suffixes of organisations,
//! salary tokens and the tokens that rule salary out (dividends, interest, refunds), and the
//! amount's sign, size and roundness. The salary guardrail and the global model's extra
//! features are built from these.

use std::sync::LazyLock;

use regex::Regex;

/// Version of the signal features; stored in the global model's header.
pub const SIGNALS_VERSION: u32 = 1;

/// Whole tokens that mark a salary (issue #13: salary, sal, payroll, stipend, wages).
const SALARY_TOKENS: [&str; 5] = ["SALARY", "SAL", "PAYROLL", "STIPEND", "WAGES"];
/// Tokens of credits that are never salary: dividends, interest, refunds and reversals.
const NOT_SALARY_TOKENS: [&str; 12] = [
    "DIVIDEND",
    "DIV",
    "INTEREST",
    "INT",
    "REFUND",
    "RFND",
    "REVERSAL",
    "REVERSED",
    "REV",
    "CASHBACK",
    "CHARGEBACK",
    "RETURN",
];
/// Bank-transfer channels an employer pays through.
const TRANSFER_CHANNELS: [&str; 6] = ["NEFT", "RTGS", "ACH", "IMPS", "NACH", "ECS"];
/// Legal-name suffixes of organisations and words of institutions (never people).
const ORGANISATION_TOKENS: [&str; 32] = [
    "LIMITED",
    "LTD",
    "PVT",
    "PRIVATE",
    "LLP",
    "TECHNOLOGIES",
    "TECHNOLOGY",
    "SERVICES",
    "SOLUTIONS",
    "SYSTEMS",
    "SOFTWARE",
    "CORPORATION",
    "CORP",
    "INC",
    "CONSULTANCY",
    "CONSULTING",
    "INDUSTRIES",
    "ENTERPRISES",
    "LABS",
    "INFOTECH",
    "COMPANY",
    "SCHOOL",
    "COLLEGE",
    "UNIVERSITY",
    "INSTITUTE",
    "HOSPITAL",
    "HOSPITALS",
    "TRUST",
    "SOCIETY",
    "FOUNDATION",
    "GOVT",
    "GOVERNMENT",
];
/// Tokens the model sees as cues of their own (most are dropped by the cleaner).
const CUE_TOKENS: [&str; 34] = [
    "UPI", "IMPS", "NEFT", "RTGS", "ACH", "NACH", "ECS", "POS", "ATM", "NWD", "ATW", "ECOM", "CHQ",
    "CLG", "MB", "IB", "INB", "BIL", "BBPS", "SI", "AUTOPAY", "CDM", "DR", "CR", "DEBIT", "CREDIT",
    "TO", "FROM", "BY", "TRANSFER", "BILL", "PAYMENT", "P2A", "P2M",
];
/// UPI handles that belong to merchants' payment gateways.
const MERCHANT_PSPS: [&str; 8] = [
    "okbizaxis",
    "yespay",
    "ikwik",
    "razorpay",
    "ptys",
    "pthdfc",
    "ptsbi",
    "freecharge",
];
/// Prefixes of merchants' UPI handles (QR codes, gateways).
const MERCHANT_HANDLE_PREFIXES: [&str; 8] = [
    "paytmqr", "bharatpe", "gpay", "mab.", "q", "merchant", "pay", "razorpay",
];

static HANDLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([A-Za-z0-9_.]+)@([A-Za-z0-9_.-]+)").unwrap());
static TOKEN_SPLIT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[A-Z]+|[0-9]+").unwrap());

/// The kind of a UPI handle's owner, from its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandleKind {
    /// A mobile number (`9876543210@ybl`): a person.
    Phone,
    /// A merchant's QR code or gateway (`paytmqr…@paytm`, `q123…@ybl`, `…@razorpay`).
    Merchant,
    /// A name (`rahul.sharma@okaxis`, `swiggy@icici`).
    Named,
}

impl HandleKind {
    /// The name used in features.
    fn as_str(self) -> &'static str {
        match self {
            HandleKind::Phone => "phone",
            HandleKind::Merchant => "merchant",
            HandleKind::Named => "named",
        }
    }
}

/// A UPI handle found in a narration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handle {
    /// The owner's kind.
    pub kind: HandleKind,
    /// The payment service provider, lowercase (`okaxis`).
    pub psp: String,
}

/// The signals of one narration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signals {
    /// A salary token is present.
    pub salary_token: bool,
    /// A dividend, interest, refund or reversal token is present.
    pub not_salary: bool,
    /// A NEFT/RTGS/ACH/IMPS (or NACH/ECS) channel word is present.
    pub bank_transfer: bool,
    /// A legal-name suffix of an organisation or an institution word is present.
    pub organisation: bool,
    /// The first UPI handle, if any.
    pub handle: Option<Handle>,
    /// The cue tokens present (channel, direction and filler words), in a fixed order.
    pub cues: Vec<&'static str>,
    /// Words left after cleaning.
    pub cleaned_words: usize,
}

/// The kind of a UPI handle.
fn handle_kind(local: &str, psp: &str) -> HandleKind {
    if local.len() >= 10 && local.bytes().all(|b| b.is_ascii_digit()) {
        return HandleKind::Phone;
    }
    let merchant_prefix = MERCHANT_HANDLE_PREFIXES.iter().any(|prefix| {
        local.strip_prefix(prefix).is_some_and(|rest| {
            // A bare `q`/`pay` prefix only counts before digits (`q123456@ybl`, `pay.x` is a name).
            prefix.len() > 3 || rest.starts_with(|c: char| c.is_ascii_digit())
        })
    });
    if merchant_prefix || MERCHANT_PSPS.contains(&psp) {
        HandleKind::Merchant
    } else {
        HandleKind::Named
    }
}

impl Signals {
    /// The signals of a raw narration; `cleaned` is its [`clean`](super::features::clean)ed form.
    pub fn of(text: &str, cleaned: &str) -> Self {
        let upper = text.to_uppercase();
        let tokens: Vec<&str> = TOKEN_SPLIT.find_iter(&upper).map(|m| m.as_str()).collect();
        let has = |list: &[&str]| tokens.iter().any(|t| list.contains(t));
        let handle = HANDLE.captures(text).map(|captures| {
            let local = captures[1].to_lowercase();
            let psp = captures[2].to_lowercase();
            Handle {
                kind: handle_kind(&local, &psp),
                psp,
            }
        });
        Self {
            salary_token: has(&SALARY_TOKENS),
            not_salary: has(&NOT_SALARY_TOKENS),
            bank_transfer: has(&TRANSFER_CHANNELS),
            organisation: has(&ORGANISATION_TOKENS),
            handle,
            cues: CUE_TOKENS
                .into_iter()
                .filter(|cue| tokens.contains(cue))
                .collect(),
            cleaned_words: cleaned.split_whitespace().count(),
        }
    }

    /// The model's extra features of this narration and its amount, as strings to hash.
    pub fn features(&self, amount: Option<f64>) -> Vec<String> {
        let mut features: Vec<String> = self.cues.iter().map(|cue| format!("t:{cue}")).collect();
        features.extend(amount_features(amount));
        let flags = [
            (self.salary_token, "salary"),
            (self.not_salary, "not-salary"),
            (self.bank_transfer, "bank-transfer"),
            (self.organisation, "organisation"),
        ];
        features.extend(
            flags
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, f)| (*f).to_owned()),
        );
        if let Some(handle) = &self.handle {
            features.push(format!("handle:{}", handle.kind.as_str()));
            features.push(format!("psp:{}", handle.psp));
        }
        features.push(format!("words:{}", self.cleaned_words.min(4)));
        features
    }
}

/// The amount's sign, order of magnitude and roundness as features (`unknown` when absent).
pub fn amount_features(amount: Option<f64>) -> Vec<String> {
    let Some(amount) = amount.filter(|a| a.is_finite()) else {
        return vec!["amount:unknown".into()];
    };
    let sign = if amount > 0.0 { "credit" } else { "debit" };
    let size = amount.abs();
    let magnitude = if size < 1.0 {
        0
    } else {
        (size.log10().floor() as i32).clamp(0, 6)
    };
    let paise = (size * 100.0).round() as u64;
    let round = [100_000, 10_000, 1_000]
        .into_iter()
        .find(|step| paise.is_multiple_of(*step))
        .map_or("none", |step| match step {
            100_000 => "1000",
            10_000 => "100",
            _ => "10",
        });
    vec![
        format!("amount:{sign}"),
        format!("amount:{sign}:{magnitude}"),
        format!("round:{round}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signals(text: &str) -> Signals {
        Signals::of(text, &crate::categorization::features::clean(text))
    }

    #[test]
    fn reads_salary_transfer_and_organisation_tokens() {
        let neft = signals("NEFT CR-HDFC0000240-ZENITH TECHNOLOGIES PVT LTD-RAHUL SHARMA-N123");
        assert!(neft.bank_transfer && neft.organisation && !neft.salary_token);
        let by = signals("BY TRANSFER-NEFT*HDFC0000240*N123*ACME LTD*SALARY FOR NOV");
        assert!(by.salary_token && by.bank_transfer && by.organisation);
        assert!(signals("SAL NOV24").salary_token);
        assert!(!signals("SALAD BAR").salary_token);
        assert!(signals("ACH CR ITC LIMITED DIVIDEND").not_salary);
        assert!(signals("INT.PD:1234:01-10-2024").not_salary);
        assert!(signals("AMAZON REFUND").not_salary);
        assert!(!signals("UPI/CR/1234/RAHUL SHARMA/SBIN").organisation);
        // Bank names print in person-to-person narrations ("…/HDFC BANK").
        assert!(!signals("UPI/P2A/1234/RAHUL SHARMA/NA/HDFC BANK").organisation);
        assert!(signals("NEFT CR-SBIN0001-ST MARYS SCHOOL-N1").organisation);
    }

    #[test]
    fn tells_handles_apart() {
        let kind = |text: &str| signals(text).handle.map(|h| h.kind);
        assert_eq!(kind("UPI-ZEPTO-9876543210@paytm"), Some(HandleKind::Phone));
        assert_eq!(
            kind("UPI/DR/1/X/paytmqr281005050101@paytm"),
            Some(HandleKind::Merchant)
        );
        assert_eq!(
            kind("UPI/DR/1/X/q123456789@ybl"),
            Some(HandleKind::Merchant)
        );
        assert_eq!(
            kind("UPI/DR/1/X/shop.pay@okbizaxis"),
            Some(HandleKind::Merchant)
        );
        assert_eq!(
            kind("UPI/DR/1/RAHUL/rahul.sharma@okaxis"),
            Some(HandleKind::Named)
        );
        assert_eq!(kind("POS 1234 SWIGGY"), None);
        assert_eq!(signals("x rahul@oksbi").handle.unwrap().psp, "oksbi");
    }

    #[test]
    fn features_carry_channel_direction_and_amount() {
        let features = signals("UPI/DR/412345/RAHUL/SBIN/rahul@oksbi/NA").features(Some(-500.0));
        for expected in [
            "t:UPI",
            "t:DR",
            "amount:debit",
            "amount:debit:2",
            "round:100",
            "handle:named",
            "psp:oksbi",
            "words:4",
        ] {
            assert!(
                features.iter().any(|f| f == expected),
                "{expected} in {features:?}"
            );
        }
        assert_eq!(amount_features(None), ["amount:unknown"]);
        assert_eq!(
            amount_features(Some(85_250.5)),
            ["amount:credit", "amount:credit:4", "round:none"]
        );
        assert_eq!(amount_features(Some(-20_000.0))[2], "round:1000");
        assert_eq!(amount_features(Some(-40.0))[2], "round:10");
        assert_eq!(amount_features(Some(-45.0))[2], "round:none");
        assert_eq!(amount_features(Some(f64::NAN)), ["amount:unknown"]);
    }
}
