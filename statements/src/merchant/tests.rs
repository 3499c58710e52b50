//! Unit tests of merchant extraction and description normalisation.

use super::*;

fn some(text: &str) -> Option<String> {
    Some(text.to_string())
}

/// Asserts method, merchant and clean description, returning the extraction for more checks.
fn check(input: &str, method: Option<&str>, merchant: &str, clean: &str) -> Extraction {
    let got = extract(input);
    assert_eq!(got.method, method, "method of {input:?}: {got:?}");
    assert_eq!(got.merchant, merchant, "merchant of {input:?}: {got:?}");
    assert_eq!(
        got.clean_description, clean,
        "clean description of {input:?}: {got:?}"
    );
    got
}

// --- §3.6 table and SBI fixture rows ----------------------------------------------------

#[test]
fn sbi_upi_debit_to_known_merchant() {
    let got = check(
        "WDL TFR UPI/DR/604239354584/Zomatofo/AIRP/zom",
        Some("upi"),
        "Zomato",
        "UPI Transfer to Zomato",
    );
    assert_eq!(got.reference, some("604239354584"));
    assert_eq!(got.counterparty_bank, some("AIRP"));
    assert_eq!(got.upi_id, some("zom"));
    assert_eq!(got.app, None);
}

#[test]
fn sbi_upvdr_transfers() {
    let got = check(
        "WDL TFR UPVDR/604194480414/Padma M/YESB/payt",
        Some("upi"),
        "Padma M",
        "UPI Transfer to Padma M",
    );
    assert_eq!(got.reference, some("604194480414"));
    assert_eq!(got.counterparty_bank, some("YESB"));
    assert_eq!(got.upi_id, some("payt"));

    let got = check(
        "WDL TFR UPVDR/604060117039/FARIDHA./FDRL/bha",
        Some("upi"),
        "FARIDHA",
        "UPI Transfer to FARIDHA",
    );
    assert_eq!(got.counterparty_bank, some("FDRL"));
}

#[test]
fn sbi_upi_debit_multiline_fixture_row() {
    let input =
        "WDL TFR UPI/DR/931523643407/SHAIK YA/SBIN/skya smeen1/Paym\n... AT 04413 PBB NELLORE";
    let got = check(input, Some("upi"), "SHAIK YA", "UPI Transfer to SHAIK YA");
    assert_eq!(got.reference, some("931523643407"));
    assert_eq!(got.counterparty_bank, some("SBIN"));
    assert_eq!(got.upi_id, some("skya smeen1"));
    assert_eq!(got.app, some("Paym"));
    assert_eq!(got.location, some("PBB NELLORE"));
    // Same result for the single-line form of the table.
    let flat = "WDL TFR UPI/DR/931523643407/SHAIK YA/SBIN/skya smeen1/Paym... AT 04413 PBB NELLORE";
    assert_eq!(extract(flat), got);
}

#[test]
fn sbi_upi_credit_fixture_row() {
    let input =
        "DEP TFR UPI/CR/320278741671/SHAIK YA/SBIN/skya smeen1/Paym\n... AT 04413 PBB NELLORE";
    let got = check(input, Some("upi"), "SHAIK YA", "UPI Received from SHAIK YA");
    assert_eq!(got.reference, some("320278741671"));
}

#[test]
fn upi_credit_app_field_does_not_override_name() {
    let got = check(
        "DEP TFR UPI/CR/320278741671/RAVI KUMAR/HDFC/ravi@okhdfc/GPay",
        Some("upi"),
        "RAVI KUMAR",
        "UPI Received from RAVI KUMAR",
    );
    assert_eq!(got.reference, some("320278741671"));
    assert_eq!(got.counterparty_bank, some("HDFC"));
    assert_eq!(got.upi_id, some("ravi@okhdfc"));
    assert_eq!(got.app, some("GPay"));
}

#[test]
fn upi_app_googlepay_is_not_youtube() {
    let got = extract("WDL TFR UPI/DR/123456789012/SURESH/SBIN/suresh@oksbi/GooglePay");
    assert_eq!(got.merchant, "SURESH");
    assert_eq!(got.app, some("GooglePay"));
}

