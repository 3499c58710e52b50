//! Discovery of categories among narrations that nothing categorised (categorization spec §4.5,
//! §4.7 "Discovery"), as a pure function: spherical k-means (cosine) over the classifier's text
//! [`features`](super::features), seeded k-means++ (the same input always gives the same
//! clusters), at most [`MAX_ITERATIONS`] rounds (fewer for a large input, see [`WORK_BUDGET`]),
//! stopping once no centroid moves by more than [`TOLERANCE`]. Narrations are deduplicated by
//! their [`normalize`](super::normalize)d key first, and those without a word are left out.
//! Clusters that end up empty are skipped.
//!
//! Each cluster is described by words a person can read (hashed features cannot be): its
//! [`TOP_TERMS`] cleaned words ranked by tf-idf within the cluster against the whole set, its
//! first [`SAMPLE_TEXTS`] distinct narrations, its confidence (the members' mean cosine to the
//! centroid), its rows and their amount. The classifier actor's side (the request and the
//! user's stored rows it reads) is in [`request`].

pub mod request;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::features::{clean, vectorize};
use super::normalize::normalize_description;
use crate::error::{core_error, CoreError};

/// Most clusters one discovery may ask for.
pub const MAX_CLUSTERS: usize = 50;
/// Most narrations (rows, duplicates included) one discovery takes.
pub const MAX_DESCRIPTIONS: usize = 10_000;
/// Most rounds of k-means.
pub const MAX_ITERATIONS: usize = 100;
/// k-means stops once no centroid moves by more than this (cosine distance between its old and
/// new position).
pub const TOLERANCE: f64 = 1e-4;
/// Words that describe each cluster.
pub const TOP_TERMS: usize = 5;
/// Narrations shown per cluster.
pub const SAMPLE_TEXTS: usize = 5;
/// Feature products (clusters × stored features) all rounds together may take: a large input
/// runs fewer rounds, so one request stays around a second of CPU at most.
pub const WORK_BUDGET: u64 = 1_000_000_000;
/// Shortest word that may describe a cluster (shorter ones are bank codes and initials).
const MIN_TERM_CHARS: usize = 3;
/// Seed of the k-means++ initialisation.
const SEED: u64 = 0x5CA1_E0D1_5C0F_E001;

/// Why a discovery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscoveryError {
    /// A failure every domain shares (validation, database).
    #[error(transparent)]
    Core(CoreError),
    /// The request named no narration.
    #[error("No descriptions provided")]
    NoDescriptions,
    /// The user has no stored transaction that is `Uncategorized` or needs review.
    #[error("No transactions are Uncategorized or need review")]
    NothingToReview,
    /// Fewer distinct narrations (with a word) than twice the clusters: how many are needed.
    #[error("Need at least {0} descriptions")]
    TooFew(usize),
}

core_error!(DiscoveryError);

/// What to look for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Clusters, 1..=[`MAX_CLUSTERS`].
    pub n_clusters: usize,
    /// A cluster whose confidence is above this is marked `is_known` (0..=1).
    pub confidence_threshold: f64,
}

impl Params {
    /// Checked parameters.
    pub fn new(n_clusters: usize, confidence_threshold: f64) -> Result<Self, DiscoveryError> {
        if !(1..=MAX_CLUSTERS).contains(&n_clusters) {
            return Err(CoreError::invalid(format!(
                "`n_clusters` must be an integer 1..={MAX_CLUSTERS}"
            ))
            .into());
        }
        if !(0.0..=1.0).contains(&confidence_threshold) {
            return Err(CoreError::invalid("`confidence_threshold` must be a number 0..=1").into());
        }
        Ok(Self {
            n_clusters,
            confidence_threshold,
        })
    }
}

/// One group of similar narrations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiscoveredCategory {
    /// Its position in the answer (largest group first).
    pub cluster_id: usize,
    /// Up to [`TOP_TERMS`] words that set it apart, best first.
    pub top_terms: Vec<String>,
    /// Up to [`SAMPLE_TEXTS`] of its narrations as given, in input order.
    pub sample_texts: Vec<String>,
    /// The mean cosine of its distinct narrations to its centroid, 0..=1: how alike they are.
    pub confidence: f64,
    /// Whether `confidence` is above the request's threshold: a tight group, a category
    /// candidate rather than a mix.
    pub is_known: bool,
    /// Its rows, duplicates included.
    pub count: usize,
    /// The sum of its rows' known amounts (`None` when no row had one).
    pub total_amount: Option<f64>,
}

