//! Unit tests of amount cleaning and the currency hint.

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
        AmountParse::Value(amount) => (amount.value.to_string(), amount.marker, amount.currency),
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
        "1234 567",
        "12 34",
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

#[test]
fn a_lone_d_or_c_in_a_type_column_is_a_direction() {
    assert_eq!(direction_from_type(" D "), Some(SignMarker::Debit));
    assert_eq!(direction_from_type("c"), Some(SignMarker::Credit));
    // Only alone: inside other text a single letter means nothing.
    assert_eq!(direction_from_type("Grade D"), None);
}

#[test]
fn separator_hints() {
    use SeparatorHint::*;
    for (text, hint) in [
        ("", None),
        ("500", None),
        ("Cr", None),
        ("12.50", Point),
        ("-1,234.56", Point),
        ("1,23,456", Point),
        ("1,234,567", Point),
        ("0.125", Point),
        ("1234.567", Point),
        ("1,250.00 Cr", Point),
        ("12,50", Comma),
        ("-1.234,56", Comma),
        ("1.234.567", Comma),
        ("1234,567", Comma),
        ("0,500", Comma),
        ("€ -6,5", Comma),
        ("1,234", Either(',')),
        ("-12.500", Either('.')),
        ("INR 999.000", Either('.')),
    ] {
        assert_eq!(separator_hint(text), hint, "{text:?}");
    }
}

#[test]
fn decimal_comma_columns() {
    let comma = |text| match parse_amount_with(text, DecimalSeparator::Comma) {
        AmountParse::Value(amount) => (amount.value.to_string(), amount.marker, amount.currency),
        other => panic!("{text:?} should parse, got {other:?}"),
    };
    assert_eq!(comma("-1.234,56"), ("-1234.56".into(), None, None));
    assert_eq!(comma("12,5"), ("12.50".into(), None, None));
    assert_eq!(comma("1.234"), ("1234.00".into(), None, None));
    assert_eq!(comma("1.234.567,891"), ("1234567.89".into(), None, None));
    assert_eq!(comma("€ 3,20"), ("3.20".into(), None, Some("EUR")));
    assert_eq!(
        comma("45,90 Cr"),
        ("45.90".into(), Some(SignMarker::Credit), None)
    );
    // Dots group in threes only; a decimal point or a second comma is not a decimal-comma
    // amount.
    for text in ["12.50", "1,234.56", "1,2,3", "12.34.5", "1.23.456,00", ".5"] {
        assert_eq!(
            parse_amount_with(text, DecimalSeparator::Comma),
            AmountParse::Invalid,
            "{text:?}"
        );
    }
    // A decimal point column reads as before.
    assert_eq!(
        parse_amount_with("1,23,456.50", DecimalSeparator::Point),
        parse_amount("1,23,456.50")
    );
}

#[test]
fn thousands_grouped_by_spaces() {
    let value = |text: &str| match parse_amount(text) {
        AmountParse::Value(parsed) => parsed.value.to_string(),
        other => format!("{other:?}"),
    };
    assert_eq!(value("1 000"), "1000.00");
    assert_eq!(value("1 234 567.89"), "1234567.89");
    assert_eq!(value("-2 980.00"), "-2980.00");
    assert_eq!(value("\u{a0}12\u{202f}500.50 €"), "12500.50");
    let comma = parse_amount_with("2 980,00", DecimalSeparator::Comma);
    assert!(matches!(comma, AmountParse::Value(p) if p.value.to_string() == "2980.00"));
}
