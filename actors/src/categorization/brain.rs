//! The rules and global model everything that classifies uses (the classifier actor, imports,
//! re-categorisation after training): a [`Brain`], shared through a [`BrainCell`].
//!
//! By default the brain is the one shipped in the binary. With `CATEGORIZER_DIR` set, it is the
//! directory's `rules.toml` and `global.bin` (the formats `scale train-global-categorizer`
//! writes): loaded at start-up (a bad one stops the start), then hot-swapped whenever either file
//! changes (the classifier actor checks every `CATEGORIZER_RELOAD_SECS`). A new version that
//! fails to load or validate is logged and the current one kept; work already under way
//! finishes with the brain it started with.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use super::global::GlobalModel;
use super::model::CANONICAL_LABELS;
use super::resolve::Classifier;
use super::rules::RuleTable;

/// The rules file in a brain directory.
pub const RULES_FILE: &str = "rules.toml";
/// The global model file in a brain directory.
pub const MODEL_FILE: &str = "global.bin";

/// A part of a brain: the shipped one, or one loaded from a file.
enum Part<T: 'static> {
    Shipped(&'static T),
    Loaded(Box<T>),
}

impl<T> Deref for Part<T> {
    type Target = T;

    fn deref(&self) -> &T {
        match self {
            Part::Shipped(part) => part,
            Part::Loaded(part) => part,
        }
    }
}

/// Rules and a global model that classify together.
pub struct Brain {
    rules: Part<RuleTable>,
    model: Part<GlobalModel>,
    origin: String,
}

static SHIPPED: LazyLock<Arc<Brain>> = LazyLock::new(|| {
    Arc::new(Brain {
        rules: Part::Shipped(RuleTable::shipped()),
        model: Part::Shipped(GlobalModel::shipped()),
        origin: "shipped".into(),
    })
});

impl Brain {
    /// The brain shipped in the binary.
    pub fn shipped() -> Arc<Brain> {
        Arc::clone(&SHIPPED)
    }

    /// Loads and checks the brain in `dir`: the rules must parse and the model must decode and
    /// label with the canonical labels only.
    pub fn load(dir: &Path) -> Result<Brain, String> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
        };
        let rules =
            String::from_utf8(read(RULES_FILE)?).map_err(|_| format!("{RULES_FILE}: not UTF-8"))?;
        let rules = RuleTable::parse(&rules).map_err(|e| format!("{RULES_FILE}: {e}"))?;
        let model = GlobalModel::from_bytes(&read(MODEL_FILE)?)
            .map_err(|e| format!("{MODEL_FILE}: {e}"))?;
        if let Some(unknown) = model
            .labels()
            .iter()
            .find(|label| !CANONICAL_LABELS.contains(&label.as_str()))
        {
            return Err(format!("{MODEL_FILE}: unknown label `{unknown}`"));
        }
        let origin = format!(
            "{} (rules v{}, model v{})",
            dir.display(),
            rules.version(),
            model.header().version
        );
        Ok(Brain {
            rules: Part::Loaded(Box::new(rules)),
            model: Part::Loaded(Box::new(model)),
            origin,
        })
    }

    /// The classifier over these rules and this model.
    pub fn classifier(&self) -> Classifier<'_> {
        Classifier::new(&self.rules, &self.model)
    }

    /// Where it came from and its versions, for logs.
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// When and how big the brain files were last seen: a change of either means a new version.
type Stamp = [(Option<SystemTime>, u64); 2];

/// The current brain, shared by everything that classifies, and where new versions come from.
#[derive(Clone)]
pub struct BrainCell {
    current: Arc<RwLock<Arc<Brain>>>,
    dir: Option<PathBuf>,
    check_every: Duration,
    seen: Arc<Mutex<Stamp>>,
}

impl BrainCell {
    /// A cell holding the shipped brain, never reloaded.
    pub fn shipped() -> Self {
        Self {
            current: Arc::new(RwLock::new(Brain::shipped())),
            dir: None,
            check_every: Duration::MAX,
            seen: Arc::new(Mutex::new(Stamp::default())),
        }
    }