/// The answer of a discovery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Discovery {
    /// The non-empty clusters, largest first.
    pub discovered_categories: Vec<DiscoveredCategory>,
    /// Narrations taken, duplicates included.
    pub total_descriptions: usize,
    /// Distinct narrations (by normalised key) that were clustered.
    pub distinct_descriptions: usize,
    /// Clusters asked for.
    pub n_clusters: usize,
}

/// One distinct narration (by normalised key) and the rows that share it.
struct Distinct<'a> {
    /// The first row's text.
    text: &'a str,
    /// Its cleaned text.
    cleaned: String,
    /// Rows with this key.
    rows: usize,
    /// Sum of the rows' known amounts.
    amount: Option<f64>,
}

/// Groups `(description, amount)` rows by normalised key, in order of first appearance.
fn distinct<'a>(items: &[(&'a str, Option<f64>)]) -> Vec<Distinct<'a>> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<Distinct<'a>> = Vec::new();
    for &(text, amount) in items {
        let slot = *index.entry(normalize_description(text)).or_insert_with(|| {
            groups.push(Distinct {
                text,
                cleaned: clean(text),
                rows: 0,
                amount: None,
            });
            groups.len() - 1
        });
        let group = &mut groups[slot];
        group.rows += 1;
        if let Some(amount) = amount.filter(|a| a.is_finite()) {
            *group.amount.get_or_insert(0.0) += amount;
        }
    }
    groups
}

/// Clusters `(description, amount)` rows into at most `params.n_clusters` groups.
pub fn discover(
    items: &[(&str, Option<f64>)],
    params: Params,
) -> Result<Discovery, DiscoveryError> {
    if items.is_empty() {
        return Err(DiscoveryError::NoDescriptions);
    }
    if items.len() > MAX_DESCRIPTIONS {
        return Err(CoreError::invalid(format!(
            "At most {MAX_DESCRIPTIONS} descriptions per discovery"
        ))
        .into());
    }
    let (groups, points): (Vec<Distinct>, Vec<Point>) = distinct(items)
        .into_iter()
        .filter_map(|group| {
            let vector = vectorize(&group.cleaned);
            (!vector.is_empty()).then_some((group, (vector.indices, vector.values)))
        })
        .unzip();
    let needed = 2 * params.n_clusters;
    if groups.len() < needed {
        return Err(DiscoveryError::TooFew(needed));
    }
    let clustering = SphericalKMeans::fit(points, params.n_clusters);
    let terms = Terms::of(&groups);
    // Each non-empty cluster with its first narration's position.
    let mut clusters: Vec<(usize, DiscoveredCategory)> = (0..params.n_clusters)
        .filter_map(|cluster| {
            let members: Vec<usize> = (0..groups.len())
                .filter(|&i| clustering.assignment[i] == cluster)
                .collect();
            let first = *members.first()?;
            let confidence = (members
                .iter()
                .map(|&i| clustering.similarity[i])
                .sum::<f64>()
                / members.len() as f64)
                .clamp(0.0, 1.0);
            let amounts: Vec<f64> = members.iter().filter_map(|&i| groups[i].amount).collect();
            let category = DiscoveredCategory {
                cluster_id: 0,
                top_terms: terms.top(&members),
                sample_texts: members
                    .iter()
                    .take(SAMPLE_TEXTS)
                    .map(|&i| groups[i].text.to_owned())
                    .collect(),
                confidence,
                is_known: confidence > params.confidence_threshold,
                count: members.iter().map(|&i| groups[i].rows).sum(),
                total_amount: (!amounts.is_empty())
                    .then(|| (amounts.iter().sum::<f64>() * 100.0).round() / 100.0),
            };
            Some((first, category))
        })
        .collect();
    // Largest first; among equals, the one whose first narration came first.
    clusters.sort_by_key(|(first, c)| (std::cmp::Reverse(c.count), *first));
    let clusters: Vec<DiscoveredCategory> = clusters
        .into_iter()
        .enumerate()
        .map(|(id, (_, category))| DiscoveredCategory {
            cluster_id: id,
            ..category
        })
        .collect();
    Ok(Discovery {
        discovered_categories: clusters,
        total_descriptions: items.len(),
        distinct_descriptions: groups.len(),
        n_clusters: params.n_clusters,
    })
}

