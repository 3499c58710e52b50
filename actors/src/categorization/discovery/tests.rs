//! Unit tests of discovery: clear groups are found and described in words, the answer is the
//! same for the same input, empty clusters are skipped, duplicates are counted once, and bad
//! inputs are refused.

use super::*;

/// Bank-style narrations of three payees, interleaved, with amounts.
fn three_payees() -> Vec<(String, Option<f64>)> {
    let mut rows = Vec::new();
    for i in 0..8 {
        rows.push((
            format!("UPI/DR/41234567{i:04}/SWIGGY BANGALORE/YESB/swiggy@ybl/Food order {i}"),
            Some(-250.0),
        ));
        rows.push((
            format!("POS 4411{i:02} UBER INDIA SYSTEMS RIDE BANGALORE {}", i + 1),
            Some(-120.5),
        ));
        rows.push((
            format!("ACH D- NETFLIX SUBSCRIPTION BANGALORE {}", 10 + i),
            None,
        ));
    }
    rows
}

fn run(rows: &[(String, Option<f64>)], k: usize) -> Result<Discovery, DiscoveryError> {
    let items: Vec<(&str, Option<f64>)> = rows.iter().map(|(d, a)| (d.as_str(), *a)).collect();
    discover(&items, Params::new(k, 0.7).unwrap())
}

/// The payee word every sample of `cluster` names.
fn payee(cluster: &DiscoveredCategory) -> &'static str {
    let payees = ["SWIGGY", "UBER", "NETFLIX"];
    let named: Vec<&str> = cluster
        .sample_texts
        .iter()
        .map(|t| *payees.iter().find(|p| t.contains(*p)).unwrap())
        .collect();
    assert!(named.iter().all(|p| *p == named[0]), "{cluster:?}");
    named[0]
}

#[test]
fn clear_groups_are_found_and_named_by_their_words() {
    let discovery = run(&three_payees(), 3).unwrap();
    assert_eq!(discovery.total_descriptions, 24);
    assert_eq!(discovery.distinct_descriptions, 24);
    assert_eq!(discovery.n_clusters, 3);
    let clusters = &discovery.discovered_categories;
    assert_eq!(clusters.len(), 3);
    let mut payees: Vec<&str> = clusters.iter().map(payee).collect();
    payees.sort_unstable();
    assert_eq!(payees, ["NETFLIX", "SWIGGY", "UBER"]);
    for (id, cluster) in clusters.iter().enumerate() {
        assert_eq!(cluster.cluster_id, id);
        assert_eq!(cluster.count, 8);
        assert_eq!(cluster.sample_texts.len(), SAMPLE_TEXTS);
        assert!(
            cluster.confidence > 0.7 && cluster.confidence <= 1.0,
            "{cluster:?}"
        );
        assert!(cluster.is_known);
        assert!(!cluster.top_terms.is_empty() && cluster.top_terms.len() <= TOP_TERMS);
        assert!(
            cluster.top_terms.contains(&payee(cluster).to_lowercase()),
            "{cluster:?}"
        );
        let amount = match payee(cluster) {
            "SWIGGY" => Some(-2_000.0),
            "UBER" => Some(-964.0),
            _ => None,
        };
        assert_eq!(cluster.total_amount, amount);
    }
}

#[test]
fn top_terms_are_words_of_the_members() {
    let rows = three_payees();
    let discovery = run(&rows, 3).unwrap();
    for cluster in &discovery.discovered_categories {
        for term in &cluster.top_terms {
            assert!(
                term.len() >= MIN_TERM_CHARS && term.chars().all(|c| c.is_ascii_lowercase()),
                "{term}"
            );
            assert!(
                cluster
                    .sample_texts
                    .iter()
                    .any(|t| t.to_lowercase().contains(term.as_str())),
                "{term} in {cluster:?}"
            );
        }
        // The word every group shares ranks below each group's own words.
        assert_eq!(
            cluster.top_terms.last().map(String::as_str),
            Some("bangalore"),
            "{cluster:?}"
        );
    }
}

#[test]
fn the_same_input_gives_the_same_answer() {
    let rows = three_payees();
    let first = run(&rows, 5).unwrap();
    for _ in 0..3 {
        assert_eq!(run(&rows, 5).unwrap(), first);
    }
    // More clusters than groups still splits the rows without losing any.
    let rows_clustered: usize = first.discovered_categories.iter().map(|c| c.count).sum();
    assert_eq!(rows_clustered, rows.len());
}

