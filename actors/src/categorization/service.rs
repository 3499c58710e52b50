//! The classifier actor: holds the rules and global model (a [`BrainCell`]: the shipped ones, or
//! a directory's, which it reloads when they change) and an LRU of per-user [`PersonalLayer`]s,
//! and answers classification requests. Classifying is
//! CPU work, so each batch runs as one call on the blocking pool, never on the actor's arbiter;
//! a panic there restarts the actor like any handler panic.
//!
//! A user's layer is built from the database on first use and kept until it changes: a
//! correction in any process publishes a [`LayerChanged`] on its bus, and a completed job of
//! the user (a new trained model) arrives on the job bus; both drop the cached layer, so the
//! next request rebuilds it. A layer being built while such a change arrives is not cached.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use scale_schema::PgPool;
use scale_supervision::{every, spawn_then, Handles, Reply, Request, Service, ServiceContext};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::{self, error::RecvError};
use uuid::Uuid;

use super::brain::BrainCell;
use super::corrections::{self, teachings};
use super::personal::PersonalLayer;
use super::resolve::{Classification, NoOverrides, Overrides};
use super::telemetry;
use crate::cache::lru::Lru;
use crate::error::CoreError;
use crate::events::{Bus, EventBus, Topic};
use crate::jobs::JobStatus;

/// Most narrations one request may classify.
pub const MAX_BATCH: usize = 5_000;
/// Threads one large batch is shared among: the machine's cores.
pub static CLASSIFY_THREADS: LazyLock<usize> =
    LazyLock::new(|| std::thread::available_parallelism().map_or(1, usize::from));
/// Most users whose layers are cached (a layer is at most about 2 MB, most a few KB).
pub const LAYER_CAPACITY: usize = 512;
/// Longest a cached layer is trusted without a change notice (a backstop for notices lost while
/// the bus was degraded).
pub const LAYER_TTL: Duration = Duration::from_secs(600);

/// What a user taught the classifier changed (a correction was stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerChanged {
    /// Whose layer.
    pub user_id: Uuid,
}

impl Topic for LayerChanged {
    const CHANNEL: &'static str = "categorization:layers";
}

/// Classify narrations, each with its signed amount when known, in order.
pub struct Classify {
    /// Whose corrections and model apply (`None`: the shipped rules and model only).
    pub user: Option<Uuid>,
    /// `(description, amount)` pairs (at most [`MAX_BATCH`]).
    pub items: Vec<(String, Option<f64>)>,
}

impl Request for Classify {
    type Output = Result<Vec<Classification>, CoreError>;
}

/// Store free-text corrections `(description, category)` of a user and apply them at once;
/// answers how many corrections were made since the user's newest categorizer job was queued.
pub struct Feedback {
    /// Whose corrections.
    pub user: Uuid,
    /// The role stored if the user's row is created now.
    pub role: &'static str,
    /// Validated `(description, category)` pairs.
    pub pairs: Vec<(String, String)>,
}

impl Request for Feedback {
    type Output = Result<i64, CoreError>;
}

/// A user's corrections changed elsewhere (a category set by hand): drop the user's layer in
/// every process; answers how many corrections were made since the user's newest categorizer
/// job was queued.
pub struct CorrectionsChanged {
    /// Whose corrections.
    pub user: Uuid,
}

impl Request for CorrectionsChanged {
    type Output = Result<i64, CoreError>;
}

/// The cached layers, shared with the requests being answered, and the bus announcing changes.
#[derive(Clone)]
struct Layers {
    cache: Arc<Mutex<Lru<Arc<PersonalLayer>>>>,
    /// Bumped by every change notice; a layer built across a bump is not cached.
    epoch: Arc<AtomicU64>,
    changes: Bus<LayerChanged>,
}

impl Layers {
    fn new(changes: Bus<LayerChanged>) -> Self {
        Self {
            cache: Arc::new(Mutex::new(Lru::new(LAYER_CAPACITY, LAYER_TTL))),
            epoch: Arc::new(AtomicU64::new(0)),
            changes,
        }
    }

    /// Drops the user's layer here and announces the change to every process (after the change
    /// committed, so no process rebuilds the old layer).
    async fn changed(&self, user: Uuid) {
        self.forget(user);
        self.changes.publish(LayerChanged { user_id: user }).await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lru<Arc<PersonalLayer>>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn forget(&self, user: Uuid) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.lock().remove(&user.to_string());
    }

    /// The user's layer, from the cache or built from the database.
    async fn of(&self, pool: &PgPool, user: Uuid) -> Result<Arc<PersonalLayer>, CoreError> {
        let key = user.to_string();
        if let Some(layer) = self.lock().get(&key, Instant::now()) {
            return Ok(layer);
        }
        let epoch = self.epoch.load(Ordering::SeqCst);
        let taught = teachings(pool, user).await?;
        let layer = tokio::task::spawn_blocking(move || taught.layer())
            .await
            .unwrap_or_else(|err| std::panic::resume_unwind(err.into_panic()));
        let layer = Arc::new(layer);
        let mut cache = self.lock();
        if self.epoch.load(Ordering::SeqCst) == epoch {
            cache.set(&key, Arc::clone(&layer), LAYER_TTL, Instant::now());
        }
        Ok(layer)
    }
}