#[test]
fn upi_known_merchant_in_upi_id_wins_but_payment_apps_do_not() {
    let got = extract("WDL TFR UPI/DR/123456789012/BUNDL TECHNO/YESB/swiggy.stores@axb/Paytm");
    assert_eq!(got.merchant, "Swiggy");
    let got = extract("WDL TFR UPI/DR/123456789012/SHARMA STORE/YESB/paytmqr281005@paytm/Paytm");
    assert_eq!(got.merchant, "SHARMA STORE");
}

#[test]
fn pos_purchase_with_gateway_prefix() {
    let got = check(
        "POS ATM PURCH OTHPG 3155010693 17Pho*PHONEPE RECHARGE BANGALORE",
        Some("pos"),
        "PhonePe",
        "POS Purchase at PhonePe (BANGALORE)",
    );
    assert_eq!(got.reference, some("3155010693"));
    assert_eq!(got.location, some("BANGALORE"));
}

#[test]
fn pos_purchase_trailing_number_is_not_a_location() {
    let got = check(
        "POS ATM PURCH OTHPG 3157043273 36Swiggy 911311221",
        Some("pos"),
        "Swiggy",
        "POS Purchase at Swiggy",
    );
    assert_eq!(got.reference, some("3157043273"));
    assert_eq!(got.location, None);
}

#[test]
fn pos_purchase_unknown_merchant_keeps_raw_name() {
    let got = extract("POS ATM PURCH SBIPG 3157043999 12RAZ*SRI BALAJI STORES NELLORE");
    assert_eq!(got.merchant, "SRI BALAJI STORES");
    assert_eq!(got.location, some("NELLORE"));
}

#[test]
fn pos_short_form() {
    let got = check(
        "POS 40593845 MCDONALDS",
        Some("pos"),
        "McDonald's",
        "POS Purchase at McDonald's",
    );
    assert_eq!(got.reference, some("40593845"));
}

#[test]
fn atm_withdrawal_multiline_fixture_row() {
    let got = check(
        "ATM WDL   ATM CASH 1957  SP\n  OFFICE DARGAMITTA, NELLORE",
        Some("atm"),
        "ATM Withdrawal",
        "ATM Cash Withdrawal at SP OFFICE DARGAMITTA, NELLORE",
    );
    assert_eq!(got.reference, some("1957"));
    assert_eq!(got.location, some("SP OFFICE DARGAMITTA, NELLORE"));
}

#[test]
fn inb_transfer_to_known_merchant() {
    let got = check(
        "WDL TFR INB Amazon Seller Services Pv... AT 04413 PBB NELLORE",
        Some("inb"),
        "Amazon",
        "Online Transfer to Amazon",
    );
    assert_eq!(got.location, some("PBB NELLORE"));
    assert_eq!(got.reference, None);
}

#[test]
fn inb_gift_and_credit() {
    let got = check(
        "WDL TFR INB Gift Card Amazon... AT 04413 PBB NELLORE",
        Some("inb"),
        "Amazon",
        "Online Transfer: Gift Card Amazon",
    );
    assert_eq!(got.location, some("PBB NELLORE"));
    check(
        "DEP TFR INB RAMESH K",
        Some("inb"),
        "RAMESH K",
        "Online Transfer from RAMESH K",
    );
}

#[test]
fn neft_dash_form() {
    let got = check(
        "NEFT-DR-HDFC-NETFLIX.COM",
        Some("neft"),
        "Netflix",
        "NEFT Transfer to Netflix",
    );
    assert_eq!(got.counterparty_bank, some("HDFC"));
}

#[test]
fn neft_dash_form_with_ifsc_and_reference() {
    let got = extract("NEFT CR-SBIN0001234-MEERA MOHIDDIN-XXXXXXX1234-N040212345678");
    assert_eq!(got.method, Some("neft"));
    assert_eq!(got.merchant, "MEERA MOHIDDIN");
    assert_eq!(got.counterparty_bank, some("SBIN"));
    assert_eq!(got.reference, some("N040212345678"));
    assert_eq!(got.clean_description, "NEFT Received from MEERA MOHIDDIN");
}

#[test]
fn neft_slash_form() {
    let got = check(
        "NEFT/N123456789/MEERA MOHIDDIN/SBI/HDFC",
        Some("neft"),
        "MEERA MOHIDDIN",
        "NEFT Transfer: MEERA MOHIDDIN",
    );
    assert_eq!(got.reference, some("N123456789"));
    assert_eq!(got.counterparty_bank, some("SBI"));
}

