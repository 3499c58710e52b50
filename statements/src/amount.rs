//! Amount cleaning (ingestion spec §1.6, TARGET) and the currency hint carried by amount text
//! (§1.7).
//!
//! Amounts are exact decimals (never `f64` arithmetic), rounded to 2 dp half away from zero —
//! what Postgres does when storing into `NUMERIC(12,2)`. The parser reports the sign as written
//! plus any debit/credit marker found in the text (parentheses, `Dr`/`Cr`); applying markers and
//! the sign convention (debit negative, credit positive) is the caller's job.

use rust_decimal::{Decimal, RoundingStrategy};

/// `NUMERIC(12,2)` holds at most 10 integer digits.
const MAX_INTEGER_DIGITS: usize = 10;
/// Exclusive bound on the absolute value of an amount (10^10).
const AMOUNT_LIMIT: i64 = 10_000_000_000;

/// ISO 4217 codes accepted as a written amount prefix or suffix.
const CURRENCY_CODES: [&str; 15] = [
    "INR", "USD", "EUR", "GBP", "AED", "SGD", "AUD", "CAD", "JPY", "CHF", "CNY", "HKD", "NZD",
    "SAR", "QAR",
];

/// A debit/credit marker written in the amount text itself, or derived from a "type" column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignMarker {
    /// Money out (`Dr`, parentheses, a debit-like type).
    Debit,
    /// Money in (`Cr`, a credit-like type).
    Credit,
}

/// A successfully parsed amount cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedAmount {
    /// The number with its written sign (parentheses make it negative), rounded to exactly 2 dp.
    pub value: Decimal,
    /// A `Dr`/`Cr` or parentheses marker, which overrides other sign sources for the caller.
    pub marker: Option<SignMarker>,
    /// ISO 4217 code from a currency symbol or code written with the amount.
    pub currency: Option<&'static str>,
}

/// Outcome of parsing one amount cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountParse {
    /// No value (blank, `-`, `nan`, `null`, `None`).
    Empty,
    /// Text that is not an amount, or is ambiguous (European `1.234,56`), or too large.
    Invalid,
    /// A parsed amount; zero is a value (the caller skips zero rows).
    Value(ParsedAmount),
}

/// Parses an amount cell as written in a statement.
///
/// Accepts a leading `-`/`+` or a trailing `-`; `(75.50)` (negative, marker
/// [`SignMarker::Debit`]); `Dr`/`Cr` (optionally with a dot) before or after the number;
/// thousands separators in Western (`1,234,567.00`) or Indian (`12,34,567.00`) grouping; one
/// currency symbol/code before or after the number (`₹`, `Rs`, `Rs.`, `INR`, `$`, `USD`, `€`,
/// `EUR`, `£`, `GBP`, or another common ISO code such as `AED`); whitespace between tokens.
/// Decimal commas (`12,50`, `1.234,56`), several dots, unknown words and values of 10^10 or more
/// (after rounding) are [`AmountParse::Invalid`].
pub fn parse_amount(text: &str) -> AmountParse {
    let text = text.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    if text.is_empty()
        || text == "-"
        || ["nan", "null", "none"]
            .iter()
            .any(|word| text.eq_ignore_ascii_case(word))
    {
        return AmountParse::Empty;
    }
    parse_tokens(text).map_or(AmountParse::Invalid, AmountParse::Value)
}

/// Converts a typed numeric cell (spreadsheet number, JSON number) to an amount.
///
/// The exact decimal is taken from the shortest round-trip representation of the float (so
/// `15.99` is 15.99, not 15.9899…), then rounded like [`parse_amount`]. Non-finite values and
/// values of 10^10 or more are [`AmountParse::Invalid`].
pub fn parse_float_cell(value: f64) -> AmountParse {
    if !value.is_finite() {
        return AmountParse::Invalid;
    }
    let text = format!("{value}");
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.as_str()),
    };
    match parse_magnitude(digits) {
        Some(magnitude) => AmountParse::Value(ParsedAmount {
            value: with_sign(magnitude, negative),
            marker: None,
            currency: None,
        }),
        None => AmountParse::Invalid,
    }
}