/// A unit-norm sparse vector: indices (ascending) and values.
type Point = (Vec<u32>, Vec<f32>);

/// The result of spherical k-means over `n` points.
struct SphericalKMeans {
    /// Each point's cluster.
    assignment: Vec<usize>,
    /// Each point's cosine to its cluster's centroid.
    similarity: Vec<f64>,
}

impl SphericalKMeans {
    /// Clusters unit-norm `points` (at least `k`) into `k` clusters; a cluster may end empty.
    fn fit(points: Vec<Point>, k: usize) -> Self {
        let (points, dims) = compact(points);
        let mut centroids = Centroids::new(k, dims);
        centroids.seed(&points);
        let stored: usize = points.iter().map(|p| p.0.len()).sum();
        let per_round = (k as u64).saturating_mul(stored.max(1) as u64);
        let rounds = usize::try_from(WORK_BUDGET / per_round)
            .unwrap_or(MAX_ITERATIONS)
            .clamp(1, MAX_ITERATIONS);
        let mut assignment = vec![0; points.len()];
        for _ in 0..rounds {
            for (slot, point) in assignment.iter_mut().zip(&points) {
                *slot = centroids.nearest(point).0;
            }
            if centroids.update(&points, &assignment) <= TOLERANCE {
                break;
            }
        }
        let (assignment, similarity) = points.iter().map(|p| centroids.nearest(p)).unzip();
        Self {
            assignment,
            similarity,
        }
    }
}

/// Renumbers the hash buckets the points use as `0..dims`, so centroids can be dense.
fn compact(points: Vec<Point>) -> (Vec<Point>, usize) {
    let mut used: BTreeMap<u32, u32> = points
        .iter()
        .flat_map(|p| p.0.iter().map(|&i| (i, 0)))
        .collect();
    for (position, slot) in used.values_mut().enumerate() {
        *slot = position as u32;
    }
    let dims = used.len();
    let points = points
        .into_iter()
        .map(|(indices, values)| (indices.iter().map(|i| used[i]).collect(), values))
        .collect();
    (points, dims)
}

/// `k` dense unit-norm centroids over `dims` dimensions in one buffer, dimension-major (the `k`
/// values of a dimension side by side), so scoring a sparse point against every centroid reads
/// one short contiguous run per feature.
struct Centroids {
    k: usize,
    /// `values[d * k + j]`: dimension `d` of centroid `j`.
    values: Vec<f32>,
    /// How many centroids are placed (k-means++ may place fewer when the points coincide).
    placed: usize,
}

impl Centroids {
    fn new(k: usize, dims: usize) -> Self {
        Self {
            k,
            values: vec![0.0; k * dims],
            placed: 0,
        }
    }

    /// The cosine of a unit-norm point with centroid `j`.
    fn cosine(&self, j: usize, (indices, values): &Point) -> f64 {
        indices
            .iter()
            .zip(values)
            .map(|(&d, &v)| f64::from(v * self.values[d as usize * self.k + j]))
            .sum()
    }

    /// The placed centroid closest to `point` (the first on ties) and its cosine.
    fn nearest(&self, (indices, values): &Point) -> (usize, f64) {
        let mut scores = vec![0.0f32; self.placed];
        for (&d, &v) in indices.iter().zip(values) {
            let start = d as usize * self.k;
            let row = &self.values[start..start + self.placed];
            for (score, c) in scores.iter_mut().zip(row) {
                *score += v * c;
            }
        }
        scores
            .into_iter()
            .enumerate()
            .fold((0, f64::NEG_INFINITY), |best, (j, score)| {
                if f64::from(score) > best.1 {
                    (j, f64::from(score))
                } else {
                    best
                }
            })
    }

    /// Places centroid `j` on `point`.
    fn place(&mut self, j: usize, (indices, values): &Point) {
        for (&d, &v) in indices.iter().zip(values) {
            self.values[d as usize * self.k + j] = v;
        }
        self.placed = self.placed.max(j + 1);
    }

