//! The training corpus of the global categorizer, generated from data in the repository with a
//! seeded RNG: the §4.2 seed phrases, every rule keyword, and synthetic bank-style narrations
//! (UPI, IMPS, NEFT, POS, ATM, ACH, card bills, salary credits, person-to-person transfers, …)
//! over the merchants, phrases, names and employers of `data/categorization/vocabulary.toml`,
//! each with a signed amount (or none, as a free-text classify call has).
//!
//! The holdout is split by entity, not by row: a merchant, person name, employer or city is
//! either held out (about one in [`HOLDOUT_ONE_IN`], by a hash of its name) or not, and every
//! narration built on a held-out entity is a holdout example. Seed phrases, rule keywords and
//! generic phrases always train.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use super::features::feature_hash;
use super::model::CANONICAL_LABELS;
use super::rules::RuleTable;

/// The shipped vocabulary.
const VOCABULARY: &str = include_str!("../../data/categorization/vocabulary.toml");
/// One entity in this many is held out.
pub const HOLDOUT_ONE_IN: u64 = 8;
/// Narrations generated per merchant.
const PER_MERCHANT: usize = 36;
/// Narrations generated per generic phrase.
const PER_PHRASE: usize = 8;
/// Local shops ("<head> <kind>") generated per label.
const LOCAL_SHOPS: usize = 900;
/// Person-to-person transfers generated.
const PEOPLE: usize = 3_000;
/// Salary credits generated.
const SALARIES: usize = 2_700;
/// Special narrations (interest, EMIs, card bills, ATM, …) generated per family.
const PER_SPECIAL: usize = 130;

/// The §4.2 seed phrases (three per label, none for Misc).
pub const SEED_PHRASES: [(&str, &str); 30] = [
    ("swiggy order", "Food"),
    ("zomato payment", "Food"),
    ("restaurant bill", "Food"),
    ("uber ride", "Transport"),
    ("ola trip", "Transport"),
    ("metro recharge", "Transport"),
    ("electricity bill", "Utilities"),
    ("water bill", "Utilities"),
    ("airtel recharge", "Utilities"),
    ("salary credited", "Salary"),
    ("monthly payroll", "Salary"),
    ("salary transfer", "Salary"),
    ("amazon purchase", "Shopping"),
    ("flipkart order", "Shopping"),
    ("retail shopping", "Shopping"),
    ("netflix subscription", "Entertainment"),
    ("spotify payment", "Entertainment"),
    ("movie ticket", "Entertainment"),
    ("pharmacy purchase", "Health"),
    ("hospital bill", "Health"),
    ("clinic payment", "Health"),
    ("course payment", "Education"),
    ("tuition fee", "Education"),
    ("school fee", "Education"),
    ("loan emi", "Finance"),
    ("insurance premium", "Finance"),
    ("investment transfer", "Finance"),
    ("transfer to friend", "People"),
    ("gift payment", "People"),
    ("family transfer", "People"),
];

/// The words of one label.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelVocabulary {
    /// Typical spend in rupees, `[low, high]`.
    pub amount: [f64; 2],
    /// Brands and merchants.
    pub merchants: Vec<String>,
    /// Kind words of local shops (`MEDICALS`, `TEXTILES`).
    pub kinds: Vec<String>,
    /// Generic descriptions.
    pub phrases: Vec<String>,
    /// UPI remarks.
    pub notes: Vec<String>,
}

/// `data/categorization/vocabulary.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vocabulary {
    /// Bumped on every change.
    pub version: u32,
    /// Indian cities.
    pub cities: Vec<String>,
    /// IFSC bank prefixes.
    pub banks: Vec<String>,
    /// UPI handles of people.
    pub personal_psps: Vec<String>,
    /// UPI handles of merchants.
    pub merchant_psps: Vec<String>,
    /// Given names.
    pub given_names: Vec<String>,
    /// Surnames.
    pub surnames: Vec<String>,
    /// Words of synthetic employers.
    pub employer_words: Vec<String>,
    /// Kinds of synthetic employers (`TECHNOLOGIES`).
    pub employer_kinds: Vec<String>,
    /// Legal suffixes (`PVT LTD`).
    pub legal_suffixes: Vec<String>,
    /// Words of legal names that say nothing about the trade (`TECHNOLOGIES`).
    pub entity_words: Vec<String>,
    /// Real employers.
    pub employers: Vec<String>,
    /// First words of local shops' names.
    pub shop_heads: Vec<String>,
    /// UPI remarks that say nothing about the purpose.
    pub generic_notes: Vec<String>,
    /// Month abbreviations.
    pub months: Vec<String>,
    /// Month names.
    pub month_names: Vec<String>,
    /// Per label (all but Salary and People).
    pub labels: BTreeMap<String, LabelVocabulary>,
}

