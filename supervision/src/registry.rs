//! The actor registry: every supervised actor of this process by name, with its live record
//! (readiness, `/ops/actors`) and a way to reach it with a [`Control`] message.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use actix::Recipient;

use crate::config::SupervisorConfig;
use crate::control::{Control, ControlReply};
use crate::entry::{ActorSnapshot, Entry};
use crate::error::ActorError;

struct Registered {
    entry: Arc<Entry>,
    control: Recipient<Control>,
}

/// Every supervised actor of this process, by name. Cheap to clone.
#[derive(Clone)]
pub struct Registry {
    config: SupervisorConfig,
    actors: Arc<RwLock<BTreeMap<&'static str, Registered>>>,
}

impl Registry {
    /// An empty registry whose actors use `config`.
    pub fn new(config: SupervisorConfig) -> Self {
        Self {
            config,
            actors: Arc::default(),
        }
    }

    /// The supervision settings.
    pub fn config(&self) -> SupervisorConfig {
        self.config
    }

    pub(crate) fn entry(&self, name: &'static str) -> Arc<Entry> {
        Arc::new(Entry::new(name, self.config))
    }

    pub(crate) fn register(&self, entry: Arc<Entry>, control: Recipient<Control>) {
        let name = entry.name();
        let previous = self
            .actors
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name, Registered { entry, control });
        assert!(previous.is_none(), "actor `{name}` registered twice");
    }

    /// Snapshots of every actor, sorted by name.
    pub fn snapshot(&self) -> Vec<ActorSnapshot> {
        let actors = self.actors.read().unwrap_or_else(|p| p.into_inner());
        actors.values().map(|r| r.entry.snapshot()).collect()
    }

    /// Sends a [`Control`] message to the actor called `name`; `None` if there is no such actor.
    pub async fn control(
        &self,
        name: &str,
        op: Control,
    ) -> Option<Result<ControlReply, ActorError>> {
        let (entry, control) = {
            let actors = self.actors.read().unwrap_or_else(|p| p.into_inner());
            let registered = actors.get(name)?;
            (registered.entry.clone(), registered.control.clone())
        };
        entry.sent();
        let timeout = self.config.call_timeout;
        let answer = control.send(op).timeout(timeout).await;
        Some(answer.unwrap_or_else(|e| Err(ActorError::from_mailbox(entry.name(), e, timeout))))
    }
}
