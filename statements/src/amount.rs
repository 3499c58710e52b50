//! Amount cleaning (ingestion spec §1.6, TARGET) and the currency hint carried by amount text
//! (§1.7).
//!
//! Amounts are exact decimals (never `f64` arithmetic), rounded to 2 dp half away from zero —
//! what Postgres does when storing into `NUMERIC(12,2)`. The parser reports the sign as written
//! plus any debit/credit marker found in the text (parentheses, `Dr`/`Cr`); applying markers and
//! the sign convention (debit negative, credit positive) is the caller's job. So is deciding an
//! amount column's decimal separator from all its values ([`separator_hint`] per value, then
//! [`parse_amount_with`]).

use std::borrow::Cow;

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

/// Which character separates the decimals of an amount column; the other one groups
/// thousands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DecimalSeparator {
    /// `1,234.56` (Western or Indian grouping with commas).
    #[default]
    Point,
    /// `1.234,56` (European; grouping with dots in threes).
    Comma,
}

/// What one amount's text says about its column's decimal separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeparatorHint {
    /// No separator, or no number at all.
    None,
    /// Only a decimal point reads it (`12.50`, `1,234.56`, `1,234,567`).
    Point,
    /// Only a decimal comma reads it (`12,50`, `1.234,56`, `1.234.567`).
    Comma,
    /// Both read it, differently: one separator followed by exactly three digits (`1,234`,
    /// `12.500`). The separator is given: as money rarely has three decimals, it is more likely
    /// grouping thousands, which is weak evidence for the other one as the decimal.
    Either(char),
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
/// (after rounding) are [`AmountParse::Invalid`]. This is [`parse_amount_with`] a decimal point.
pub fn parse_amount(text: &str) -> AmountParse {
    parse_amount_with(text, DecimalSeparator::Point)
}

/// Parses an amount cell of a column whose decimal separator is `separator` (decided from the
/// whole column, see [`separator_hint`]). With [`DecimalSeparator::Comma`] the roles swap:
/// `-1.234,56` is −1234.56, dots group thousands in threes, and a decimal point is invalid.
pub fn parse_amount_with(text: &str, separator: DecimalSeparator) -> AmountParse {
    let text = text.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    if text.is_empty()
        || text == "-"
        || ["nan", "null", "none"]
            .iter()
            .any(|word| text.eq_ignore_ascii_case(word))
    {
        return AmountParse::Empty;
    }
    parse_tokens(text, separator).map_or(AmountParse::Invalid, AmountParse::Value)
}

