//! The classifier actor: holds the shipped rules and global model (loaded once at start-up)
//! and answers classification requests. Classifying is CPU work, so each batch runs as one call
//! on the blocking pool, never on the actor's arbiter; a panic there restarts the actor like any
//! handler panic. The per-user layer (corrections, trained models) comes next.

use scale_schema::PgPool;
use scale_supervision::{Handles, Reply, Request, Service, ServiceContext};

use super::resolve::{Classification, Classifier, NoOverrides};

/// Most narrations one request may classify.
pub const MAX_BATCH: usize = 5_000;

/// Classify narrations, each with its signed amount when known, in order.
pub struct Classify {
    /// `(description, amount)` pairs (at most [`MAX_BATCH`]).
    pub items: Vec<(String, Option<f64>)>,
}

impl Request for Classify {
    type Output = Vec<Classification>;
}

/// The classifier actor's state: the rules and model it classifies with.
pub struct ClassifierService {
    classifier: Classifier<'static>,
    pool: PgPool,
}

impl ClassifierService {
    /// A service classifying with the shipped rules and global model, reading users' data
    /// from `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self {
            classifier: Classifier::shipped(),
            pool,
        }
    }

    /// The database the users' data is read from.
    pub(super) fn pool(&self) -> &PgPool {
        &self.pool
    }
}

impl Service for ClassifierService {
    const NAME: &'static str = "classifier";
}

impl Handles<Classify> for ClassifierService {
    fn handle(
        &mut self,
        msg: Classify,
        _: &mut ServiceContext<Self>,
    ) -> Reply<Vec<Classification>> {
        let classifier = self.classifier;
        Reply::later(async move {
            let task = tokio::task::spawn_blocking(move || {
                let items: Vec<(&str, Option<f64>)> = msg
                    .items
                    .iter()
                    .map(|(description, amount)| (description.as_str(), *amount))
                    .collect();
                classifier.classify_batch(&items, &NoOverrides)
            });
            task.await
                .unwrap_or_else(|err| std::panic::resume_unwind(err.into_panic()))
        })
    }
}