/// Reads a separate "type" column (`Debit`, `DR`, `Withdrawal`, `Credit`, `Deposit`, …).
///
/// The text is lower-cased and split on non-alphanumeric characters; the first token that is
/// one of `debit dr withdrawal expense purchase out sent payment` gives
/// [`SignMarker::Debit`], one of `credit cr deposit income refund in received` gives
/// [`SignMarker::Credit`]. No matching token gives `None`.
pub fn direction_from_type(text: &str) -> Option<SignMarker> {
    text.split(|c: char| !c.is_alphanumeric())
        .find_map(|token| match token.to_lowercase().as_str() {
            "debit" | "dr" | "withdrawal" | "expense" | "purchase" | "out" | "sent" | "payment" => {
                Some(SignMarker::Debit)
            }
            "credit" | "cr" | "deposit" | "income" | "refund" | "in" | "received" => {
                Some(SignMarker::Credit)
            }
            _ => None,
        })
}

/// Rounds to 2 dp half away from zero and sets the scale to exactly 2 (`5` → `5.00`).
///
/// Zero is always returned non-negative (`-0.004` → `0.00`). Magnitudes too large for a
/// 2-dp scale (beyond ~7.9·10^26) keep the largest scale that fits.
pub fn round_money(value: Decimal) -> Decimal {
    let mut rounded = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(2);
    if rounded.is_zero() {
        rounded.set_sign_positive(true);
    }
    rounded
}

/// One lexical piece of an amount cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    /// A run of digits, `,` and `.`.
    Number(&'a str),
    /// A run of ASCII letters (a dot right after it is dropped as an abbreviation dot).
    Word(&'a str),
    /// Any other non-whitespace character.
    Symbol(char),
}

/// Splits `text` into tokens, skipping whitespace.
fn tokenize(text: &str) -> Vec<Token<'_>> {
    let is_number = |c: char| c.is_ascii_digit() || c == '.' || c == ',';
    let mut tokens = Vec::new();
    let mut pos = 0;
    while let Some(c) = text[pos..].chars().next() {
        let start = pos;
        pos += c.len_utf8();
        if c.is_whitespace() {
            continue;
        }
        // Number and word runs are ASCII, so `pos` stays on character boundaries.
        let run_end = |keep: &dyn Fn(char) -> bool| {
            text[start..]
                .find(|c: char| !keep(c))
                .map_or(text.len(), |len| start + len)
        };
        if is_number(c) {
            pos = run_end(&is_number);
            tokens.push(Token::Number(&text[start..pos]));
        } else if c.is_ascii_alphabetic() {
            pos = run_end(&|c: char| c.is_ascii_alphabetic());
            let word = &text[start..pos];
            // An abbreviation dot (`Rs.`, `Cr.`, `INR.500`) belongs to the word, not the number.
            if text[pos..].starts_with('.') {
                pos += 1;
            }
            tokens.push(Token::Word(word));
        } else {
            tokens.push(Token::Symbol(c));
        }
    }
    tokens
}

/// What a word token means in an amount cell.
enum WordKind {
    Currency(&'static str),
    Marker(SignMarker),
}

/// Classifies a word: a currency code (`Rs` → INR) or a `Dr`/`Cr` marker; `None` if unknown.
fn classify_word(word: &str) -> Option<WordKind> {
    if word.eq_ignore_ascii_case("rs") {
        return Some(WordKind::Currency("INR"));
    }
    if word.eq_ignore_ascii_case("cr") {
        return Some(WordKind::Marker(SignMarker::Credit));
    }
    if word.eq_ignore_ascii_case("dr") {
        return Some(WordKind::Marker(SignMarker::Debit));
    }
    CURRENCY_CODES
        .iter()
        .find(|code| code.eq_ignore_ascii_case(word))
        .map(|code| WordKind::Currency(code))
}

/// The known ISO-4217 code written in a currency column (`inr`, ` USD `, `₹`, `Rs.`).
pub fn currency_code(text: &str) -> Option<&'static str> {
    let text = text.trim().trim_end_matches('.');
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(symbol), None) => currency_symbol(symbol),
        _ => match classify_word(text) {
            Some(WordKind::Currency(code)) => Some(code),
            _ => None,
        },
    }
}

