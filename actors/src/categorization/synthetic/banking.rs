//! Banking: the Finance narrations that are not merchant payments (interest, dividends, payouts,
//! EMIs, premiums, card bills, fees, SIPs, taxes) and cash withdrawals and deposits (Misc).

use rand::Rng;

use super::{split_of, Generator, Sign};

/// Special narrations (interest, EMIs, card bills, ATM, …) generated per family.
const PER_SPECIAL: usize = 130;

impl<'v> Generator<'v> {
    /// Finance narrations that are not merchant payments: interest, dividends, broker payouts,
    /// EMIs, premiums, card bills, fees, SIPs and taxes.
    pub(super) fn finance(&mut self) {
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
    pub(super) fn cash(&mut self) {
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
}
