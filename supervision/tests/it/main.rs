//! Supervision: a handler panic answers the caller with an error, the actor restarts with fresh
//! state and keeps answering, restarts are counted, the intensity limit escalates, and each panic
//! reaches Sentry tagged with the actor.

use std::time::Duration;

use scale_supervision::{
    spawn, ActorError, ActorSnapshot, ActorStatus, Control, Crash, Handle, Handles, Registry,
    Reply, Request, Service, ServiceContext, SupervisorConfig,
};

/// A counter whose state must be fresh after every restart.
struct Counter {
    count: u64,
}

impl Service for Counter {
    const NAME: &'static str = "counter";
}

struct Incr;
impl Request for Incr {
    type Output = u64;
}
impl Handles<Incr> for Counter {
    fn handle(&mut self, _: Incr, _: &mut ServiceContext<Self>) -> Reply<u64> {
        self.count += 1;
        Reply::Ready(self.count)
    }
}

struct Boom;
impl Request for Boom {
    type Output = ();
}
impl Handles<Boom> for Counter {
    fn handle(&mut self, _: Boom, _: &mut ServiceContext<Self>) -> Reply<()> {
        panic!("boom in a handler");
    }
}

struct BoomLater;
impl Request for BoomLater {
    type Output = ();
}
impl Handles<BoomLater> for Counter {
    fn handle(&mut self, _: BoomLater, _: &mut ServiceContext<Self>) -> Reply<()> {
        Reply::later(async { panic!("boom in a future") })
    }
}

struct Never;
impl Request for Never {
    type Output = ();
}
impl Handles<Never> for Counter {
    fn handle(&mut self, _: Never, _: &mut ServiceContext<Self>) -> Reply<()> {
        Reply::later(std::future::pending())
    }
}

fn start(max_restarts: u32) -> (Registry, Handle<Counter>) {
    let registry = Registry::new(SupervisorConfig {
        max_restarts,
        call_timeout: Duration::from_secs(1),
        ..SupervisorConfig::default()
    });
    let handle = spawn(&registry, || Counter { count: 0 });
    (registry, handle)
}

fn snapshot(registry: &Registry) -> ActorSnapshot {
    registry
        .snapshot()
        .into_iter()
        .find(|a| a.name == "counter")
        .unwrap()
}

/// Polls `check` until it holds or two seconds pass.
async fn eventually(mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met in time"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[actix_rt::test]
async fn handler_panic_errors_the_caller_and_restarts_with_fresh_state() {
    let (registry, counter) = start(5);
    assert_eq!(counter.ask(Incr).await, Ok(1));
    assert_eq!(counter.ask(Incr).await, Ok(2));

    let err = counter.ask(Boom).await.unwrap_err();
    assert_eq!(
        err,
        ActorError::Panicked {
            actor: "counter",
            reason: "boom in a handler".into()
        }
    );
    // The next message is answered by a fresh incarnation.
    assert_eq!(counter.ask(Incr).await, Ok(1));
    let snap = snapshot(&registry);
    assert_eq!(snap.restarts, 1);
    assert_eq!(snap.status, ActorStatus::Running);
    assert_eq!(snap.last_error.as_deref(), Some("boom in a handler"));
    assert_eq!(snap.backlog, 0);
}

#[actix_rt::test]
async fn panic_inside_an_async_reply_also_restarts() {
    let (registry, counter) = start(5);
    assert_eq!(counter.ask(Incr).await, Ok(1));
    let err = counter.ask(BoomLater).await.unwrap_err();
    assert!(matches!(err, ActorError::Panicked { .. }), "{err:?}");
    eventually(|| snapshot(&registry).restarts == 1).await;
    assert_eq!(counter.ask(Incr).await, Ok(1));
}

#[actix_rt::test]
async fn a_silent_actor_times_out_instead_of_hanging() {
    let (_registry, counter) = start(5);
    let err = counter
        .ask_within(Never, Duration::from_millis(50))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ActorError::Timeout {
            actor: "counter",
            ms: 50
        }
    );
    assert_eq!(counter.ask(Incr).await, Ok(1));
}

#[actix_rt::test]
async fn control_messages_reach_an_actor_by_name() {
    let (registry, counter) = start(5);
    let ping = registry.control("counter", Control::Ping).await.unwrap();
    assert_eq!(ping.unwrap().restarts, 0);
    let crash = registry
        .control("counter", Control::Crash(Crash::new("test")))
        .await
        .unwrap();
    assert!(matches!(crash, Err(ActorError::Panicked { .. })));
    let ping = registry.control("counter", Control::Ping).await.unwrap();
    assert_eq!(ping.unwrap().restarts, 1);
    assert_eq!(counter.ask(Incr).await, Ok(1));
    assert!(registry.control("nobody", Control::Ping).await.is_none());
}

#[actix_rt::test]
async fn a_hold_keeps_the_mailbox_waiting_while_messages_pile_up() {
    let (registry, counter) = start(5);
    let held = registry
        .control("counter", Control::Hold(Duration::from_millis(400)))
        .await
        .unwrap();
    assert_eq!(held.unwrap().restarts, 0);
    let waiting: Vec<_> = (0..5)
        .map(|_| {
            let counter = counter.clone();
            actix_rt::spawn(async move { counter.ask(Incr).await })
        })
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while snapshot(&registry).backlog < 5 {
        assert!(std::time::Instant::now() < deadline, "no backlog built up");
        actix_rt::time::sleep(Duration::from_millis(10)).await;
    }
    let mut answers = Vec::new();
    for waiting in waiting {
        answers.push(waiting.await.unwrap().unwrap());
    }
    answers.sort_unstable();
    assert_eq!(answers, [1, 2, 3, 4, 5]);
    assert_eq!(snapshot(&registry).backlog, 0);
}

#[actix_rt::test]
async fn too_many_restarts_in_the_window_escalates() {
    let (registry, counter) = start(2);
    for _ in 0..2 {
        assert!(counter.ask(Boom).await.is_err());
        assert_eq!(counter.ask(Incr).await, Ok(1));
    }
    assert_ne!(snapshot(&registry).status, ActorStatus::Escalated);
    assert!(counter.ask(Boom).await.is_err());
    eventually(|| snapshot(&registry).status == ActorStatus::Escalated).await;
    assert_eq!(
        counter.ask(Incr).await,
        Err(ActorError::Escalated { actor: "counter" })
    );
    assert_eq!(snapshot(&registry).restarts, 3);
}

#[test]
fn actor_panics_reach_sentry_tagged_with_the_actor() {
    let events = sentry::test::with_captured_events(|| {
        actix_rt::System::new().block_on(async {
            let (registry, counter) = start(5);
            counter.ask(Boom).await.unwrap_err();
            counter.ask(BoomLater).await.unwrap_err();
            // The future's panic reaches the actor after the caller got its error.
            eventually(|| snapshot(&registry).restarts == 2).await;
        });
    });
    let mut messages: Vec<_> = events
        .iter()
        .map(|event| {
            assert_eq!(event.level, sentry::Level::Error);
            assert_eq!(event.tags.get("actor").map(String::as_str), Some("counter"));
            event.message.clone().unwrap_or_default()
        })
        .collect();
    messages.sort();
    assert_eq!(
        messages,
        [
            "actor counter panicked: boom in a future",
            "actor counter panicked: boom in a handler"
        ]
    );
}