/// The ISO code for a currency symbol.
fn currency_symbol(c: char) -> Option<&'static str> {
    match c {
        '₹' => Some("INR"),
        '$' => Some("USD"),
        '€' => Some("EUR"),
        '£' => Some("GBP"),
        _ => None,
    }
}

/// Interprets the tokens of a non-empty cell; `None` means invalid.
fn parse_tokens(text: &str) -> Option<ParsedAmount> {
    let mut number = None;
    let mut negative = None;
    let mut open_paren = false;
    let mut close_paren = false;
    let mut currency: Option<&'static str> = None;
    let mut marker = None;
    for token in tokenize(text) {
        match token {
            Token::Number(digits) => {
                if number.replace(digits).is_some() {
                    return None;
                }
            }
            Token::Symbol(c @ ('-' | '+' | '\u{2212}')) => {
                let minus = c != '+';
                // One sign only: before the number, or a trailing minus after it.
                if negative.is_some() || (number.is_some() && !minus) {
                    return None;
                }
                negative = Some(minus);
            }
            Token::Symbol('(') if !open_paren && number.is_none() => open_paren = true,
            Token::Symbol(')') if open_paren && !close_paren && number.is_some() => {
                close_paren = true;
            }
            Token::Symbol(c) => set_once(&mut currency, currency_symbol(c)?)?,
            Token::Word(word) => match classify_word(word)? {
                WordKind::Currency(code) => set_once(&mut currency, code)?,
                WordKind::Marker(kind) => set_once(&mut marker, kind)?,
            },
        }
    }
    if open_paren != close_paren {
        return None;
    }
    if open_paren {
        set_once(&mut marker, SignMarker::Debit)?;
    }
    let magnitude = parse_magnitude(number?)?;
    Some(ParsedAmount {
        value: with_sign(magnitude, open_paren || negative == Some(true)),
        marker,
        currency,
    })
}

/// Stores `value` in `slot` unless a different value is already there (`None`: a conflict).
fn set_once<T: PartialEq>(slot: &mut Option<T>, value: T) -> Option<()> {
    match slot {
        Some(existing) if *existing != value => None,
        _ => {
            *slot = Some(value);
            Some(())
        }
    }
}

/// Applies a sign to a non-negative amount, keeping zero non-negative.
fn with_sign(magnitude: Decimal, negative: bool) -> Decimal {
    if negative && !magnitude.is_zero() {
        -magnitude
    } else {
        magnitude
    }
}

