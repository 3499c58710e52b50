//! Guardrails on a predicted label (categorization spec §4.7 step 4, issue #13 item 2): Salary
//! needs a positive amount (when known), no dividend/interest/refund token, and either a salary
//! token or a NEFT/RTGS/ACH/IMPS credit from an organisation; People is never an organisation.
//! A label that fails gives way to the next-best label that passes. Spending rules do not
//! decide credits by bank transfer or from an organisation: money coming in by NEFT/RTGS/ACH/IMPS
//! or from a retailer's legal entity is pay or a payout, not a purchase (refunds say so and are
//! exempt).

use super::signals::Signals;

/// Whether `label` may be given to a narration with these signals and amount.
pub fn allows(label: &str, signals: &Signals, amount: Option<f64>) -> bool {
    match label {
        "Salary" => salary_allowed(signals, amount),
        "People" => !signals.organisation,
        _ => true,
    }
}

/// Labels of money going out.
const SPENDING: [&str; 8] = [
    "Food",
    "Transport",
    "Utilities",
    "Shopping",
    "Entertainment",
    "Health",
    "Education",
    "Misc",
];

/// Whether a rule giving `label` may decide this narration: not a spending label on a credit
/// by bank transfer or from an organisation that is no refund.
pub fn rule_may_decide(label: &str, signals: &Signals, amount: Option<f64>) -> bool {
    // A credit: a positive amount, or no amount and a `CR` marker.
    let credit = amount.map_or(signals.cues.contains(&"CR"), |a| a > 0.0);
    let income_transfer =
        credit && (signals.bank_transfer || signals.organisation) && !signals.not_salary;
    !(income_transfer && SPENDING.contains(&label))
}

/// The Salary guardrail.
pub fn salary_allowed(signals: &Signals, amount: Option<f64>) -> bool {
    let positive = amount.is_none_or(|a| a > 0.0);
    positive
        && !signals.not_salary
        && (signals.salary_token || signals.bank_transfer && signals.organisation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::categorization::features::clean;

    fn salary(text: &str, amount: Option<f64>) -> bool {
        allows("Salary", &Signals::of(text, &clean(text)), amount)
    }

    #[test]
    fn salary_needs_a_token_or_an_organisation_credit_and_a_positive_amount() {
        assert!(salary("SALARY FOR NOV 2024", Some(85_000.0)));
        assert!(salary("SAL CREDIT", None));
        assert!(salary("STIPEND OCT", Some(15_000.0)));
        assert!(salary(
            "NEFT CR-HDFC0000240-ZENITH TECHNOLOGIES PVT LTD-RAHUL-N1234",
            Some(92_000.0)
        ));
        assert!(salary("ACH CR PAYROLL ACME", Some(40_000.0)));
        // No token, no organisation credit.
        assert!(!salary("SALARIED ACCOUNT OPENING", Some(10.0)));
        assert!(!salary("MONTHLY CREDIT", Some(50_000.0)));
        assert!(!salary(
            "NEFT CR-HDFC0000240-RAHUL SHARMA-N1234",
            Some(5_000.0)
        ));
        assert!(!salary("ZENITH TECHNOLOGIES PVT LTD", Some(5_000.0)));
        // Not positive.
        assert!(!salary("SALARY FOR NOV 2024", Some(-85_000.0)));
        assert!(!salary("SALARY FOR NOV 2024", Some(0.0)));
        // Dividends, interest and refunds are not salary.
        assert!(!salary("ACH CR ITC LIMITED DIVIDEND", Some(1_200.0)));
        assert!(!salary("NEFT CR INTEREST ZENITH LTD", Some(1_200.0)));
        assert!(!salary("NEFT CR ACME PVT LTD REFUND", Some(1_200.0)));
    }

    #[test]
    fn spending_rules_do_not_decide_transfer_credits() {
        let decides = |label: &str, text: &str, amount: Option<f64>| {
            rule_may_decide(label, &Signals::of(text, &clean(text)), amount)
        };
        let text = "NEFT CR-HDFC0001234-DELHI PUBLIC SCHOOL-ANITA-N1234";
        assert!(!decides("Education", text, Some(42_000.0)));
        assert!(decides("Education", text, Some(-42_000.0)));
        assert!(!decides("Education", text, None));
        assert!(decides(
            "Education",
            "NEFT DR-HDFC0001234-DELHI PUBLIC SCHOOL",
            None
        ));
        assert!(decides("Finance", text, Some(42_000.0)));
        assert!(decides("Shopping", "NEFT CR AMAZON REFUND", Some(500.0)));
        assert!(decides("Shopping", "UPI/CR/1234/AMAZON", Some(500.0)));
        assert!(!decides(
            "Shopping",
            "FLIPKART INTERNET PVT LTD",
            Some(50_000.0)
        ));
    }

    #[test]
    fn people_are_not_organisations() {
        let people = |text: &str| allows("People", &Signals::of(text, &clean(text)), None);
        assert!(people("UPI/DR/1234/RAHUL SHARMA/SBIN/rahul@oksbi"));
        assert!(!people("IMPS/P2A/1234/SHARMA ENTERPRISES/HDFC"));
        assert!(allows("Food", &Signals::default(), Some(-1.0)));
    }
}