#[test]
fn imps_slash_form() {
    let got = check(
        "IMPS/P2A/412345678901/John Doe/ICIC",
        Some("imps"),
        "John Doe",
        "IMPS Transfer: John Doe",
    );
    assert_eq!(got.reference, some("412345678901"));
    assert_eq!(got.counterparty_bank, some("ICIC"));
}

#[test]
fn imps_dash_form() {
    let got = extract("IMPS-412345678901-JOHN DOE-ICIC-XXXXXXXX1234-RENT");
    assert_eq!(got.method, Some("imps"));
    assert_eq!(got.merchant, "JOHN DOE");
    assert_eq!(got.reference, some("412345678901"));
    assert_eq!(got.counterparty_bank, some("ICIC"));
}

#[test]
fn rtgs_slash_form() {
    let got = extract("RTGS/UTIBR52024010112345678/ACME CORP/UTIB");
    assert_eq!(got.method, Some("rtgs"));
    assert_eq!(got.merchant, "ACME CORP");
    assert_eq!(got.reference, some("UTIBR52024010112345678"));
    assert_eq!(got.counterparty_bank, some("UTIB"));
}

#[test]
fn cash_deposit_self_multiline_fixture_row() {
    let got = check(
        "CASH DEPOSIT SELF\n AT 04413 PBB NELLORE",
        Some("cash"),
        "Self Deposit",
        "Cash Deposit at PBB NELLORE",
    );
    assert_eq!(got.location, some("PBB NELLORE"));
    assert_eq!(got.reference, None);
}

#[test]
fn cemtex_deposit() {
    let got = check(
        "CEMTEX DEP 00000004413 0 40623",
        Some("cash"),
        "Cash Deposit Machine",
        "CDM Deposit (Ref: 00000004413)",
    );
    assert_eq!(got.reference, some("00000004413"));
}

#[test]
fn named_transfer_of_mr() {
    let got = check(
        "WDL TFR 0010604296427 OF Mr HASSAN MOHIDDIN AT 04413 PBB NELLORE",
        Some("transfer"),
        "HASSAN MOHIDDIN",
        "Transfer to HASSAN MOHIDDIN",
    );
    assert_eq!(got.location, some("PBB NELLORE"));
    check(
        "DEP TFR 0010604296427 OF Mrs LAKSHMI DEVI AT 04413 PBB NELLORE",
        Some("transfer"),
        "LAKSHMI DEVI",
        "Transfer from LAKSHMI DEVI",
    );
}

#[test]
fn visa_remittance_refund() {
    let got = check(
        "DEP TFR VISA-IN-RMT:300710245915SWIGGY",
        Some("card"),
        "Swiggy",
        "Refund from Swiggy",
    );
    assert_eq!(got.reference, some("300710245915"));
}

#[test]
fn sbi_transfer_with_known_merchant() {
    check(
        "WDL TFR 12345678 NETFLIX",
        Some("transfer"),
        "Netflix",
        "Payment to Netflix",
    );
    check(
        "DEP TFR 12345678 AMAZON",
        Some("transfer"),
        "Amazon",
        "Refund from Amazon",
    );
    check(
        "WDL TFR 0010604296427",
        Some("transfer"),
        "Unknown",
        "Outgoing Transfer",
    );
}

#[test]
fn upi_dash_forms() {
    let got = check(
        "UPI-ZOMATO-67890@okaxis PAID INR 450.00 ON 14/02/2026",
        Some("upi"),
        "Zomato",
        "UPI Payment to Zomato",
    );
    assert_eq!(got.upi_id, some("67890@okaxis"));
    let got = extract("UPI-RAVI KUMAR-ravi@okhdfc-HDFC0000123-412345678901-Payment");
    assert_eq!(got.merchant, "RAVI KUMAR");
    assert_eq!(got.upi_id, some("ravi@okhdfc"));
    assert_eq!(got.counterparty_bank, some("HDFC"));
    assert_eq!(got.reference, some("412345678901"));
}

#[test]
fn plain_text_rows() {
    let got = check(
        "UBER INDIA SYSTEMS PVT HEL",
        None,
        "Uber",
        "UBER INDIA SYSTEMS PVT HEL",
    );
    assert_eq!(got.reference, None);
    check(
        "Unknown   Store   123",
        None,
        "Unknown Store",
        "Unknown Store 123",
    );
    check("Coffee", None, "Coffee", "Coffee");
    check("Music Premium", None, "Music Premium", "Music Premium");
    check("Cloud Storage", None, "Cloud Storage", "Cloud Storage");
    check("YouTube Premium", None, "YouTube", "YouTube Premium");
    check("Google Play Apps", None, "Google", "Google Play Apps");
    check("", None, "Unknown", "");
    check("  \n\t ", None, "Unknown", "");
}