    /// A cell holding the brain in `dir`, reloaded by [`BrainCell::reload_if_changed`], which
    /// should run every `check_every`.
    pub fn from_dir(dir: impl Into<PathBuf>, check_every: Duration) -> Result<Self, String> {
        let dir = dir.into();
        let stamp = stamp(&dir);
        let brain = Brain::load(&dir)?;
        Ok(Self {
            current: Arc::new(RwLock::new(Arc::new(brain))),
            dir: Some(dir),
            check_every,
            seen: Arc::new(Mutex::new(stamp)),
        })
    }

    /// The brain to classify with now.
    pub fn current(&self) -> Arc<Brain> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// How often to look for a new version (`None`: never).
    pub fn check_every(&self) -> Option<Duration> {
        self.dir.as_ref().map(|_| self.check_every)
    }

    /// Loads the directory's brain when its files changed since they were last seen and swaps
    /// it in; `Ok(true)` when it did. Blocking file I/O and decoding: call it off the arbiter.
    pub fn reload_if_changed(&self) -> Result<bool, String> {
        let Some(dir) = &self.dir else {
            return Ok(false);
        };
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let now = stamp(dir);
        if now == *seen {
            return Ok(false);
        }
        // A failing version is reported once, not at every check.
        *seen = now;
        let brain = Brain::load(dir)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(brain);
        Ok(true)
    }
}

fn stamp(dir: &Path) -> Stamp {
    [RULES_FILE, MODEL_FILE].map(|name| match std::fs::metadata(dir.join(name)) {
        Ok(meta) => (meta.modified().ok(), meta.len()),
        Err(_) => (None, 0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::categorization::resolve::{NoOverrides, Source};

    const SHIPPED_RULES: &str = include_str!("../../data/categorization/rules.toml");
    const SHIPPED_MODEL: &[u8] = include_bytes!("../../data/categorization/global.bin");
    const NARRATION: &str = "ZENOBIA QUARTZ AGENCIES";

    /// A brain directory of the test's own, holding the shipped files.
    fn directory() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("scale-brain-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(MODEL_FILE), SHIPPED_MODEL).unwrap();
        std::fs::write(dir.join(RULES_FILE), SHIPPED_RULES).unwrap();
        dir
    }

    fn with_rule(category: &str) -> String {
        let rule = format!(
            "rules = [\n  {{ pattern = \"zenobia quartz\", category = \"{category}\", match = \"word\" }},"
        );
        SHIPPED_RULES.replacen("rules = [", &rule, 1)
    }

    fn answer(cell: &BrainCell) -> (String, Source) {
        let got = cell
            .current()
            .classifier()
            .classify(NARRATION, Some(-10.0), &NoOverrides);
        (got.category, got.source)
    }

    #[test]
    fn a_changed_directory_is_swapped_in_and_a_broken_one_is_not() {
        let dir = directory();
        let cell = BrainCell::from_dir(&dir, Duration::from_secs(1)).unwrap();
        assert_eq!(cell.check_every(), Some(Duration::from_secs(1)));
        assert_ne!(answer(&cell).1, Source::Rule);
        assert_eq!(cell.reload_if_changed(), Ok(false));

        std::fs::write(dir.join(RULES_FILE), with_rule("Shopping")).unwrap();
        assert_eq!(cell.reload_if_changed(), Ok(true));
        assert_eq!(answer(&cell), ("Shopping".into(), Source::Rule));

        std::fs::write(dir.join(RULES_FILE), "version = \"not a number\"").unwrap();
        assert!(cell.reload_if_changed().is_err());
        assert_eq!(answer(&cell), ("Shopping".into(), Source::Rule), "kept");
        assert_eq!(cell.reload_if_changed(), Ok(false), "reported once");

        std::fs::write(dir.join(MODEL_FILE), b"garbage").unwrap();
        assert!(cell.reload_if_changed().is_err());
        assert!(
            BrainCell::from_dir(&dir, Duration::from_secs(1)).is_err(),
            "a bad start-up brain is refused"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_shipped_cell_never_reloads() {
        let cell = BrainCell::shipped();
        assert_eq!(cell.check_every(), None);
        assert_eq!(cell.reload_if_changed(), Ok(false));
        assert_eq!(cell.current().origin(), "shipped");
    }
}