static SHIPPED_VOCABULARY: LazyLock<Vocabulary> =
    LazyLock::new(|| toml::from_str(VOCABULARY).expect("the shipped vocabulary.toml is valid"));

impl Vocabulary {
    /// The vocabulary shipped in the repository, parsed once.
    pub fn shipped() -> &'static Vocabulary {
        &SHIPPED_VOCABULARY
    }
}

/// Which side of the split an example is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Fitted on.
    Train,
    /// Built on held-out entities: calibrates the temperature and measures generalisation.
    Holdout,
}

/// One labelled narration.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The narration.
    pub text: String,
    /// The signed amount, if the example has one.
    pub amount: Option<f64>,
    /// A canonical label.
    pub label: &'static str,
    /// Train or holdout.
    pub split: Split,
}

/// Whether an entity (merchant, name, employer, city) is held out.
pub fn held_out(entity: &str) -> bool {
    feature_hash(entity.as_bytes()).is_multiple_of(HOLDOUT_ONE_IN)
}

/// The split of examples built on `entity`.
fn split_of(entity: &str) -> Split {
    if held_out(entity) {
        Split::Holdout
    } else {
        Split::Train
    }
}

/// The canonical spelling of a label.
fn label(name: &str) -> &'static str {
    CANONICAL_LABELS
        .into_iter()
        .find(|l| *l == name)
        .unwrap_or_else(|| panic!("{name} is not a canonical label"))
}

/// The corpus built from the shipped vocabulary and rules with `seed`.
pub fn corpus(seed: u64) -> Vec<Example> {
    Generator::new(Vocabulary::shipped(), seed).corpus(RuleTable::shipped())
}

/// Builds narrations with a seeded RNG.
struct Generator<'v> {
    vocabulary: &'v Vocabulary,
    rng: ChaCha8Rng,
    examples: Vec<Example>,
}

/// Direction of a generated amount.
#[derive(Clone, Copy)]
enum Sign {
    Debit,
    Credit,
}

impl<'v> Generator<'v> {
    fn new(vocabulary: &'v Vocabulary, seed: u64) -> Self {
        Self {
            vocabulary,
            rng: ChaCha8Rng::seed_from_u64(seed),
            examples: Vec::new(),
        }
    }