// --- known-merchant matching ------------------------------------------------------------

#[test]
fn false_positives_of_substring_matching() {
    for text in [
        "ravi",
        "Visa",
        "DAVID SERVICES",
        "KOLAPPAN S",
        "CREDIT CARD BILL",
        "Movie tickets PVR",
        "ANDREW CROMA MUMBAI",
        "RAVI KUMAR",
        "ravi@okhdfc",
    ] {
        assert_eq!(known_merchant(text), None, "{text}");
        let merchant = extract(text).merchant;
        assert!(
            !["Vodafone", "Ola", "CRED"].contains(&merchant.as_str()),
            "{text} -> {merchant}"
        );
    }
    assert_eq!(
        extract("ANDREW CROMA MUMBAI").merchant,
        "Andrew Croma Mumbai"
    );
    assert_eq!(extract("Movie tickets PVR").merchant, "Movie Tickets PVR");
    assert_eq!(extract("CREDIT CARD BILL").merchant, "Credit Card Bill");
    assert_eq!(extract("KOLAPPAN S").merchant, "Kolappan S");
    assert_eq!(extract("Rs. 500").merchant, "Unknown");
}

#[test]
fn known_merchant_aliases_on_token_boundaries() {
    let cases = [
        ("Zomatofo", "Zomato"),
        ("PAYZOMATO", "Zomato"),
        ("17Pho*PHONEPE RECHARGE", "PhonePe"),
        ("36Swiggy", "Swiggy"),
        ("SWIGGY INSTAMART", "Swiggy Instamart"),
        ("Google Pay", "Google Pay"),
        ("googlepay", "Google Pay"),
        ("GPay", "Google Pay"),
        ("YouTube", "YouTube"),
        ("GOOGLE CLOUD", "Google"),
        ("VI POSTPAID", "Vodafone"),
        ("OLA CABS", "Ola"),
        ("OLACABS", "Ola"),
        ("cred.club", "CRED"),
        ("AMZN Mktp", "Amazon"),
        ("AMAZON PAY INDIA", "Amazon"),
        ("Reliance Jio", "Jio"),
        ("DOMINO'S PIZZA", "Domino's"),
        ("McDonalds", "McDonald's"),
        ("BURGERKING", "Burger King"),
        ("one97communications", "Paytm"),
        ("uber\n india", "Uber"),
    ];
    for (text, expected) in cases {
        assert_eq!(known_merchant(text), Some(expected), "{text}");
    }
    for text in [
        "SLICED BREAD",
        "GPAYMENT",
        "KFCX",
        "ajiozz",
        "uberx",
        "amznx",
        "",
    ] {
        assert_eq!(known_merchant(text), None, "{text}");
    }
}

// --- cleaning fallback ------------------------------------------------------------------

#[test]
fn fallback_removes_only_whole_noise_tokens() {
    assert_eq!(extract("DEPOSIT POSH MBA").merchant, "Deposit Posh Mba");
    assert_eq!(
        extract("ACH DEBIT TATA POWER 1234567890").merchant,
        "Tata Power"
    );
    assert_eq!(
        extract("UPI DR HDFC0001234 987654321 SHARMA").merchant,
        "Sharma"
    );
    assert_eq!(extract("UPI DR 123").merchant, "Unknown");
    assert_eq!(extract("REF12345678 ACME & CO").merchant, "Ref Acme & Co");
    assert_eq!(
        extract("coffee with friends").merchant,
        "Coffee With Friends"
    );
    assert_eq!(extract("iPhone case").merchant, "iPhone Case");
}

#[test]
fn fallback_caps_length() {
    let long = "WORD ".repeat(40);
    let merchant = extract(&long).merchant;
    assert!(merchant.chars().count() <= MAX_FALLBACK_CHARS, "{merchant}");
    assert!(merchant.starts_with("Word Word"));
}

#[test]
fn plain_text_method_inference_uses_whole_words() {
    assert_eq!(extract("Paid via UPI to shop").method, Some("upi"));
    assert_eq!(extract("Visa purchase").method, Some("card"));
    assert_eq!(extract("Deposit").method, None);
    assert_eq!(extract("Coffee").method, None);
}