#[test]
fn clusters_left_empty_are_skipped() {
    // Six distinct keys, but only two distinct texts once cleaned: k-means++ can place two
    // centroids only, and the third cluster stays empty.
    let rows: Vec<(String, Option<f64>)> = (1..=3)
        .flat_map(|i| {
            [
                (format!("SWIGGY {i}"), Some(-10.0)),
                (format!("ZOMATO {i}"), Some(-20.0)),
            ]
        })
        .collect();
    let discovery = run(&rows, 3).unwrap();
    assert_eq!(discovery.n_clusters, 3);
    let clusters = &discovery.discovered_categories;
    assert_eq!(clusters.len(), 2, "{clusters:?}");
    for cluster in clusters {
        assert_eq!(cluster.count, 3);
        assert!(cluster.confidence.is_finite() && cluster.confidence > 0.99);
        assert_eq!(cluster.top_terms.len(), 1);
    }
}

#[test]
fn duplicates_count_once_for_clustering_and_every_time_for_rows() {
    let mut rows = three_payees();
    // Same normalised key as an existing row (long numbers are masked).
    rows.push((
        "UPI/DR/412345670000/SWIGGY BANGALORE/YESB/swiggy@ybl/Food order 0".into(),
        Some(-250.0),
    ));
    rows.push((
        "upi/dr/499999990000/swiggy bangalore/yesb/swiggy@ybl/food order 0".into(),
        None,
    ));
    let discovery = run(&rows, 3).unwrap();
    assert_eq!(discovery.total_descriptions, 26);
    assert_eq!(discovery.distinct_descriptions, 24);
    let swiggy = discovery
        .discovered_categories
        .iter()
        .find(|c| payee(c) == "SWIGGY")
        .unwrap();
    assert_eq!(swiggy.count, 10);
    assert_eq!(swiggy.total_amount, Some(-2_250.0));
    // The largest cluster comes first.
    assert_eq!(discovery.discovered_categories[0].cluster_id, 0);
    assert_eq!(payee(&discovery.discovered_categories[0]), "SWIGGY");
    // Samples are distinct narrations.
    let samples = &swiggy.sample_texts;
    let distinct: HashSet<String> = samples.iter().map(|s| normalize_description(s)).collect();
    assert_eq!(distinct.len(), samples.len());
}

#[test]
fn the_threshold_decides_is_known() {
    let rows = three_payees();
    let items: Vec<(&str, Option<f64>)> = rows.iter().map(|(d, a)| (d.as_str(), *a)).collect();
    let strict = discover(&items, Params::new(3, 1.0).unwrap()).unwrap();
    assert!(strict.discovered_categories.iter().all(|c| !c.is_known));
    let lax = discover(&items, Params::new(3, 0.0).unwrap()).unwrap();
    assert!(lax.discovered_categories.iter().all(|c| c.is_known));
}

#[test]
fn refusals() {
    assert_eq!(run(&[], 5), Err(DiscoveryError::NoDescriptions));
    // Nine distinct narrations with a word (the bare numbers are left out) for k = 5.
    let mut rows: Vec<(String, Option<f64>)> = (0..9)
        .map(|i| {
            (
                format!("SHOP {}", ["A", "B", "C"][i % 3].repeat(i + 3)),
                None,
            )
        })
        .collect();
    rows.extend((0..5).map(|i| (format!("{i}"), None)));
    assert_eq!(run(&rows, 5), Err(DiscoveryError::TooFew(10)));
    assert_eq!(run(&rows, 4).unwrap().distinct_descriptions, 9);
    for (k, threshold) in [(0, 0.7), (MAX_CLUSTERS + 1, 0.7), (5, -0.1), (5, 1.5)] {
        assert!(matches!(
            Params::new(k, threshold),
            Err(DiscoveryError::Core(CoreError::Validation(_)))
        ));
    }
    let many = vec![("swiggy".to_owned(), None); MAX_DESCRIPTIONS + 1];
    assert!(matches!(
        run(&many, 1),
        Err(DiscoveryError::Core(CoreError::Validation(_)))
    ));
}
