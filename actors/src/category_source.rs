//! What decided a stored category (`transactions.category_source`), as the bounded label the
//! metrics use: imports, the classifier and hand corrections all count by it.

/// A stored category source as a metric label: `rule`, `model`, `user`, `fallback`, `client`
/// (the importing client sent the category) or `manual` (set by hand); `other` for anything else.
pub fn label(stored: &str) -> &'static str {
    match stored {
        "rule" => "rule",
        "model" => "model",
        "user" => "user",
        "fallback" => "fallback",
        "client" => "client",
        "manual" => "manual",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_sources_become_bounded_labels() {
        assert_eq!(label("model"), "model");
        assert_eq!(label("manual"), "manual");
        assert_eq!(label("\0anything"), "other");
    }
}
