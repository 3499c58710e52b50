//! Multinomial logistic regression over hashed sparse features, trained with AdaGrad and L2
//! (categorization spec §4.7), plus the temperature that calibrates its softmax on a holdout.
//! Single-threaded with a seeded shuffle, so the same examples and [`Hyper`] give the same
//! weights bit for bit.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::features::SparseVector;

/// Training hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Hyper {
    /// Passes over the examples.
    pub epochs: usize,
    /// AdaGrad's base learning rate.
    pub learning_rate: f64,
    /// L2 penalty on the weights (not the biases), applied to the features an example touches.
    pub l2: f64,
    /// Seed of the per-epoch shuffle.
    pub seed: u64,
    /// Weight each example by `n / (labels × n_label)`, so that every label weighs the same
    /// whatever its number of examples (the real prior is unknown).
    pub balanced: bool,
}

/// Dense weights: `weights[feature * labels + label]`, one bias per label.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// Number of labels.
    pub labels: usize,
    /// Feature weights, feature-major.
    pub weights: Vec<f32>,
    /// Per-label biases.
    pub bias: Vec<f32>,
}

impl Weights {
    /// The logits of `x`.
    pub fn logits(&self, x: &SparseVector) -> Vec<f32> {
        let mut z = self.bias.clone();
        for (&i, &v) in x.indices.iter().zip(&x.values) {
            let row = &self.weights[i as usize * self.labels..][..self.labels];
            for (zc, w) in z.iter_mut().zip(row) {
                *zc += v * w;
            }
        }
        z
    }
}

/// Softmax of `logits / temperature`, computed stably.
pub fn softmax(logits: &[f32], temperature: f64) -> Vec<f64> {
    let top = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f64> = logits
        .iter()
        .map(|&z| ((f64::from(z) - f64::from(top)) / temperature).exp())
        .collect();
    let total: f64 = exp.iter().sum();
    exp.into_iter().map(|e| e / total).collect()
}

/// Fits the weights on `(features, label)` examples over `dim` buckets and `labels` labels.
pub fn fit(
    examples: &[(&SparseVector, usize)],
    dim: usize,
    labels: usize,
    hyper: &Hyper,
) -> Weights {
    const EPSILON: f32 = 1e-6;
    let mut model = Weights {
        labels,
        weights: vec![0.0; dim * labels],
        bias: vec![0.0; labels],
    };
    let mut squared = vec![0.0f32; dim * labels];
    let mut bias_squared = vec![0.0f32; labels];
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(hyper.seed);
    let mut gradient = vec![0.0f32; labels];
    let (rate, l2) = (hyper.learning_rate as f32, hyper.l2 as f32);
    let mut counts = vec![0usize; labels];
    for &(_, y) in examples {
        counts[y] += 1;
    }
    let weight_of = |y: usize| {
        if hyper.balanced {
            examples.len() as f32 / (labels as f32 * counts[y] as f32)
        } else {
            1.0
        }
    };
    for _ in 0..hyper.epochs {
        order.shuffle(&mut rng);
        for &e in &order {
            let (x, y) = examples[e];
            let p = softmax(&model.logits(x), 1.0);
            let weight = weight_of(y);
            for (c, g) in gradient.iter_mut().enumerate() {
                *g = weight * (p[c] as f32 - if c == y { 1.0 } else { 0.0 });
            }
            for (&i, &v) in x.indices.iter().zip(&x.values) {
                let base = i as usize * labels;
                for (c, g) in gradient.iter().enumerate() {
                    let w = &mut model.weights[base + c];
                    let grad = g * v + l2 * *w;
                    let acc = &mut squared[base + c];
                    *acc += grad * grad;
                    *w -= rate * grad / (acc.sqrt() + EPSILON);
                }
            }
            for (c, g) in gradient.iter().enumerate() {
                bias_squared[c] += g * g;
                model.bias[c] -= rate * g / (bias_squared[c].sqrt() + EPSILON);
            }
        }
    }
    model
}

/// Mean negative log-likelihood of the true labels at `temperature`.
pub fn log_loss(logits: &[Vec<f32>], truth: &[usize], temperature: f64) -> f64 {
    let total: f64 = logits
        .iter()
        .zip(truth)
        .map(|(z, &y)| -softmax(z, temperature)[y].max(1e-12).ln())
        .sum();
    total / logits.len().max(1) as f64
}

/// The temperature in `0.25..=5.00` (steps of 0.05) with the lowest [`log_loss`] on a holdout;
/// 1.0 when the holdout is empty.
pub fn calibrate_temperature(logits: &[Vec<f32>], truth: &[usize]) -> f64 {
    if logits.is_empty() {
        return 1.0;
    }
    (5..=100)
        .map(|step| f64::from(step) * 0.05)
        .map(|t| (t, log_loss(logits, truth, t)))
        .fold((1.0, f64::INFINITY), |best, (t, loss)| {
            if loss < best.1 {
                (t, loss)
            } else {
                best
            }
        })
        .0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::categorization::features::vectorize;

    fn data() -> Vec<(SparseVector, usize)> {
        [
            ("swiggy order", 0),
            ("zomato dinner", 0),
            ("pizza order", 0),
            ("uber ride", 1),
            ("ola trip", 1),
            ("metro ride", 1),
        ]
        .into_iter()
        .map(|(text, y)| (vectorize(text), y))
        .collect()
    }

    fn hyper(seed: u64) -> Hyper {
        Hyper {
            epochs: 20,
            learning_rate: 0.5,
            l2: 1e-6,
            seed,
            balanced: true,
        }
    }

    #[test]
    fn learns_separable_labels_and_is_reproducible() {
        let data = data();
        let examples: Vec<(&SparseVector, usize)> = data.iter().map(|(x, y)| (x, *y)).collect();
        let dim = crate::categorization::features::DIM as usize;
        let model = fit(&examples, dim, 2, &hyper(7));
        for (x, y) in &examples {
            let p = softmax(&model.logits(x), 1.0);
            assert!(p[*y] > 0.8, "{p:?}");
        }
        let unseen = softmax(&model.logits(&vectorize("swiggy dinner")), 1.0);
        assert!(unseen[0] > 0.5, "{unseen:?}");
        assert_eq!(model, fit(&examples, dim, 2, &hyper(7)));
        assert_ne!(model.weights, fit(&examples, dim, 2, &hyper(8)).weights);
    }

    #[test]
    fn softmax_and_calibration() {
        let p = softmax(&[1000.0, 1000.0], 1.0);
        assert_eq!(p, [0.5, 0.5]);
        let sharp = softmax(&[2.0, 0.0], 0.5);
        let soft = softmax(&[2.0, 0.0], 2.0);
        assert!(sharp[0] > soft[0]);
        // Confidently wrong logits want a high temperature, confidently right ones a low one.
        let logits = vec![
            vec![4.0, 0.0],
            vec![4.0, 0.0],
            vec![4.0, 0.0],
            vec![4.0, 0.0],
        ];
        assert_eq!(calibrate_temperature(&logits, &[0, 1, 0, 1]), 5.0);
        assert_eq!(calibrate_temperature(&logits, &[0, 0, 0, 0]), 0.25);
        let mixed = calibrate_temperature(&logits, &[0, 0, 0, 1]);
        assert!(mixed > 0.25 && mixed < 5.0, "{mixed}");
        assert_eq!(calibrate_temperature(&[], &[]), 1.0);
    }
}
