//! Supervised actors. A [`Service`] holds a domain's state; [`spawn`] wraps it in a [`Managed`]
//! actor under actix's `Supervisor`. Every handler runs inside `catch_unwind`: a panic answers
//! the caller with [`ActorError::Panicked`], stops the actor, and the supervisor restarts it with
//! state rebuilt by the factory. Restarts are counted in the [`Registry`]; too many within the
//! configured window escalates the actor, which then refuses work and fails readiness.
//!
//! A handler that must wait (a query, a parse) answers [`Reply::Later`] with a `Send` future
//! that owns what it needs. The caller awaits it on its own thread, so one actor's arbiter never
//! becomes the bottleneck of every request; a panic inside it still restarts the actor.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use actix::fut::wrap_future;
use actix::{
    Actor, ActorContext, ActorFutureExt, Addr, AsyncContext, Context, Handler, MailboxError,
    Message, Supervised, Supervisor,
};
use futures_util::future::{BoxFuture, FutureExt};

use crate::registry::{Entry, Registry};

/// A domain's state and behaviour, run inside a supervised [`Managed`] actor.
pub trait Service: Sized + Unpin + 'static {
    /// Name in the registry, logs and `/ready`.
    const NAME: &'static str;

    /// Runs on every (re)start, after the state was rebuilt; start timers here.
    fn started(&mut self, _ctx: &mut ServiceContext<Self>) {}
}

/// The actix context a service's handlers receive.
pub type ServiceContext<S> = Context<Managed<S>>;

/// A message a service can handle; `Output` is what the caller gets back.
pub trait Request: Send + 'static {
    /// The answer to this request.
    type Output: Send + 'static;
}

/// A handler's answer: ready now, or computed by a future that does not borrow the state and
/// runs on the caller's thread.
pub enum Reply<T> {
    /// The answer, computed synchronously.
    Ready(T),
    /// The answer, computed asynchronously by the caller (the future may not touch actor state).
    Later(BoxFuture<'static, T>),
}

impl<T> Reply<T> {
    /// An asynchronous answer.
    pub fn later(fut: impl Future<Output = T> + Send + 'static) -> Self {
        Reply::Later(Box::pin(fut))
    }
}

/// Implemented by a service for each request it answers.
pub trait Handles<M: Request>: Service {
    /// Handles one request. A panic here is caught and restarts the actor.
    fn handle(&mut self, msg: M, ctx: &mut ServiceContext<Self>) -> Reply<M::Output>;
}

/// Why a request to a supervised actor got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActorError {
    /// The handler panicked; the actor was restarted.
    #[error("actor `{actor}` panicked: {reason}")]
    Panicked {
        /// The actor's registry name.
        actor: &'static str,
        /// The panic message.
        reason: String,
    },
    /// The actor exceeded its restart intensity and no longer takes work.
    #[error("actor `{actor}` exceeded its restart limit and was escalated")]
    Escalated {
        /// The actor's registry name.
        actor: &'static str,
    },
    /// No answer within the call timeout.
    #[error("actor `{actor}` did not answer within {ms} ms")]
    Timeout {
        /// The actor's registry name.
        actor: &'static str,
        /// The timeout that elapsed.
        ms: u128,
    },
    /// The actor's mailbox is closed.
    #[error("actor `{actor}` is unavailable")]
    Unavailable {
        /// The actor's registry name.
        actor: &'static str,
    },
}

impl ActorError {
    pub(crate) fn from_mailbox(actor: &'static str, err: MailboxError, timeout: Duration) -> Self {
        match err {
            MailboxError::Timeout => ActorError::Timeout {
                actor,
                ms: timeout.as_millis(),
            },
            MailboxError::Closed => ActorError::Unavailable { actor },
        }
    }
}

/// Carries a [`Request`] to a [`Managed`] actor.
pub struct Envelope<M>(M);

impl<M: Request> Message for Envelope<M> {
    type Result = Result<Reply<M::Output>, ActorError>;
}

/// Operations every supervised actor accepts, whatever its service (used by ops and tests).
#[derive(Debug, Clone)]
pub enum Control {
    /// Answers with the actor's restart count: proves the mailbox is alive.
    Ping,
    /// Panics inside the handler (chaos hook).
    Crash(scale_chaos::Crash),
}

/// The answer to [`Control::Ping`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlReply {
    /// Restarts so far.
    pub restarts: u64,
}

impl Message for Control {
    type Result = Result<ControlReply, ActorError>;
}

/// The actix actor that runs a [`Service`] under supervision.
pub struct Managed<S: Service> {
    state: S,
    factory: Box<dyn Fn() -> S>,
    entry: Arc<Entry>,
}

