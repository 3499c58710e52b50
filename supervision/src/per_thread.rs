//! Per-thread values and actor shards. A request served on one HTTP worker thread should not
//! wait on another thread: a pooled connection's driver task runs on the thread that opened it
//! and an actor's mailbox on its arbiter, so sharing either across threads turns every query
//! or message into cross-thread wake-ups (measured: about a quarter of the server's CPU on the
//! transaction list). [`PerThread`] gives each thread its own value (a connection pool);
//! [`Sharded`] runs a service as one supervised actor per thread that asks it.

use std::sync::{Arc, Once};

use thread_local::ThreadLocal;

use crate::entry::Entry;
use crate::handle::{start, Handle};
use crate::managed::Service;
use crate::registry::Registry;

/// One `T` per thread that uses it, built on that thread on first use and kept for the
/// lifetime of the `PerThread` (threads are long-lived HTTP workers and arbiters).
pub struct PerThread<T: Send> {
    values: ThreadLocal<T>,
    build: Box<dyn Fn() -> T + Send + Sync>,
}

impl<T: Send> PerThread<T> {
    /// Values made by `build`, once per thread.
    pub fn new(build: impl Fn() -> T + Send + Sync + 'static) -> Self {
        Self {
            values: ThreadLocal::new(),
            build: Box::new(build),
        }
    }

    /// This thread's value.
    pub fn get(&self) -> &T {
        self.values.get_or(|| (self.build)())
    }
}

/// A service run as one supervised actor per thread that asks it, each with its own state
/// from the factory (so each shard may own, say, its own connection pool). The shards share
/// one registry entry: restarts count together, escalation stops them all, and readiness
/// shows the service once. Control messages (ops ping and crash) reach the first shard.
pub struct Sharded<S: Service> {
    shards: PerThread<Handle<S>>,
}

impl<S: Service> Sharded<S> {
    /// A sharded service whose shards start with `factory()` (and restart with it).
    pub fn new(registry: &Registry, factory: impl Fn() -> S + Send + Sync + 'static) -> Self {
        let registry = registry.clone();
        let entry: Arc<Entry> = registry.entry(S::NAME);
        let factory = Arc::new(factory);
        let registered = Once::new();
        Self {
            shards: PerThread::new(move || {
                let factory = factory.clone();
                let shard = start(&registry, entry.clone(), move || factory());
                registered.call_once(|| shard.register(&registry));
                shard
            }),
        }
    }

    /// This thread's shard, started on first use. Call it on an actix arbiter (an HTTP
    /// worker), where the shard will live.
    pub fn local(&self) -> &Handle<S> {
        self.shards.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SupervisorConfig;
    use crate::managed::{Handles, ServiceContext};
    use crate::request::{Reply, Request};

    #[test]
    fn each_thread_builds_its_own_value_once() {
        let values = Arc::new(PerThread::new(|| std::thread::current().id()));
        let here = *values.get();
        assert_eq!(*values.get(), here);
        let other = Arc::clone(&values);
        let there = std::thread::spawn(move || *other.get()).join().unwrap();
        assert_ne!(there, here);
    }

    struct Where;

    struct WhichThread;

    impl Request for WhichThread {
        type Output = std::thread::ThreadId;
    }

    impl Service for Where {
        const NAME: &'static str = "where";
    }

    impl Handles<WhichThread> for Where {
        fn handle(
            &mut self,
            _: WhichThread,
            _: &mut ServiceContext<Self>,
        ) -> Reply<std::thread::ThreadId> {
            Reply::Ready(std::thread::current().id())
        }
    }

    #[actix_rt::test]
    async fn shards_run_on_the_asking_thread_and_register_once() {
        let registry = Registry::new(SupervisorConfig::default());
        let sharded = Arc::new(Sharded::new(&registry, || Where));
        let here = sharded.local().ask(WhichThread).await.unwrap();
        assert_eq!(here, std::thread::current().id());

        let other = Arc::clone(&sharded);
        let arbiter = actix_rt::Arbiter::new();
        let (tx, rx) = tokio::sync::oneshot::channel();
        arbiter.spawn(async move {
            let _ = tx.send(other.local().ask(WhichThread).await.unwrap());
        });
        let there = rx.await.unwrap();
        assert_ne!(there, here);
        arbiter.stop();

        let names: Vec<_> = registry.snapshot().iter().map(|a| a.name).collect();
        assert_eq!(names, ["where"]);
    }
}
