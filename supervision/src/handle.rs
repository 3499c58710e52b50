//! Starting a supervised actor and calling it: [`spawn`] gives a [`Handle`], whose requests wait
//! at most the call timeout and run a [`Reply::Later`] future on the caller's thread.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use actix::{Addr, Supervisor};
use futures_util::future::FutureExt;

use crate::entry::Entry;
use crate::error::ActorError;
use crate::managed::{AsyncPanic, Envelope, Handles, Managed, Service};
use crate::panic::panic_text;
use crate::registry::Registry;
use crate::request::{Reply, Request};

/// A cloneable, thread-safe handle to a supervised service.
pub struct Handle<S: Service> {
    addr: Addr<Managed<S>>,
    entry: Arc<Entry>,
    timeout: Duration,
}

impl<S: Service> Clone for Handle<S> {
    fn clone(&self) -> Self {
        Self {
            addr: self.addr.clone(),
            entry: self.entry.clone(),
            timeout: self.timeout,
        }
    }
}

impl<S: Service> Handle<S> {
    /// Lists this actor in `registry` (readiness, ops control messages).
    pub(crate) fn register(&self, registry: &Registry) {
        registry.register(self.entry.clone(), self.addr.clone().recipient());
    }

    /// Sends a request and waits for the answer, at most the configured call timeout.
    pub async fn ask<M: Request>(&self, msg: M) -> Result<M::Output, ActorError>
    where
        S: Handles<M>,
    {
        self.ask_within(msg, self.timeout).await
    }

    /// Sends a request and waits for the answer, at most `timeout` in all. A [`Reply::Later`]
    /// future runs here, on the caller's thread; if it panics the actor is restarted.
    pub async fn ask_within<M: Request>(
        &self,
        msg: M,
        timeout: Duration,
    ) -> Result<M::Output, ActorError>
    where
        S: Handles<M>,
    {
        self.ask_bounded(msg, timeout, timeout).await
    }

    /// Sends a request for work that may be long (an import, a fit on request): the actor must
    /// take it within the configured call timeout, and its [`Reply::Later`] future then has
    /// `budget` (from now) to finish.
    pub async fn ask_with_budget<M: Request>(
        &self,
        msg: M,
        budget: Duration,
    ) -> Result<M::Output, ActorError>
    where
        S: Handles<M>,
    {
        self.ask_bounded(msg, self.timeout.min(budget), budget)
            .await
    }

    /// Sends a request, waits at most `mailbox` for the actor's reply and `total` in all.
    async fn ask_bounded<M: Request>(
        &self,
        msg: M,
        mailbox: Duration,
        total: Duration,
    ) -> Result<M::Output, ActorError>
    where
        S: Handles<M>,
    {
        let deadline = tokio::time::Instant::now() + total;
        self.entry.sent();
        let reply = self
            .addr
            .send(Envelope(msg))
            .timeout(mailbox)
            .await
            .map_err(|e| ActorError::from_mailbox(S::NAME, e, mailbox))??;
        let fut = match reply {
            Reply::Ready(value) => return Ok(value),
            Reply::Later(fut) => fut,
        };
        match tokio::time::timeout_at(deadline, AssertUnwindSafe(fut).catch_unwind()).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(payload)) => {
                let reason = panic_text(payload.as_ref());
                self.addr.do_send(AsyncPanic(reason.clone()));
                Err(ActorError::Panicked {
                    actor: S::NAME,
                    reason,
                })
            }
            Err(_) => Err(ActorError::Timeout {
                actor: S::NAME,
                ms: total.as_millis(),
            }),
        }
    }
}

/// Starts `factory()` as a supervised actor on the current arbiter and registers it.
pub fn spawn<S: Service>(registry: &Registry, factory: impl Fn() -> S + 'static) -> Handle<S> {
    let handle = start(registry, registry.entry(S::NAME), factory);
    handle.register(registry);
    handle
}

/// Starts `factory()` as a supervised actor on the current arbiter, recording into `entry`.
pub(crate) fn start<S: Service>(
    registry: &Registry,
    entry: Arc<Entry>,
    factory: impl Fn() -> S + 'static,
) -> Handle<S> {
    let state = factory();
    let actor_entry = entry.clone();
    let addr = Supervisor::start(move |_| Managed::new(state, Box::new(factory), actor_entry));
    Handle {
        addr,
        entry,
        timeout: registry.config().call_timeout,
    }
}
