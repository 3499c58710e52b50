//! The supervised actor. A [`Service`] holds a domain's state; [`Managed`] runs it under actix's
//! `Supervisor`. Every handler runs inside `catch_unwind`: a panic answers the caller with
//! [`ActorError::Panicked`], stops the actor, and the supervisor restarts it with state rebuilt
//! by the factory. Restarts are counted in the actor's registry entry; too many within the
//! configured window escalates the actor, which then refuses work and fails readiness.
//!
//! A handler that must wait (a query, a parse) answers [`Reply::Later`] with a `Send` future
//! that owns what it needs. The caller awaits it on its own thread (see [`crate::Handle`]), so
//! one actor's arbiter never becomes the bottleneck of every request; a panic inside it still
//! restarts the actor.
//!
//! Each handler's synchronous part is timed into [`names::ACTOR_HANDLER`] and each escalation
//! counted in [`names::ESCALATIONS`]. Each panic is reported to Sentry (when enabled) tagged with
//! the actor's name.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::fut::wrap_future;
use actix::{
    Actor, ActorContext, ActorFutureExt, AsyncContext, Context, Handler, Message, Supervised,
};
use scale_monitoring::metrics::names;

use crate::control::{Control, ControlReply};
use crate::entry::Entry;
use crate::error::ActorError;
use crate::panic::panic_text;
use crate::request::{Reply, Request};

/// A domain's state and behaviour, run inside a supervised [`Managed`] actor.
pub trait Service: Sized + Unpin + 'static {
    /// Name in the registry, logs and `/ready`.
    const NAME: &'static str;

    /// Runs on every (re)start, after the state was rebuilt; start timers here.
    fn started(&mut self, _ctx: &mut ServiceContext<Self>) {}
}

/// The actix context a service's handlers receive.
pub type ServiceContext<S> = Context<Managed<S>>;

/// Implemented by a service for each request it answers.
pub trait Handles<M: Request>: Service {
    /// Handles one request. A panic here is caught and restarts the actor.
    fn handle(&mut self, msg: M, ctx: &mut ServiceContext<Self>) -> Reply<M::Output>;
}

/// Carries a [`Request`] to a [`Managed`] actor.
pub(crate) struct Envelope<M>(pub(crate) M);

impl<M: Request> Message for Envelope<M> {
    type Result = Result<Reply<M::Output>, ActorError>;
}

/// The actix actor that runs a [`Service`] under supervision.
pub struct Managed<S: Service> {
    state: S,
    factory: Box<dyn Fn() -> S>,
    entry: Arc<Entry>,
    /// This actor's series of [`names::ACTOR_HANDLER`], resolved once (install the recorder
    /// before starting actors, or this records nowhere).
    handler_duration: metrics::Histogram,
}

impl<S: Service> Managed<S> {
    /// An actor running `state`, rebuilt by `factory` on restart, recording into `entry`.
    pub(crate) fn new(state: S, factory: Box<dyn Fn() -> S>, entry: Arc<Entry>) -> Self {
        Self {
            state,
            factory,
            entry,
            handler_duration: metrics::histogram!(names::ACTOR_HANDLER, "actor" => S::NAME),
        }
    }

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
        // Reported to Sentry below, tagged with the actor; the log line is only a breadcrumb.
        tracing::error!(
            actor = S::NAME,
            %reason,
            sentry_breadcrumb = true,
            "actor panicked; restarting"
        );
        report_panic(S::NAME, &reason);
        self.entry.record_failure(reason);
        ctx.stop();
    }
}

/// Sends an actor's panic to Sentry as an error event tagged `actor`, when a client is bound to
/// the current hub (nothing is built otherwise).
fn report_panic(actor: &'static str, reason: &str) {
    sentry::Hub::with_active(|hub| {
        hub.capture_event(sentry::protocol::Event {
            message: Some(format!("actor {actor} panicked: {reason}")),
            level: sentry::Level::Error,
            tags: [("actor".to_owned(), actor.to_owned())].into(),
            ..Default::default()
        });
    });
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
            metrics::counter!(names::ESCALATIONS, "actor" => S::NAME).increment(1);
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
        let started = Instant::now();
        let reply = self.guarded(ctx, |state, ctx| state.handle(msg, ctx));
        self.handler_duration
            .record(started.elapsed().as_secs_f64());
        reply
    }
}

impl<S: Service> Handler<Control> for Managed<S> {
    type Result = Result<ControlReply, ActorError>;

    fn handle(&mut self, msg: Control, ctx: &mut Self::Context) -> Self::Result {
        self.entry.handled();
        let restarts = self.entry.restarts();
        self.guarded(ctx, |_, ctx| match msg {
            Control::Ping => ControlReply { restarts },
            Control::Crash(crash) => panic!("chaos crash: {}", crash.reason),
            Control::Hold(busy) => {
                // `wait` parks the mailbox (not the thread) until the sleep ends.
                ctx.wait(wrap_future(tokio::time::sleep(busy)));
                ControlReply { restarts }
            }
        })
    }
}

/// Reports a panic inside a [`Reply::Later`] future back to its actor, which restarts.
pub(crate) struct AsyncPanic(pub(crate) String);

impl Message for AsyncPanic {
    type Result = ();
}

impl<S: Service> Handler<AsyncPanic> for Managed<S> {
    type Result = ();

    fn handle(&mut self, AsyncPanic(reason): AsyncPanic, ctx: &mut Self::Context) {
        self.fail(ctx, reason);
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