    fn push(&mut self, text: String, amount: Option<f64>, label: &'static str, split: Split) {
        self.examples.push(Example {
            text,
            amount,
            label,
            split,
        });
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn pick<'a>(&mut self, list: &'a [String]) -> &'a str {
        list.choose(&mut self.rng).map_or("", String::as_str)
    }

    fn pick_str(&mut self, list: &[&'static str]) -> &'static str {
        list.choose(&mut self.rng).copied().unwrap_or_default()
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|i| {
                let low = if i == 0 { 1 } else { 0 };
                char::from(b'0' + self.rng.random_range(low..10u8))
            })
            .collect()
    }

    fn alnum(&mut self, n: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
        (0..n)
            .map(|_| char::from(CHARS[self.rng.random_range(0..CHARS.len())]))
            .collect()
    }

    /// Upper case mostly, sometimes title or lower case.
    fn cased(&mut self, text: &str) -> String {
        match self.rng.random_range(0..10) {
            0 => text.to_lowercase(),
            1 | 2 => text
                .split(' ')
                .map(|w| {
                    let lower = w.to_lowercase();
                    let mut chars = lower.chars();
                    chars.next().map_or_else(String::new, |first| {
                        first.to_uppercase().chain(chars).collect()
                    })
                })
                .collect::<Vec<_>>()
                .join(" "),
            _ => text.to_uppercase(),
        }
    }

    /// Cuts a payee name the way UPI narrations do.
    fn truncated(&mut self, text: &str) -> String {
        if text.len() > 12 && self.chance(0.2) {
            let cut = self.rng.random_range(10..text.len());
            text[..cut].trim_end().to_owned()
        } else {
            text.to_owned()
        }
    }

    /// A signed amount in `range` (log-uniform, variously rounded), or none a quarter of the time.
    fn amount(&mut self, range: [f64; 2], sign: Sign) -> Option<f64> {
        if self.chance(0.25) {
            return None;
        }
        let (low, high) = (range[0].max(1.0).ln(), range[1].max(range[0] + 1.0).ln());
        let raw = self.rng.random_range(low..high).exp();
        let value = match self.rng.random_range(0..10) {
            0..=3 => raw.round(),
            4 | 5 => (raw / 10.0).round() * 10.0,
            6 | 7 => ((raw / 100.0).round() * 100.0).max(100.0),
            _ => (raw * 100.0).round() / 100.0,
        };
        Some(match sign {
            Sign::Debit => -value,
            Sign::Credit => value,
        })
    }

    /// A UPI remark: the label's own half of the time, else one that says nothing.
    fn note(&mut self, notes: &[String]) -> String {
        if self.chance(0.5) {
            self.pick(notes).to_owned()
        } else {
            self.pick(&self.vocabulary.generic_notes).to_owned()
        }
    }

    fn month(&mut self) -> String {
        self.pick(&self.vocabulary.months).to_owned()
    }

    fn date(&mut self) -> String {
        let (day, month, year) = (
            self.rng.random_range(1..29),
            self.rng.random_range(1..13),
            self.rng.random_range(2021..2027),
        );
        let name = &self.vocabulary.months[month - 1];
        match self.rng.random_range(0..4) {
            0 => format!("{day:02}/{month:02}/{year}"),
            1 => format!("{day:02}-{month:02}-{}", year % 100),
            2 => format!("{day:02}-{name}-{year}"),
            _ => format!("{day:02}{name}{}", year % 100),
        }
    }

    /// An IFSC: the bank, `0`, and a branch code (digits mostly, as most branches have).
    fn ifsc(&mut self, bank: &str) -> String {
        if self.chance(0.8) {
            format!("{bank}0{}", self.digits(6))
        } else {
            format!("{bank}0{}", self.alnum(6))
        }
    }

    fn utr(&mut self, bank: &str) -> String {
        match self.rng.random_range(0..3) {
            0 => format!("N{}", self.digits(12)),
            1 => format!("{bank}N{}", self.digits(11)),
            _ => self.digits(16),
        }
    }

    fn card(&mut self) -> String {
        match self.rng.random_range(0..3) {
            0 => format!("XXXXXXXXXXXX{}", self.digits(4)),
            1 => format!("{}XXXXXX{}", self.digits(6), self.digits(4)),
            _ => self.digits(4),
        }
    }

    fn slug(text: &str) -> String {
        text.to_lowercase()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect()
    }

    fn merchant_handle(&mut self, payee: &str) -> String {
        let psp = self.pick(&self.vocabulary.merchant_psps).to_owned();
        match self.rng.random_range(0..5) {
            0 => format!("paytmqr{}@paytm", self.digits(12)),
            1 => format!("q{}@ybl", self.digits(9)),
            2 => format!("{}.{}@{psp}", Self::slug(payee), self.digits(4)),
            _ => format!("{}@{psp}", Self::slug(payee)),
        }
    }

    fn person_handle(&mut self, given: &str, surname: &str) -> String {
        let psp = self.pick(&self.vocabulary.personal_psps).to_owned();
        let (g, s) = (given.to_lowercase(), surname.to_lowercase());
        match self.rng.random_range(0..6) {
            0 | 1 => format!("{}@{psp}", self.digits(10)),
            2 => format!("{g}.{s}@{psp}"),
            3 => format!("{g}{s}{}@{psp}", self.digits(2)),
            4 => format!("{g}{}@{psp}", self.digits(3)),
            _ => format!("{g}{s}@{psp}"),
        }
    }

    /// A debit (or, for refunds, credit) narration paying `payee`.
    fn payment(&mut self, payee: &str, note: &str, phrase: &str) -> String {
        let bank = self.pick(&self.vocabulary.banks).to_owned();
        let city = self.pick(&self.vocabulary.cities).to_owned();
        let name = self.truncated(&payee.to_uppercase());
        let reference = self.digits(12);
        match self.rng.random_range(0..25) {
            0..=2 => {
                let handle = self.merchant_handle(payee);
                format!("UPI/DR/{reference}/{name}/{bank}/{handle}/{note}")
            }
            3 | 4 => {
                let handle = self.merchant_handle(payee);
                let ifsc = self.ifsc(&bank);
                format!(
                    "UPI-{name}-{}-{ifsc}-{reference}-{}",
                    handle.to_uppercase(),
                    note.to_uppercase()
                )
            }
            5 => {
                let handle = self.merchant_handle(payee);
                format!("TO TRANSFER-UPI/DR/{reference}/{name}/{bank}/{handle}/{note}--")
            }
            6 => format!("UPI/P2M/{reference}/{name}/{note}/{bank} BANK"),
            7 | 8 => format!("POS {} {name} {city}", self.card()),
            9 => format!("POS/{name}/{city}/{}", self.date()),
            10 => format!("PCD/{}/{name}/{city}", self.digits(4)),
            11 => format!("{name} {city} IN"),
            12 => format!("{name}*{} {city}", self.alnum(8)),
            13 => format!("ECOM PUR/{name}/{}", self.date()),
            14 => format!("VIN/{name}/{}/{}", self.date(), self.digits(12)),
            15 => format!("BIL/ONL/{}/{name}/{}", self.digits(9), self.alnum(10)),
            16 => format!("ME DC SI {} {name}", self.card()),
            17 => self.cased(payee),
            18 => {
                let text = format!("{payee} {phrase}");
                self.cased(&text)
            }
            19 => {
                let text = format!("{phrase} {payee}");
                self.cased(&text)
            }
            20 => {
                let text = format!("payment to {payee}");
                self.cased(&text)
            }
            21 => format!("IMPS/P2M/{reference}/{name}/{bank}"),
            22 => {
                // SBI prints eight characters of the payee.
                let short: String = name.chars().take(8).collect();
                format!(
                    "WDL TFR UPI/DR/{reference}/{short}/{bank}/{}/Paym",
                    Self::slug(&short)
                )
            }
            23 => {
                let text = format!("paid to {payee}");
                self.cased(&text)
            }
            _ => {
                let text = format!("{payee} {note}");
                self.cased(&text)
            }
        }
    }

    /// Bill-pay and mandate narrations (utilities, finance, education).
    fn mandate(&mut self, payee: &str) -> String {
        let name = payee.to_uppercase();
        let reference = self.digits(10);
        match self.rng.random_range(0..7) {
            0 => format!("BBPS/{name}/{reference}"),
            1 => format!("IB BILLPAY DR-{}-{reference}", name.replace(' ', "")),
            2 => format!("ACH D- {name}-{reference}"),
            3 => format!("NACH DR {name} {reference}"),
            4 => format!("ECS/{name}/{reference}"),
            5 => format!("BILLDESK*{name} {reference}"),
            _ => format!("AUTOPAY SI {name} {reference}"),
        }
    }

    /// A merchant as itself mostly, sometimes as its legal entity (`SWIGGY TECHNOLOGIES PVT LTD`).
    fn legal_name(&mut self, merchant: &str) -> String {
        let vocabulary = self.vocabulary;
        match self.rng.random_range(0..10) {
            0 => format!("{merchant} {}", self.pick(&vocabulary.legal_suffixes)),
            1 => {
                let word = self.pick(&vocabulary.entity_words);
                format!(
                    "{merchant} {word} {}",
                    self.pick(&vocabulary.legal_suffixes)
                )
            }
            _ => merchant.to_owned(),
        }
    }

    /// A refund or cashback from `payee`.
    fn refund(&mut self, payee: &str) -> String {
        let name = payee.to_uppercase();
        let reference = self.digits(12);
        match self.rng.random_range(0..4) {
            0 => format!("REFUND {name} {reference}"),
            1 => format!(
                "UPI/CR/{reference}/{name}/{}/REFUND",
                self.pick(&self.vocabulary.banks)
            ),
            2 => format!("{name} CASHBACK"),
            _ => format!("REV-{name}-{reference}"),
        }
    }

    /// Narrations of the merchants and phrases of every label in the vocabulary.
    fn merchants(&mut self) {
        for (name, words) in &self.vocabulary.labels {
            let category = label(name);
            // Bills and subscriptions are often mandates; Finance has its own (EMIs, SIPs).
            let mandates = match category {
                "Utilities" | "Education" | "Health" | "Entertainment" => 0.15,
                "Finance" => 0.1,
                _ => 0.04,
            };
            let refunds = matches!(
                category,
                "Shopping" | "Food" | "Transport" | "Entertainment"
            );
            for merchant in &words.merchants {
                let split = split_of(merchant);
                for _ in 0..PER_MERCHANT {
                    let payee = self.legal_name(merchant);
                    let note = self.note(&words.notes);
                    let phrase = self.pick(&words.phrases).to_owned();
                    let (text, sign) = if refunds && self.chance(0.05) {
                        (self.refund(&payee), Sign::Credit)
                    } else if self.chance(mandates) {
                        (self.mandate(&payee), Sign::Debit)
                    } else {
                        (self.payment(&payee, &note, &phrase), Sign::Debit)
                    };
                    let amount = self.amount(words.amount, sign);
                    self.push(text, amount, category, split);
                }
            }
            for phrase in &words.phrases {
                for _ in 0..PER_PHRASE {
                    let note = self.pick(&words.notes).to_owned();
                    let text = if self.chance(0.5) {
                        self.cased(phrase)
                    } else {
                        self.payment(phrase, &note, phrase)
                    };
                    let amount = self.amount(words.amount, Sign::Debit);
                    self.push(text, amount, category, Split::Train);
                }
            }
        }
    }

    /// A label's vocabulary, at random.
    fn pick_label(&mut self) -> (&'v String, &'v LabelVocabulary) {
        let labels = &self.vocabulary.labels;
        let index = self.rng.random_range(0..labels.len());
        labels.iter().nth(index).expect("an index below the length")
    }

    /// A local shop's name on a held-out or trained head word, and its split.
    fn local_shop(&mut self, kinds: &[String]) -> (String, Split) {
        let vocabulary = self.vocabulary;
        let head = match self.rng.random_range(0..20) {
            0..=11 => self.pick(&vocabulary.shop_heads),
            12..=16 => self.pick(&vocabulary.surnames),
            _ => self.pick(&vocabulary.given_names),
        }
        .to_owned();
        let split = split_of(&head);
        let kind = self.pick(kinds).to_owned();
        let name = match self.rng.random_range(0..6) {
            0 => format!("{kind} {head}"),
            1 => format!("NEW {head} {kind}"),
            2 => format!("SRI {head} {kind}"),
            _ => format!("{head} {kind}"),
        };
        (name, split)
    }

    /// Payments to local shops named by their kind (`SRI BALAJI MEDICALS`).
    fn local_shops(&mut self) {
        for (name, words) in &self.vocabulary.labels {
            let category = label(name);
            for _ in 0..LOCAL_SHOPS {
                let (shop, split) = self.local_shop(&words.kinds);
                let note = self.note(&words.notes);
                let phrase = self.pick(&words.phrases).to_owned();
                let text = self.payment(&shop, &note, &phrase);
                let amount = self.amount(words.amount, Sign::Debit);
                self.push(text, amount, category, split);
            }
        }
    }

    /// A given name and surname on one side of the split.
    fn person(&mut self, split: Split) -> (String, String) {
        let vocabulary = self.vocabulary;
        let side = |list: &'v [String]| -> Vec<&'v String> {
            list.iter().filter(|name| split_of(name) == split).collect()
        };
        let (givens, surnames) = (side(&vocabulary.given_names), side(&vocabulary.surnames));
        let given = givens.choose(&mut self.rng).map_or("", |s| s.as_str());
        let surname = surnames.choose(&mut self.rng).map_or("", |s| s.as_str());
        (given.to_owned(), surname.to_owned())
    }

    /// The split of the `i`-th generated person.
    fn person_split(i: usize) -> Split {
        if i.is_multiple_of(HOLDOUT_ONE_IN as usize) {
            Split::Holdout
        } else {
            Split::Train
        }
    }

    /// A person's name as statements print it.
    fn person_name(&mut self, given: &str, surname: &str, middle: &str) -> String {
        match self.rng.random_range(0..9) {
            0..=2 => format!("{given} {surname}"),
            3 => format!("{surname} {given}"),
            4 => format!("{given} {}", &surname[..1]),
            5 => format!("{} {surname}", &given[..1]),
            6 => format!("{given} {middle} {surname}"),
            7 => given.to_owned(),
            _ => format!(
                "{} {given} {surname}",
                self.pick_str(&["MR", "MRS", "MS", "SHRI", "SMT"])
            ),
        }
    }

    /// Person-to-person transfers, sent and received.
    fn people(&mut self) {
        let vocabulary = self.vocabulary;
        let notes: Vec<String> = [
            "tfr",
            "money",
            "gift",
            "share",
            "thanks",
            "return",
            "for mom",
            "trip share",
        ]
        .map(String::from)
        .to_vec();
        for i in 0..PEOPLE {
            let split = Self::person_split(i);
            let (given, surname) = self.person(split);
            let (middle, _) = self.person(split);
            let name = self.person_name(&given, &surname, &middle);
            let name = self.truncated(&name);
            let handle = self.person_handle(&given, &surname);
            let bank = self.pick(&vocabulary.banks).to_owned();
            // A transfer to a person is People whatever the remark says it was for.
            let note = if self.chance(0.3) {
                let (_, words) = self.pick_label();
                self.pick(&words.notes).to_owned()
            } else {
                self.note(&notes)
            };
            let reference = self.digits(12);
            let credit = self.chance(0.4);
            let (dr, by) = if credit { ("CR", "BY") } else { ("DR", "TO") };
            let text = match self.rng.random_range(0..25) {
                0..=2 => format!("UPI/{dr}/{reference}/{name}/{bank}/{handle}/{note}"),
                3 | 4 => {
                    let ifsc = self.ifsc(&bank);
                    format!(
                        "UPI-{name}-{}-{ifsc}-{reference}-{}",
                        handle.to_uppercase(),
                        note.to_uppercase()
                    )
                }
                5 => format!("{by} TRANSFER-UPI/{dr}/{reference}/{name}/{bank}/{handle}/{note}--"),
                6 => format!("IMPS/P2A/{reference}/{name}/{bank}/{}", self.digits(4)),
                7 => format!(
                    "IMPS-{reference}-{name}-{bank}-XXXXXXXX{}-{note}",
                    self.digits(4)
                ),
                8 => format!("MMT/IMPS/{reference}/{note}/{name}/{bank}"),
                9 => {
                    let (ifsc, utr) = (self.ifsc(&bank), self.utr(&bank));
                    format!("NEFT {dr}-{ifsc}-{name}-{utr}")
                }
                10 => format!("UPI/P2A/{reference}/{name}/{note}/{bank} BANK"),
                11 => {
                    let verb = if credit { "Received from" } else { "Sent to" };
                    let text = format!("{verb} {name}");
                    self.cased(&text)
                }
                12 => {
                    let verb = if credit {
                        "Money received from"
                    } else {
                        "Paid to"
                    };
                    let text = format!("{verb} {name}");
                    self.cased(&text)
                }
                13 => {
                    let verb = if credit {
                        "transfer from"
                    } else {
                        "transfer to"
                    };
                    let text = format!("{verb} {name}");
                    self.cased(&text)
                }
                14 => format!("{name} {}", handle),
                15 => {
                    let short: String = name.chars().take(8).collect();
                    let tfr = if credit { "DEP TFR" } else { "WDL TFR" };
                    format!(
                        "{tfr} UPI/{dr}/{reference}/{short}/{bank}/{}/Paym",
                        Self::slug(&short)
                    )
                }
                16 => format!("INF/INFT/{}/{note}/{name}", self.digits(9)),
                17 => {
                    let verb = if credit { "RECEIVED FROM" } else { "SENT TO" };
                    format!("MB:{verb} {name}")
                }
                18 => format!(
                    "{by} TRANSFER-INB IMPS/{reference}/{name}/XX{}/{note}",
                    self.digits(4)
                ),
                19 => format!("IMPS/P2P/{reference}/{name}"),
                20 => format!("UPI/{name}/{reference}/{note}"),
                21 => {
                    let verb = if credit { "TRF FROM" } else { "TRF TO" };
                    format!("{verb} {name}")
                }
                22 => {
                    let verb = if credit {
                        "Money received from"
                    } else {
                        "Money sent to"
                    };
                    let text = format!("{verb} {name}");
                    self.cased(&text)
                }
                23 => format!("FT {dr} {} {name}", self.digits(12)),
                _ => self.cased(&name),
            };
            let sign = if credit { Sign::Credit } else { Sign::Debit };
            let amount = self.amount([100.0, 50_000.0], sign);
            // People send round sums more often than shops charge them.
            let amount = amount.map(|a| {
                if self.chance(0.5) {
                    (a / 100.0).round() * 100.0
                } else {
                    a
                }
            });
            self.push(text, amount, "People", split);
        }
        for phrase in [
            "transfer to friend",
            "gift payment",
            "family transfer",
            "sent to friend",
            "money to family",
        ] {
            for _ in 0..PER_PHRASE {
                let text = self.cased(phrase);
                let amount = self.amount([100.0, 20_000.0], Sign::Debit);
                self.push(text, amount, "People", Split::Train);
            }
        }
    }

    /// An employer: an institution, a real company or `<word> <word> <kind> <suffix>`; the split
    /// follows its first word.
    fn employer(&mut self) -> (String, Split) {
        let vocabulary = self.vocabulary;
        if self.chance(0.15) {
            // Schools, colleges and hospitals pay salaries too.
            let head = self.pick(&vocabulary.shop_heads).to_owned();
            let kind = self.pick_str(&[
                "PUBLIC SCHOOL",
                "INTERNATIONAL SCHOOL",
                "COLLEGE",
                "UNIVERSITY",
                "INSTITUTE OF TECHNOLOGY",
                "HOSPITAL",
                "MULTISPECIALITY HOSPITALS",
                "EDUCATIONAL TRUST",
                "WELFARE SOCIETY",
            ]);
            return (format!("{head} {kind}"), split_of(&head));
        }
        if self.chance(0.4) {
            let employer = self.pick(&vocabulary.employers).to_owned();
            let split = split_of(&employer);
            return (employer, split);
        }
        let first = self.pick(&vocabulary.employer_words).to_owned();
        let second = self.pick(&vocabulary.employer_words).to_owned();
        let kind = self.pick(&vocabulary.employer_kinds).to_owned();
        let suffix = self.pick(&vocabulary.legal_suffixes).to_owned();
        let name = if self.chance(0.5) {
            format!("{first} {kind} {suffix}")
        } else {
            format!("{first} {second} {kind} {suffix}")
        };
        (name, split_of(&first))
    }

    /// Salary credits, with and without a salary token.
    fn salaries(&mut self) {
        for _ in 0..SALARIES {
            let (employer, split) = self.employer();
            let bank = self.pick(&self.vocabulary.banks).to_owned();
            let (ifsc, utr) = (self.ifsc(&bank), self.utr(&bank));
            let month = self.month();
            let month_name = self.pick(&self.vocabulary.month_names).to_owned();
            let year = self.rng.random_range(2021..2027);
            let given = self.pick(&self.vocabulary.given_names).to_owned();
            let text = match self.rng.random_range(0..16) {
                0..=2 => format!("NEFT CR-{ifsc}-{employer}-{given}-{utr}"),
                3 | 4 => format!("BY TRANSFER-NEFT*{ifsc}*{utr}*{employer}*SALARY FOR {month}--"),
                5 => format!("SALARY FOR {month_name} {year}"),
                6 => format!("SAL {month}{}", year % 100),
                7 => format!("{employer} SALARY {month} {year}"),
                8 => format!("ACH CR {employer} PAYROLL {}", self.digits(8)),
                9 => format!("NACH CR-{employer}-SAL-{month}{}", year % 100),
                10 => format!("IMPS CR-{}-{employer}-STIPEND", self.digits(12)),
                11 => format!("RTGS CR-{ifsc}-{employer}-{utr}"),
                12 => format!("NEFT-{utr}-{employer}"),
                13 => format!("SALARY CREDIT {employer}"),
                14 => {
                    let text = format!("salary credited for {month_name}");
                    self.cased(&text)
                }
                _ => format!("STIPEND {month} {year}"),
            };
            let amount = self.amount([12_000.0, 350_000.0], Sign::Credit);
            self.push(text, amount, "Salary", split);
        }
    }

    /// Finance narrations that are not merchant payments: interest, dividends, broker payouts,
    /// EMIs, premiums, card bills, fees, SIPs and taxes.
    fn finance(&mut self) {
        let vocabulary = self.vocabulary;
        let lenders = &vocabulary.labels["Finance"].merchants;
        for family in 0..8 {
            for _ in 0..PER_SPECIAL {
                let bank = self.pick(&vocabulary.banks).to_owned();
                let account = self.digits(12);
                let (date, date2) = (self.date(), self.date());
                let month = self.month();
                let card = self.digits(4);
                let lender = self.pick(lenders).to_owned();
                let (text, range, sign, entity) = match family {
                    0 => {
                        let text = match self.rng.random_range(0..6) {
                            0 => format!("INT.PD:{account}:{date} TO {date2}"),
                            1 => "CREDIT INTEREST CAPITALISED".to_owned(),
                            2 => format!("SB INTEREST CREDIT {month}"),
                            3 => format!("INT CR {month}{}", self.rng.random_range(21..27)),
                            4 => format!("FD INTEREST {account}"),
                            _ => format!("INTEREST PAID TILL {date}"),
                        };
                        (text, [5.0, 6_000.0], Sign::Credit, bank)
                    }
                    1 => {
                        let company = self.pick(&vocabulary.employers).to_owned();
                        let text = match self.rng.random_range(0..4) {
                            0 => format!("ACH CR {company} DIVIDEND"),
                            1 => format!(
                                "{company} FINAL DIVIDEND {}",
                                self.rng.random_range(2021..2027)
                            ),
                            2 => format!("NACH-CR-{company}-DIV-{}", self.digits(8)),
                            _ => format!("DIV {company} {}", self.digits(6)),
                        };
                        (text, [50.0, 20_000.0], Sign::Credit, company)
                    }
                    2 => {
                        let (ifsc, utr) = (self.ifsc(&bank), self.utr(&bank));
                        let text = format!("NEFT CR-{ifsc}-{lender}-{utr}");
                        (text, [500.0, 100_000.0], Sign::Credit, lender)
                    }
                    3 => {
                        let text = match self.rng.random_range(0..5) {
                            0 => format!("ACH D- {lender}-{}", self.digits(10)),
                            1 => format!("NACH DR {lender} {}", self.digits(10)),
                            2 => format!("EMI {}/{} {lender}", self.rng.random_range(1..24), 24),
                            3 => format!("{lender} LOAN EMI {}", self.digits(8)),
                            _ => format!("ECS/{lender}/{}", self.digits(10)),
                        };
                        (text, [1_000.0, 80_000.0], Sign::Debit, lender)
                    }
                    4 => {
                        let text = match self.rng.random_range(0..6) {
                            0 => format!("IB BILLPAY DR-{bank}CC-{card}"),
                            1 => format!("CC PAYMENT {bank} XX{card}"),
                            2 => "CREDIT CARD PAYMENT".to_owned(),
                            3 => format!("BBPS CC {bank} {card}"),
                            4 => format!("AUTOPAY SI-TAD {}", self.card()),
                            _ => format!("PAYMENT TO CREDIT CARD XX{card}"),
                        };
                        (text, [500.0, 150_000.0], Sign::Debit, bank)
                    }
                    5 => {
                        let text = self
                            .pick_str(&[
                                "SMS ALERT CHARGES",
                                "DEBIT CARD ANNUAL FEE",
                                "ATM WDL CHRG",
                                "CHRGS FOR MIN BAL",
                                "GST ON CHARGES",
                                "CHQ BOOK CHARGES",
                                "NEFT CHARGES",
                                "DC ANNUAL FEE+GST",
                                "CONSOLIDATED CHARGES",
                                "LATE PAYMENT FEE",
                            ])
                            .to_owned();
                        (
                            format!("{text} {month}"),
                            [10.0, 1_200.0],
                            Sign::Debit,
                            bank,
                        )
                    }
                    6 => {
                        let text = match self.rng.random_range(0..4) {
                            0 => format!("SIP {lender} {}", self.digits(8)),
                            1 => format!("BSE LIMITED SIP {}", self.digits(8)),
                            2 => format!("NACH-{lender}-SIP-{}", self.digits(8)),
                            _ => format!("{lender} PURCHASE {}", self.digits(8)),
                        };
                        (text, [500.0, 50_000.0], Sign::Debit, lender)
                    }
                    _ => {
                        let text = self
                            .pick_str(&[
                                "INCOME TAX",
                                "CBDT TAX PAYMENT",
                                "GST PAYMENT",
                                "TDS PAYMENT",
                                "ADVANCE TAX",
                            ])
                            .to_owned();
                        (
                            format!("{text} {}", self.alnum(10)),
                            [1_000.0, 200_000.0],
                            Sign::Debit,
                            bank,
                        )
                    }
                };
                let amount = self.amount(range, sign);
                let split = split_of(&entity);
                self.push(text, amount, "Finance", split);
            }
        }
    }

    /// Cash withdrawals and deposits (Misc).
    fn cash(&mut self) {
        let vocabulary = self.vocabulary;
        for _ in 0..3 * PER_SPECIAL {
            let city = self.pick(&vocabulary.cities).to_owned();
            let (card, atm) = (
                self.digits(4),
                format!("{}{}", self.alnum(4), self.digits(4)),
            );
            let date = self.date();
            let (text, sign) = match self.rng.random_range(0..10) {
                0 => (format!("ATM WDL {atm} {city}"), Sign::Debit),
                1 => (format!("NWD-{card}-{atm}-{city}"), Sign::Debit),
                2 => (format!("ATW-{card}-{atm}-{city}"), Sign::Debit),
                3 => (format!("CASH WDL {atm} {date}"), Sign::Debit),
                4 => (format!("ATM CASH {} {city}", self.digits(6)), Sign::Debit),
                5 => (format!("CASH WITHDRAWAL {city}"), Sign::Debit),
                6 => (format!("EAW-{card}-{atm}-{city}"), Sign::Debit),
                7 => (format!("CASH DEPOSIT BY SELF {city}"), Sign::Credit),
                8 => (format!("BY CASH {city}"), Sign::Credit),
                _ => (format!("CDM CASH DEP {atm}"), Sign::Credit),
            };
            let amount = self
                .amount([500.0, 20_000.0], sign)
                .map(|a| (a / 100.0).round() * 100.0);
            self.push(text, amount, "Misc", split_of(&city));
        }
    }

    /// The seed phrases and every rule pattern, as bare text.
    fn keywords(&mut self, rules: &RuleTable) {
        for (phrase, name) in SEED_PHRASES {
            for text in [phrase.to_owned(), phrase.to_uppercase()] {
                self.push(text, None, label(name), Split::Train);
            }
        }
        for rule in rules.rules() {
            let category = label(&rule.category);
            self.push(rule.pattern.to_uppercase(), None, category, Split::Train);
        }
    }

    fn corpus(mut self, rules: &RuleTable) -> Vec<Example> {
        self.keywords(rules);
        self.merchants();
        self.local_shops();
        self.people();
        self.salaries();
        self.finance();
        self.cash();
        self.examples
    }
}

#[cfg(test)]
mod tests;