// --- is_bank_narration / canonical_method / invariants ----------------------------------

#[test]
fn bank_narration_detection() {
    let bank = [
        "WDL TFR UPI/DR/604239354584/Zomatofo/AIRP/zom",
        "WDL TFR UPVDR/604194480414/Padma M/YESB/payt",
        "POS ATM PURCH OTHPG 3155010693 17Pho*PHONEPE RECHARGE BANGALORE",
        "POS 40593845 MCDONALDS",
        "ATM WDL ATM CASH 1957 SP OFFICE DARGAMITTA, NELLORE",
        "WDL TFR INB Amazon Seller Services Pv... AT 04413 PBB NELLORE",
        "CASH DEPOSIT SELF AT 04413 PBB NELLORE",
        "CEMTEX DEP 00000004413 0 40623",
        "DEP TFR VISA-IN-RMT:300710245915SWIGGY",
        "NEFT-DR-HDFC-NETFLIX.COM",
        "NEFT/N123456789/MEERA MOHIDDIN/SBI/HDFC",
        "IMPS/P2A/412345678901/John Doe/ICIC",
        "WDL TFR 0010604296427 OF Mr HASSAN MOHIDDIN AT 04413 PBB NELLORE",
        "UPI-ZOMATO-67890@okaxis",
    ];
    for text in bank {
        assert!(is_bank_narration(text), "{text}");
    }
    for text in [
        "Coffee",
        "UBER INDIA SYSTEMS PVT HEL",
        "Unknown   Store   123",
        "YouTube",
        "",
        "Gift OF Mr Bean",
    ] {
        assert!(!is_bank_narration(text), "{text}");
    }
}

#[test]
fn canonical_methods() {
    let cases = [
        ("Visa **** 3534", "card"),
        ("UPI: QR code", "upi"),
        ("Axis Bank UPI", "upi"),
        ("Mastercard", "card"),
        ("RuPay Debit", "card"),
        ("Credit Card", "card"),
        ("**** 1234", "card"),
        ("NEFT", "neft"),
        ("imps", "imps"),
        ("RTGS", "rtgs"),
        ("ATM", "atm"),
        ("POS", "pos"),
        ("Cash Deposit", "cash"),
        ("INB", "inb"),
        ("Net Banking", "inb"),
        ("Internet Banking", "inb"),
        ("Bank Transfer", "transfer"),
        ("transfer", "transfer"),
        ("  Wallet  ", "wallet"),
        ("Others", "others"),
        ("", ""),
        ("  \u{feff} ", ""),
    ];
    for (source, expected) in cases {
        assert_eq!(canonical_method(source), expected, "{source:?}");
    }
}

#[test]
fn whitespace_runs_do_not_change_the_result() {
    let inputs = [
        "WDL TFR UPI/DR/931523643407/SHAIK YA/SBIN/skya smeen1/Paym\r\n... AT 04413 PBB NELLORE",
        "  POS ATM PURCH  OTHPG 3155010693\t17Pho*PHONEPE RECHARGE BANGALORE ",
        "\u{feff}Unknown \u{a0} Store   123",
    ];
    for input in inputs {
        assert_eq!(
            extract(input),
            extract(&collapse_whitespace(input)),
            "{input:?}"
        );
    }
}

#[test]
fn odd_inputs_do_not_panic() {
    for input in [
        "UPI/",
        "UPI/DR/",
        "UPI/DR/1",
        "UPI/DR/1///",
        "UPI-",
        "UPI--@-",
        "UPI-@",
        "NEFT/",
        "NEFT-",
        "NEFT-DR-",
        "IMPS/P2A/",
        "POS ATM PURCH",
        "POS ATM PURCH *",
        "ATM WDL",
        "CEMTEX DEP",
        "CASH DEPOSIT",
        "WDL TFR",
        "DEP TFR VISA-IN-RMT:",
        "WDL TFR INB ...",
        " AT 1234",
        "İİİ ǅ ß",
        "WDL TFR OF Mr ",
        "***",
        "&",
        "& & &",
        "ÀT 12345",
        "UPI/DR/123/İ/İ/İ@İ/İ",
    ] {
        let got = extract(input);
        assert!(!got.merchant.is_empty(), "{input:?}");
        let _ = is_bank_narration(input);
        let _ = known_merchant(input);
        let _ = canonical_method(input);
    }
}
