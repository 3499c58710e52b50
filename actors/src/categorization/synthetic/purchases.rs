//! Purchases: merchants, local shops and generic phrases of every spending label, paid by UPI,
//! card, mandate or net banking, with the occasional refund.

use rand::Rng;

use super::{label, split_of, Generator, Sign, Split, PER_PHRASE};

/// Narrations generated per merchant.
const PER_MERCHANT: usize = 36;

/// Local shops ("<head> <kind>") generated per label.
const LOCAL_SHOPS: usize = 900;

impl<'v> Generator<'v> {
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
    pub(super) fn merchants(&mut self) {
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
    pub(super) fn local_shops(&mut self) {
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
}