/// Parses an unsigned number token (`1,23,456.50`, `.5`, `15.999`) into a rounded,
/// non-negative 2-dp decimal below 10^10; `None` if malformed or too large.
fn parse_magnitude(token: &str) -> Option<Decimal> {
    let (integer, fraction) = token.split_once('.').unwrap_or((token, ""));
    let integer = if integer.contains(',') {
        ungroup(integer)?
    } else {
        integer.to_owned()
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(&integer) || !all_digits(fraction) || (integer.is_empty() && fraction.is_empty())
    {
        return None;
    }
    let integer = integer.trim_start_matches('0');
    if integer.len() > MAX_INTEGER_DIGITS {
        return None;
    }
    // Half-away-from-zero rounding to 2 dp only depends on the third decimal, so three
    // fraction digits are exact for our purpose and keep the mantissa within 13 digits.
    let mut mantissa: i64 = 0;
    let fraction = fraction.bytes().chain(std::iter::repeat(b'0')).take(3);
    for digit in integer.bytes().chain(fraction) {
        mantissa = mantissa * 10 + i64::from(digit - b'0');
    }
    let rounded = round_money(Decimal::new(mantissa, 3));
    (rounded < Decimal::from(AMOUNT_LIMIT)).then_some(rounded)
}

/// Removes thousands separators from an integer part, checking the grouping: the last group
/// has 3 digits and the others are either all 3 digits (Western, first group 1–3 digits) or
/// all 2 digits (Indian lakh/crore, first group 1–2 digits). `None` if the grouping is invalid.
fn ungroup(integer: &str) -> Option<String> {
    let groups: Vec<&str> = integer.split(',').collect();
    let (first, rest) = groups.split_first()?;
    let (last, middle) = rest.split_last()?;
    let western = (1..=3).contains(&first.len()) && middle.iter().all(|g| g.len() == 3);
    let indian = (1..=2).contains(&first.len()) && middle.iter().all(|g| g.len() == 2);
    (last.len() == 3 && (western || indian)).then(|| groups.concat())
}

#[cfg(test)]
mod tests {
    #[test]
    fn currency_columns() {
        assert_eq!(super::currency_code(" usd "), Some("USD"));
        assert_eq!(super::currency_code("Rs."), Some("INR"));
        assert_eq!(super::currency_code("₹"), Some("INR"));
        assert_eq!(super::currency_code("Cr"), None);
        assert_eq!(super::currency_code("dollars"), None);
        assert_eq!(super::currency_code(""), None);
    }

    use super::*;

    /// The parsed value as text (checks the 2-dp scale too), marker and currency.
    fn parsed(text: &str) -> (String, Option<SignMarker>, Option<&'static str>) {
        match parse_amount(text) {
            AmountParse::Value(amount) => {
                (amount.value.to_string(), amount.marker, amount.currency)
            }
            other => panic!("{text:?} should parse, got {other:?}"),
        }
    }

    fn value(text: &str) -> String {
        parsed(text).0
    }

    fn float_value(cell: f64) -> String {
        match parse_float_cell(cell) {
            AmountParse::Value(amount) => {
                assert_eq!((amount.marker, amount.currency), (None, None));
                amount.value.to_string()
            }
            other => panic!("{cell} should parse, got {other:?}"),
        }
    }

    fn dec(text: &str) -> Decimal {
        text.parse().expect("valid test decimal")
    }

    #[test]
    fn plain_signed_amounts() {
        assert_eq!(parsed("50.00"), ("50.00".into(), None, None));
        assert_eq!(parsed("-120.00"), ("-120.00".into(), None, None));
        assert_eq!(value("+120"), "120.00");
        assert_eq!(value("15.99"), "15.99");
        assert_eq!(value("45-"), "-45.00");
        assert_eq!(value("45 -"), "-45.00");
        assert_eq!(value("- 45"), "-45.00");
        assert_eq!(value("\u{2212}45"), "-45.00");
        assert_eq!(value(".5"), "0.50");
        assert_eq!(value("5."), "5.00");
        assert_eq!(value("007"), "7.00");
    }

    #[test]
    fn currency_prefixes_and_suffixes() {
        assert_eq!(parsed("INR 299.00"), ("299.00".into(), None, Some("INR")));
        assert_eq!(parsed("₹ 499"), ("499.00".into(), None, Some("INR")));
        assert_eq!(parsed("₹499"), ("499.00".into(), None, Some("INR")));
        assert_eq!(parsed("$12.00"), ("12.00".into(), None, Some("USD")));
        assert_eq!(parsed("Rs. 500"), ("500.00".into(), None, Some("INR")));
        assert_eq!(parsed("Rs.500"), ("500.00".into(), None, Some("INR")));
        assert_eq!(parsed("INR.500"), ("500.00".into(), None, Some("INR")));
        assert_eq!(parsed("Rs 500"), ("500.00".into(), None, Some("INR")));
        assert_eq!(
            parsed("RS. 1,500.50"),
            ("1500.50".into(), None, Some("INR"))
        );
        assert_eq!(parsed("INR 1200"), ("1200.00".into(), None, Some("INR")));
        assert_eq!(parsed("INR1200"), ("1200.00".into(), None, Some("INR")));
        assert_eq!(parsed("1200 INR"), ("1200.00".into(), None, Some("INR")));
        assert_eq!(parsed("USD 12"), ("12.00".into(), None, Some("USD")));
        assert_eq!(parse_amount("€ 9,99"), AmountParse::Invalid);
        assert_eq!(parsed("€9.99"), ("9.99".into(), None, Some("EUR")));
        assert_eq!(parsed("9.99 EUR"), ("9.99".into(), None, Some("EUR")));
        assert_eq!(parsed("£5"), ("5.00".into(), None, Some("GBP")));
        assert_eq!(parsed("GBP 5"), ("5.00".into(), None, Some("GBP")));
        assert_eq!(parsed("AED 10"), ("10.00".into(), None, Some("AED")));
        assert_eq!(parsed("SGD 10"), ("10.00".into(), None, Some("SGD")));
        assert_eq!(parsed("QAR 10"), ("10.00".into(), None, Some("QAR")));
        assert_eq!(parsed("-₹ 45"), ("-45.00".into(), None, Some("INR")));
        assert_eq!(parsed("₹ -45"), ("-45.00".into(), None, Some("INR")));
        assert_eq!(parsed("$12 USD"), ("12.00".into(), None, Some("USD")));
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(value("1,250.00"), "1250.00");
        assert_eq!(value("-1,250.00"), "-1250.00");
        assert_eq!(value("1,23,456.50"), "123456.50");
        assert_eq!(value("12,34,56,789"), "123456789.00");
        assert_eq!(value("1,200"), "1200.00");
        assert_eq!(value("12,500"), "12500.00");
        assert_eq!(value("1,234,567.89"), "1234567.89");
        assert_eq!(value("2,000.00"), "2000.00");
    }

    #[test]
    fn bad_grouping_and_decimal_commas_are_invalid() {
        for text in [
            "1.234,56",
            "12,50",
            "1,5",
            "1,2345",
            "1234,567",
            "123,45,678",
            "1,234,56,789",
            "1,,234",
            ",123",
            "1,234,",
            "1,234.56,7",
            "1.234.567",
            "1.2.3",
            ".",
            ",",
        ] {
            assert_eq!(parse_amount(text), AmountParse::Invalid, "{text:?}");
        }
    }

    #[test]
    fn parentheses_are_negative_debits() {
        assert_eq!(
            parsed("(75.50)"),
            ("-75.50".into(), Some(SignMarker::Debit), None)
        );
        assert_eq!(
            parsed("( 75.50 )"),
            ("-75.50".into(), Some(SignMarker::Debit), None)
        );
        assert_eq!(
            parsed("(₹ 75.50)"),
            ("-75.50".into(), Some(SignMarker::Debit), Some("INR"))
        );
        assert_eq!(
            parsed("₹ (75.50)"),
            ("-75.50".into(), Some(SignMarker::Debit), Some("INR"))
        );
        assert_eq!(
            parsed("(-75.50)"),
            ("-75.50".into(), Some(SignMarker::Debit), None)
        );
        assert_eq!(
            parsed("(75.50) Dr"),
            ("-75.50".into(), Some(SignMarker::Debit), None)
        );
        for text in [
            "(75.50",
            "75.50)",
            "((75.50))",
            "()",
            "(75.50) Cr",
            ")75.50(",
        ] {
            assert_eq!(parse_amount(text), AmountParse::Invalid, "{text:?}");
        }
    }

    #[test]
    fn dr_cr_markers_keep_the_written_sign() {
        assert_eq!(
            parsed("1,200.00 Cr"),
            ("1200.00".into(), Some(SignMarker::Credit), None)
        );
        assert_eq!(
            parsed("500 Dr"),
            ("500.00".into(), Some(SignMarker::Debit), None)
        );
        assert_eq!(
            parsed("500 DR"),
            ("500.00".into(), Some(SignMarker::Debit), None)
        );
        assert_eq!(
            parsed("500 Dr."),
            ("500.00".into(), Some(SignMarker::Debit), None)
        );
        assert_eq!(
            parsed("500 CR"),
            ("500.00".into(), Some(SignMarker::Credit), None)
        );
        assert_eq!(
            parsed("500Cr."),
            ("500.00".into(), Some(SignMarker::Credit), None)
        );
        assert_eq!(
            parsed("Cr 500"),
            ("500.00".into(), Some(SignMarker::Credit), None)
        );
        assert_eq!(
            parsed("-500 Cr"),
            ("-500.00".into(), Some(SignMarker::Credit), None)
        );
        assert_eq!(
            parsed("INR 1,200.00 Cr"),
            ("1200.00".into(), Some(SignMarker::Credit), Some("INR"))
        );
        assert_eq!(parse_amount("500 Dr Cr"), AmountParse::Invalid);
    }

    #[test]
    fn empty_cells() {
        for text in [
            "", "   ", "-", " - ", "nan", "NaN", "NAN", "null", "None", "\"\"", "\t\r\n",
        ] {
            assert_eq!(parse_amount(text), AmountParse::Empty, "{text:?}");
        }
    }

    #[test]
    fn invalid_cells() {
        for text in [
            "abc",
            "not a number",
            "12 apples",
            "XYZ 10",
            "inr",
            "₹",
            "Rs.",
            "Cr",
            "--5",
            "-+5",
            "+-5",
            "5+",
            "5 5",
            "1 000",
            "5e3",
            "¥500",
            "₹ 5 $",
            "INR 5 USD",
            "10%",
            "#5",
            "٥",
            "12.5.",
        ] {
            assert_eq!(parse_amount(text), AmountParse::Invalid, "{text:?}");
        }
    }

    #[test]
    fn rounding_is_half_away_from_zero_to_two_places() {
        assert_eq!(value("15.999"), "16.00");
        assert_eq!(value("0.005"), "0.01");
        assert_eq!(value("0.004999"), "0.00");
        assert_eq!(value("-0.005"), "-0.01");
        assert_eq!(value("-0.004"), "0.00");
        assert_eq!(value("2.675"), "2.68");
        assert_eq!(value("-2.665"), "-2.67");
        assert_eq!(value("1.23456789012345678901234567890123"), "1.23");
        assert_eq!(value("5"), "5.00");
    }

    #[test]
    fn zero_is_a_value() {
        assert_eq!(parsed("0.00"), ("0.00".into(), None, None));
        assert_eq!(value("-0.00"), "0.00");
        assert_eq!(value("(0.00)"), "0.00");
        assert_eq!(value("0"), "0.00");
    }

    #[test]
    fn numeric_12_2_limit() {
        assert_eq!(value("9999999999.99"), "9999999999.99");
        assert_eq!(value("-9,99,99,99,999.99"), "-9999999999.99");
        assert_eq!(value("0000000000000000001.00"), "1.00");
        for text in [
            "10000000000",
            "9999999999.995",
            "-10,000,000,000.00",
            "1e10",
            &"9".repeat(40),
        ] {
            assert_eq!(parse_amount(text), AmountParse::Invalid, "{text:?}");
        }
    }

    #[test]
    fn float_cells() {
        assert_eq!(float_value(-250.0), "-250.00");
        assert_eq!(float_value(0.0), "0.00");
        assert_eq!(float_value(-0.0), "0.00");
        assert_eq!(float_value(15.99), "15.99");
        assert_eq!(float_value(2000.0), "2000.00");
        assert_eq!(
            float_value(1.005),
            "1.01",
            "decimal 1.005, not the binary 1.00499…"
        );
        assert_eq!(float_value(-2.675), "-2.68");
        assert_eq!(float_value(0.1 + 0.2), "0.30");
        assert_eq!(float_value(1e-7), "0.00");
        assert_eq!(float_value(9_999_999_999.99), "9999999999.99");
        for cell in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e10,
            -1e10,
            1e300,
            f64::MAX,
            f64::MIN,
        ] {
            assert_eq!(parse_float_cell(cell), AmountParse::Invalid, "{cell}");
        }
    }

    #[test]
    fn type_column_direction() {
        for text in [
            "Debit",
            "DR",
            "dr",
            "Withdrawal",
            "expense",
            "PURCHASE",
            "out",
            "Sent",
            "payment",
            "UPI/DR/931523643407",
            "Money sent",
            "Card purchase",
        ] {
            assert_eq!(
                direction_from_type(text),
                Some(SignMarker::Debit),
                "{text:?}"
            );
        }
        for text in [
            "Credit",
            "CR",
            "Deposit",
            "income",
            "Refund",
            "in",
            "Received",
            "UPI/CR/320278741671",
            "Cash deposit",
        ] {
            assert_eq!(
                direction_from_type(text),
                Some(SignMarker::Credit),
                "{text:?}"
            );
        }
        for text in [
            "", "transfer", "debited", "credits", "inbound", "pending", "UPI",
        ] {
            assert_eq!(direction_from_type(text), None, "{text:?}");
        }
        // The first matching token wins.
        assert_eq!(
            direction_from_type("refund of purchase"),
            Some(SignMarker::Credit)
        );
        assert_eq!(
            direction_from_type("purchase refund"),
            Some(SignMarker::Debit)
        );
        assert_eq!(direction_from_type("Dr/Cr"), Some(SignMarker::Debit));
    }

    #[test]
    fn round_money_rounds_and_rescales() {
        assert_eq!(round_money(dec("1250")).to_string(), "1250.00");
        assert_eq!(round_money(dec("1.005")).to_string(), "1.01");
        assert_eq!(round_money(dec("-1.005")).to_string(), "-1.01");
        assert_eq!(round_money(dec("1.0049")).to_string(), "1.00");
        assert_eq!(round_money(dec("-0.001")).to_string(), "0.00");
        assert_eq!(
            round_money(dec("2000.00") - dec("0")).to_string(),
            "2000.00"
        );
        assert_eq!(round_money(dec("0") - dec("500.00")).to_string(), "-500.00");
        assert_eq!(round_money(dec("0.1")).to_string(), "0.10");
        // Must not panic even where 2 dp cannot be represented.
        let _ = round_money(Decimal::MAX);
        let _ = round_money(Decimal::MIN);
    }

    #[test]
    fn fixture_amounts() {
        // generic_signed_amount.csv
        assert_eq!(value("50.00"), "50.00");
        assert_eq!(value("-120.00"), "-120.00");
        assert_eq!(value("15.99"), "15.99");
        assert_eq!(value("0.00"), "0.00");
        assert_eq!(value("-1,250.00"), "-1250.00");
        assert_eq!(value("\"-1,250.00\""), "-1250.00");
        assert_eq!(parsed("₹ 499"), ("499.00".into(), None, Some("INR")));
        assert_eq!(
            parsed("(75.50)"),
            ("-75.50".into(), Some(SignMarker::Debit), None)
        );
        assert_eq!(
            parsed("\"1,200.00 Cr\""),
            ("1200.00".into(), Some(SignMarker::Credit), None)
        );
        assert_eq!(value("10.00"), "10.00");
        // gpay_activity.csv
        for (text, expected) in [
            ("INR 299.00", "299.00"),
            ("INR 129.00", "129.00"),
            ("INR 149.00", "149.00"),
            ("INR 59.00", "59.00"),
        ] {
            assert_eq!(parsed(text), (expected.into(), None, Some("INR")));
        }
        // sbi_statement_with_preamble.csv
        for (text, expected) in [
            ("2,000.00", "2000.00"),
            ("500.00", "500.00"),
            ("1,350.00", "1350.00"),
            ("151.00", "151.00"),
        ] {
            assert_eq!(value(text), expected);
        }
        assert_eq!(parse_amount(""), AmountParse::Empty);
        // mixed_keys.json
        assert_eq!(float_value(-250.0), "-250.00");
        assert_eq!(parsed("INR 1200"), ("1200.00".into(), None, Some("INR")));
        assert_eq!(float_value(0.0), "0.00");
    }
}
