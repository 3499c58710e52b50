//! Unit tests of the edit rules: the recategorisation sign flip, transaction edits, e-mail
//! normalisation and profile rules.

use super::*;
use crate::error::CoreError;

#[test]
fn income_flips_the_sign_both_ways() {
    assert_eq!(sign_change("Food", INCOME), SignChange::Credit);
    assert_eq!(sign_change(INCOME, "Food"), SignChange::Debit);
    assert_eq!(sign_change("Food", "Shopping"), SignChange::Keep);
    assert_eq!(sign_change(INCOME, INCOME), SignChange::Keep);
    assert_eq!(SignChange::Credit.kind(), Some("credit"));
    assert_eq!(SignChange::Keep.kind(), None);
}

#[test]
fn transaction_edit_rules() {
    let edit = TransactionEdit {
        category: Some(" Food ".into()),
        ..Default::default()
    };
    assert_eq!(edit.validate().unwrap().category.as_deref(), Some("Food"));
    let bad = [
        TransactionEdit::default(),
        TransactionEdit {
            category: Some("  ".into()),
            ..Default::default()
        },
        TransactionEdit {
            description: Some("d".repeat(1001)),
            ..Default::default()
        },
        TransactionEdit {
            merchant_name: Some("Swiggy\0".into()),
            ..Default::default()
        },
    ];
    for edit in bad {
        assert!(matches!(
            edit.validate(),
            Err(AccountsError::Core(CoreError::Validation(_)))
        ));
    }
}

#[test]
fn email_addresses_are_normalised_and_checked() {
    assert_eq!(
        email(" A.b+tag@Mail.Example.COM ").unwrap(),
        "a.b+tag@mail.example.com"
    );
    assert_eq!(email("x@a-b.co").unwrap(), "x@a-b.co");
    let long_local = format!("{}@b.io", "a".repeat(65));
    let long_label = format!("a@{}.io", "b".repeat(64));
    let long = format!("a@{}.io", vec!["b".repeat(60); 5].join("."));
    for bad in [
        "a@b.",
        "a@.b",
        "@b.c",
        "a b@c.d",
        "a@b",
        "a@@b.c",
        "a@b..c",
        ".a@b.c",
        "a.@b.c",
        "a..b@c.d",
        "a@-b.c",
        "a@b-.c",
        "a@b.c-",
        "a@1.2",
        "a\0@b.c",
        "a@b.c\0",
        "a(b)@c.d",
        &long_local,
        &long_label,
        &long,
    ] {
        assert!(
            matches!(
                email(bad),
                Err(AccountsError::Core(CoreError::Validation(_)))
            ),
            "{bad:?} accepted"
        );
    }
}

#[test]
fn profile_rules() {
    let ok = ProfileUpdate {
        email: Some("a@b.io".into()),
        currency: Some("usd".into()),
        timezone: Some("Europe/Berlin".into()),
    }
    .validate()
    .unwrap();
    assert_eq!(ok.currency.as_deref(), Some("USD"));
    assert_eq!(ok.timezone.as_deref(), Some("Europe/Berlin"));
    let bad = [
        ProfileUpdate::default(),
        ProfileUpdate {
            email: Some("not-an-email".into()),
            ..Default::default()
        },
        ProfileUpdate {
            currency: Some("EURO".into()),
            ..Default::default()
        },
        ProfileUpdate {
            currency: Some("E1R".into()),
            ..Default::default()
        },
        ProfileUpdate {
            timezone: Some("Mars/Olympus".into()),
            ..Default::default()
        },
    ];
    for update in bad {
        assert!(matches!(
            update.validate(),
            Err(AccountsError::Core(CoreError::Validation(_)))
        ));
    }
}
