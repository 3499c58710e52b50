//! Transfers: person-to-person payments sent and received, and salary credits from employers.

use rand::seq::IndexedRandom;
use rand::Rng;

use super::{split_of, Generator, Sign, Split, HOLDOUT_ONE_IN, PER_PHRASE};

/// Person-to-person transfers generated.
const PEOPLE: usize = 3_000;

/// Salary credits generated.
const SALARIES: usize = 2_700;

impl<'v> Generator<'v> {
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
    pub(super) fn people(&mut self) {
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
    pub(super) fn salaries(&mut self) {
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
}