/// The classifier actor's state: the rules and model it classifies with, and the users' layers.
pub struct ClassifierService {
    brain: BrainCell,
    pool: PgPool,
    layers: Layers,
    jobs: EventBus,
}

impl ClassifierService {
    /// A service classifying with `brain`'s rules and global model (reloading it when it has a
    /// directory), reading users' data from `pool`, hearing of new models on `jobs` and of
    /// corrections on `changes`.
    pub fn new(brain: BrainCell, pool: PgPool, jobs: EventBus, changes: Bus<LayerChanged>) -> Self {
        Self {
            brain,
            pool,
            layers: Layers::new(changes),
            jobs,
        }
    }

    /// The database the users' data is read from.
    pub(super) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Follows `events`, dropping the layer of each user `affected` names.
    fn listen<E: Send + Sync + 'static>(
        ctx: &mut ServiceContext<Self>,
        mut events: broadcast::Receiver<Arc<E>>,
        affected: fn(&E) -> Option<Uuid>,
    ) {
        let next = async move {
            let event = events.recv().await;
            (events, event)
        };
        spawn_then(ctx, next, move |state, (events, event), ctx| {
            match event {
                Ok(event) => {
                    if let Some(user) = affected(&event) {
                        state.layers.forget(user);
                    }
                }
                // Notices were missed: any layer may be stale.
                Err(RecvError::Lagged(_)) => {
                    state.layers.epoch.fetch_add(1, Ordering::SeqCst);
                    state.layers.lock().clear();
                }
                Err(RecvError::Closed) => return,
            }
            Self::listen(ctx, events, affected);
        });
    }
}

impl Service for ClassifierService {
    const NAME: &'static str = "classifier";

    fn started(&mut self, ctx: &mut ServiceContext<Self>) {
        Self::listen(
            ctx,
            self.layers.changes.subscribe(),
            |change: &LayerChanged| Some(change.user_id),
        );
        Self::listen(ctx, self.jobs.subscribe(), |event| {
            (event.status == JobStatus::Completed).then_some(event.user_id)
        });
        if let Some(interval) = self.brain.check_every() {
            every(ctx, interval, |state, _| {
                let brain = state.brain.clone();
                tokio::task::spawn_blocking(move || match brain.reload_if_changed() {
                    Ok(true) => {
                        tracing::info!(brain = brain.current().origin(), "categorizer reloaded")
                    }
                    Ok(false) => {}
                    Err(error) => {
                        tracing::warn!(%error, "new categorizer refused; the current one stays")
                    }
                });
            });
        }
    }
}

impl Handles<Classify> for ClassifierService {
    fn handle(
        &mut self,
        msg: Classify,
        _: &mut ServiceContext<Self>,
    ) -> Reply<Result<Vec<Classification>, CoreError>> {
        let (brain, layers, pool) = (self.brain.current(), self.layers.clone(), self.pool.clone());
        Reply::later(async move {
            let layer = match msg.user {
                Some(user) => Some(layers.of(&pool, user).await?),
                None => None,
            };
            let task = tokio::task::spawn_blocking(move || {
                let items: Vec<(&str, Option<f64>)> = msg
                    .items
                    .iter()
                    .map(|(description, amount)| (description.as_str(), *amount))
                    .collect();
                let overrides: &dyn Overrides = match &layer {
                    Some(layer) => layer.as_ref(),
                    None => &NoOverrides,
                };
                let answers =
                    brain
                        .classifier()
                        .classify_batch_on(&items, overrides, *CLASSIFY_THREADS);
                telemetry::record_decisions("classify", &answers);
                answers
            });
            Ok(task
                .await
                .unwrap_or_else(|err| std::panic::resume_unwind(err.into_panic())))
        })
    }
}

impl Handles<Feedback> for ClassifierService {
    fn handle(
        &mut self,
        msg: Feedback,
        _: &mut ServiceContext<Self>,
    ) -> Reply<Result<i64, CoreError>> {
        let (pool, layers) = (self.pool.clone(), self.layers.clone());
        Reply::later(async move {
            let pending =
                corrections::record_feedback(&pool, msg.user, msg.role, &msg.pairs).await?;
            layers.changed(msg.user).await;
            Ok(pending)
        })
    }
}

impl Handles<CorrectionsChanged> for ClassifierService {
    fn handle(
        &mut self,
        msg: CorrectionsChanged,
        _: &mut ServiceContext<Self>,
    ) -> Reply<Result<i64, CoreError>> {
        let (pool, layers) = (self.pool.clone(), self.layers.clone());
        Reply::later(async move {
            layers.changed(msg.user).await;
            corrections::pending_corrections(&pool, msg.user).await
        })
    }
}