    /// k-means++ with the fixed seed: the first centroid on a random point, each next one on a
    /// point drawn with probability proportional to its squared cosine distance to the nearest
    /// centroid so far. Stops early when every point sits on a centroid.
    fn seed(&mut self, points: &[Point]) {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        self.place(0, &points[rng.random_range(0..points.len())]);
        let mut closest: Vec<f64> = points.iter().map(|p| self.cosine(0, p)).collect();
        for j in 1..self.k {
            let weights: Vec<f64> = closest.iter().map(|c| (1.0 - c).max(0.0).powi(2)).collect();
            let total: f64 = weights.iter().sum();
            if total <= f64::EPSILON {
                break;
            }
            let mut target = rng.random_range(0.0..total);
            let chosen = weights
                .iter()
                .position(|&w| {
                    target -= w;
                    target < 0.0
                })
                .unwrap_or_else(|| weights.iter().rposition(|&w| w > 0.0).unwrap_or(0));
            self.place(j, &points[chosen]);
            for (best, point) in closest.iter_mut().zip(points) {
                *best = best.max(self.cosine(j, point));
            }
        }
    }

    /// Moves every centroid to its members' normalised mean (a centroid without members, or
    /// whose members cancel out, stays); returns the largest move as a cosine distance.
    fn update(&mut self, points: &[Point], assignment: &[usize]) -> f64 {
        let k = self.k;
        let mut sums = vec![0.0f64; self.values.len()];
        for (point, &j) in points.iter().zip(assignment) {
            for (&d, &v) in point.0.iter().zip(&point.1) {
                sums[d as usize * k + j] += f64::from(v);
            }
        }
        let mut norms = vec![0.0f64; self.placed];
        for row in sums.chunks_exact(k) {
            for (norm, s) in norms.iter_mut().zip(row) {
                *norm += s * s;
            }
        }
        let norms: Vec<f64> = norms.into_iter().map(f64::sqrt).collect();
        let mut moved_cosine = vec![0.0f64; self.placed];
        for (row, sum) in self.values.chunks_exact_mut(k).zip(sums.chunks_exact(k)) {
            for j in 0..self.placed {
                if norms[j] > f64::EPSILON {
                    let next = sum[j] / norms[j];
                    moved_cosine[j] += f64::from(row[j]) * next;
                    row[j] = next as f32;
                }
            }
        }
        (0..self.placed)
            .filter(|&j| norms[j] > f64::EPSILON)
            .map(|j| 1.0 - moved_cosine[j])
            .fold(0.0, f64::max)
    }
}

/// Whether a cleaned word may describe a cluster: at least [`MIN_TERM_CHARS`] letters, not one
/// letter repeated (`xxxxxxxx`, a masked account number).
fn readable(word: &str) -> bool {
    let mut letters = word.chars();
    let first = letters.next();
    word.chars().count() >= MIN_TERM_CHARS && letters.any(|c| Some(c) != first)
}

/// The readable words of the distinct narrations, for ranking a cluster's terms.
struct Terms {
    /// Each narration's distinct [`readable`] words.
    words: Vec<Vec<String>>,
    /// In how many narrations each word occurs.
    document_frequency: HashMap<String, usize>,
}

impl Terms {
    fn of(groups: &[Distinct]) -> Self {
        let words: Vec<Vec<String>> = groups
            .iter()
            .map(|g| {
                let mut seen = HashSet::new();
                g.cleaned
                    .split_whitespace()
                    .filter(|w| readable(w) && seen.insert(*w))
                    .map(str::to_owned)
                    .collect()
            })
            .collect();
        let mut document_frequency = HashMap::new();
        for word in words.iter().flatten() {
            *document_frequency.entry(word.clone()).or_insert(0) += 1;
        }
        Self {
            words,
            document_frequency,
        }
    }

    /// The [`TOP_TERMS`] words of the narrations `members`: the share of members using a word
    /// times its smoothed inverse frequency over all narrations, best first, ties by the word.
    fn top(&self, members: &[usize]) -> Vec<String> {
        let mut in_cluster: HashMap<&str, usize> = HashMap::new();
        for &i in members {
            for word in &self.words[i] {
                *in_cluster.entry(word).or_insert(0) += 1;
            }
        }
        let total = self.words.len() as f64;
        let mut scored: Vec<(f64, &str)> = in_cluster
            .into_iter()
            .map(|(word, n)| {
                let df = self.document_frequency[word] as f64;
                let idf = ((1.0 + total) / (1.0 + df)).ln() + 1.0;
                (n as f64 / members.len() as f64 * idf, word)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        scored
            .into_iter()
            .take(TOP_TERMS)
            .map(|(_, word)| word.to_owned())
            .collect()
    }
}