impl<S: Service> Managed<S> {
    /// Runs `f` on the state, catching a panic: the panic is recorded, the actor stopped (so the
    /// supervisor restarts it) and the caller gets an error.
    fn guarded<T>(
        &mut self,
        ctx: &mut ServiceContext<S>,
        f: impl FnOnce(&mut S, &mut ServiceContext<S>) -> T,
    ) -> Result<T, ActorError> {
        if self.entry.is_escalated() {
            return Err(ActorError::Escalated { actor: S::NAME });
        }
        let state = &mut self.state;
        match catch_unwind(AssertUnwindSafe(|| f(state, &mut *ctx))) {
            Ok(value) => Ok(value),
            Err(payload) => {
                let reason = panic_text(payload.as_ref());
                self.fail(ctx, reason.clone());
                Err(ActorError::Panicked {
                    actor: S::NAME,
                    reason,
                })
            }
        }
    }

    fn fail(&mut self, ctx: &mut ServiceContext<S>, reason: String) {
        tracing::error!(actor = S::NAME, %reason, "actor panicked; restarting");
        self.entry.record_failure(reason);
        ctx.stop();
    }
}

impl<S: Service> Actor for Managed<S> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.entry.mark_running();
        ctx.run_interval(self.entry.heartbeat_interval(), |act, _| act.entry.beat());
        // Service start-up runs guarded too: a panic there is a crash like any other.
        let _ = self.guarded(ctx, |state, ctx| state.started(ctx));
    }
}

impl<S: Service> Supervised for Managed<S> {
    fn restarting(&mut self, _ctx: &mut Self::Context) {
        self.state = (self.factory)();
        if self.entry.record_restart() {
            tracing::error!(
                actor = S::NAME,
                "restart intensity exceeded: actor escalated and refuses work"
            );
        } else {
            tracing::warn!(actor = S::NAME, "actor restarted with fresh state");
        }
    }
}

impl<S, M> Handler<Envelope<M>> for Managed<S>
where
    S: Handles<M>,
    M: Request,
{
    type Result = Result<Reply<M::Output>, ActorError>;

    fn handle(&mut self, Envelope(msg): Envelope<M>, ctx: &mut Self::Context) -> Self::Result {
        self.entry.handled();
        self.guarded(ctx, |state, ctx| state.handle(msg, ctx))
    }
}

impl<S: Service> Handler<Control> for Managed<S> {
    type Result = Result<ControlReply, ActorError>;

    fn handle(&mut self, msg: Control, ctx: &mut Self::Context) -> Self::Result {
        self.entry.handled();
        let restarts = self.entry.restarts();
        self.guarded(ctx, |_, _| match msg {
            Control::Ping => ControlReply { restarts },
            Control::Crash(crash) => panic!("chaos crash: {}", crash.reason),
        })
    }
}

/// Reports a panic inside a [`Reply::Later`] future back to its actor, which restarts.
struct AsyncPanic(String);

impl Message for AsyncPanic {
    type Result = ();
}

impl<S: Service> Handler<AsyncPanic> for Managed<S> {
    type Result = ();

    fn handle(&mut self, AsyncPanic(reason): AsyncPanic, ctx: &mut Self::Context) {
        self.fail(ctx, reason);
    }
}

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
    let addr = Supervisor::start(move |_| Managed {
        state,
        factory: Box::new(factory),
        entry: actor_entry,
    });
    Handle {
        addr,
        entry,
        timeout: registry.config().call_timeout,
    }
}

/// Runs `fut` within the actor's context and hands its output to `then` with the state, guarded
/// like a handler. The future is dropped if the actor restarts first.
pub fn spawn_then<S: Service, T: 'static>(
    ctx: &mut ServiceContext<S>,
    fut: impl Future<Output = T> + 'static,
    then: impl FnOnce(&mut S, T, &mut ServiceContext<S>) + 'static,
) {
    ctx.spawn(wrap_future::<_, Managed<S>>(fut).map(move |out, act, ctx| {
        let _ = act.guarded(ctx, |state, ctx| then(state, out, ctx));
    }));
}

/// The message of a panic payload (`&str` or `String`).
pub(crate) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic with a non-text payload".to_owned())
}

/// Runs `tick` on the state every `interval` for as long as this incarnation of the actor lives,
/// guarded like a handler.
pub fn every<S: Service>(
    ctx: &mut ServiceContext<S>,
    interval: Duration,
    mut tick: impl FnMut(&mut S, &mut ServiceContext<S>) + 'static,
) {
    ctx.run_interval(interval, move |act, ctx| {
        let _ = act.guarded(ctx, |state, ctx| tick(state, ctx));
    });
}