/// What the number written in `text` says about the decimal separator. With both `,` and `.`
/// the last one is the decimal separator; a separator written several times groups thousands;
/// a single one is decimal unless exactly three digits follow a plausible first group, when
/// both readings are possible ([`SeparatorHint::Either`]). Of a number grouped by spaces
/// (`2 980,00`), the last group tells.
pub fn separator_hint(text: &str) -> SeparatorHint {
    let number = tokenize(text)
        .filter_map(|token| match token {
            Token::Number(number) => Some(number),
            _ => None,
        })
        .last();
    let Some(number) = number else {
        return SeparatorHint::None;
    };
    let hint = |decimal: u8| match decimal {
        b',' => SeparatorHint::Comma,
        _ => SeparatorHint::Point,
    };
    let single = match (number.matches(',').count(), number.matches('.').count()) {
        (0, 0) => return SeparatorHint::None,
        (1, 0) => b',',
        (0, 1) => b'.',
        // Written several times, it groups thousands, so the other one is the decimal.
        (_, 0) => return SeparatorHint::Point,
        (0, _) => return SeparatorHint::Comma,
        _ => {
            let last = number
                .rfind([',', '.'])
                .map_or(b'.', |i| number.as_bytes()[i]);
            return hint(last);
        }
    };
    let (head, tail) = number.split_once(char::from(single)).unwrap_or_default();
    if tail.len() == 3 && (1..=3).contains(&head.len()) && !head.starts_with('0') {
        SeparatorHint::Either(char::from(single))
    } else {
        hint(single)
    }
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
    match parse_magnitude(digits, DecimalSeparator::Point) {
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
/// [`SignMarker::Credit`]. A lone `D` or `C` (Kotak, SBI) is a debit or a credit. No matching
/// token gives `None`.
pub fn direction_from_type(text: &str) -> Option<SignMarker> {
    match text.trim() {
        "D" | "d" => return Some(SignMarker::Debit),
        "C" | "c" => return Some(SignMarker::Credit),
        _ => {}
    }
    text.split(|c: char| !c.is_alphanumeric())
        .find_map(|token| match token.to_lowercase().as_str() {
            "debit" | "dr" | "withdrawal" | "expense" | "purchase" | "out" | "sent" | "payment"
            // Dutch `Af`, German `Soll`, French `Débit`.
            | "af" | "soll" | "débit" => Some(SignMarker::Debit),
            "credit" | "cr" | "deposit" | "income" | "refund" | "in" | "received"
            // Dutch `Bij`, German `Haben`, French `Crédit`.
            | "bij" | "haben" | "crédit" => Some(SignMarker::Credit),
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
fn tokenize(text: &str) -> Tokens<'_> {
    Tokens { text, pos: 0 }
}

/// The tokens of an amount text, read one at a time (see [`tokenize`]).
struct Tokens<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let text = self.text;
        let is_number = |c: char| c.is_ascii_digit() || c == '.' || c == ',';
        while let Some(c) = text[self.pos..].chars().next() {
            let start = self.pos;
            self.pos += c.len_utf8();
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
                self.pos = run_end(&is_number);
                return Some(Token::Number(&text[start..self.pos]));
            } else if c.is_ascii_alphabetic() {
                self.pos = run_end(&|c: char| c.is_ascii_alphabetic());
                let word = &text[start..self.pos];
                // An abbreviation dot (`Rs.`, `Cr.`, `INR.500`) belongs to the word, not the
                // number.
                if text[self.pos..].starts_with('.') {
                    self.pos += 1;
                }
                return Some(Token::Word(word));
            }
            return Some(Token::Symbol(c));
        }
        None
    }
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
fn parse_tokens(text: &str, separator: DecimalSeparator) -> Option<ParsedAmount> {
    let mut number: Option<Cow<'_, str>> = None;
    let mut first_run = 0;
    let mut negative = None;
    let mut open_paren = false;
    let mut close_paren = false;
    let mut currency: Option<&'static str> = None;
    let mut marker = None;
    for token in tokenize(text) {
        match token {
            Token::Number(digits) => {
                number = Some(match number.take() {
                    None => {
                        first_run = digits.len();
                        Cow::Borrowed(digits)
                    }
                    // Only whitespace parts two number runs: thousands grouped by spaces
                    // (`2 980,00`, `1 234 567.89`), else two numbers in one cell.
                    Some(head) => Cow::Owned(space_grouped(&head, first_run, digits)?),
                });
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
    let magnitude = parse_magnitude(&number?, separator)?;
    Some(ParsedAmount {
        value: with_sign(magnitude, open_paren || negative == Some(true)),
        marker,
        currency,
    })
}

/// Joins `head` and the next number run `tail` when a space groups thousands between them:
/// the first run had one to three digits, `head` is digits only and `tail` starts with exactly
/// three digits (`2 980,00`, `1 234 567.89`). `None` when they are two numbers.
fn space_grouped(head: &str, first_run: usize, tail: &str) -> Option<String> {
    let leading = tail.bytes().take_while(u8::is_ascii_digit).count();
    let grouped =
        (1..=3).contains(&first_run) && head.bytes().all(|b| b.is_ascii_digit()) && leading == 3;
    grouped.then(|| format!("{head}{tail}"))
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

/// Parses an unsigned number token (`1,23,456.50`, `.5`, `15.999`; with a decimal comma
/// `1.234,56`) into a rounded, non-negative 2-dp decimal below 10^10; `None` if malformed or
/// too large.
fn parse_magnitude(token: &str, separator: DecimalSeparator) -> Option<Decimal> {
    let (decimal, group) = match separator {
        DecimalSeparator::Point => ('.', ','),
        DecimalSeparator::Comma => (',', '.'),
    };
    let (integer, fraction) = token.split_once(decimal).unwrap_or((token, ""));
    let integer = if integer.contains(group) {
        Cow::Owned(ungroup(
            integer,
            group,
            separator == DecimalSeparator::Point,
        )?)
    } else {
        Cow::Borrowed(integer)
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

/// Removes the thousands separator `group` from an integer part, checking the grouping: the
/// last group has 3 digits and the others are either all 3 digits (Western, first group 1–3
/// digits) or, when `indian` is allowed, all 2 digits (lakh/crore, first group 1–2 digits).
/// `None` if the grouping is invalid.
fn ungroup(integer: &str, group: char, indian: bool) -> Option<String> {
    let groups: Vec<&str> = integer.split(group).collect();
    let (first, rest) = groups.split_first()?;
    let (last, middle) = rest.split_last()?;
    let western = (1..=3).contains(&first.len()) && middle.iter().all(|g| g.len() == 3);
    let indian = indian && (1..=2).contains(&first.len()) && middle.iter().all(|g| g.len() == 2);
    (last.len() == 3 && (western || indian)).then(|| groups.concat())
}

#[cfg(test)]
mod tests;
