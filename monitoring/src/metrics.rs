//! Prometheus metrics: the process-wide recorder ([`install`]) and the name of every metric the
//! service records ([`names`]), each described once so the exposition carries its `# HELP`.
//!
//! Labels stay low-cardinality: methods, route templates (never raw paths), status classes, actor
//! and dependency names, tiers and kinds — never a user id.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Upper bounds in seconds of every duration histogram's buckets: 1 ms to 30 s, tight around
/// the 500 ms and 2 s objectives.
pub const DURATION_BUCKETS: [f64; 15] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 30.0,
];
/// How often histogram samples are folded into their buckets (the recorder keeps raw samples in
/// between, so this bounds its memory).
pub const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Metric names.
pub mod names {
    /// Counter of answered requests by `method`, `route` (the matched template or `unmatched`)
    /// and `status` class (`2xx`…`5xx`).
    pub const HTTP_REQUESTS: &str = "scale_http_requests_total";
    /// Histogram of request durations, labelled like [`HTTP_REQUESTS`].
    pub const HTTP_DURATION: &str = "scale_http_request_duration_seconds";
    /// Gauge, 1 for the `status` an `actor` is in (`starting`, `running`, `restarting`,
    /// `stalled`, `escalated`), 0 for the others.
    pub const ACTOR_STATUS: &str = "scale_actor_status";
    /// Counter of an `actor`'s restarts.
    pub const ACTOR_RESTARTS: &str = "scale_actor_restarts_total";
    /// Gauge of messages sent to an `actor` and not handled yet.
    pub const ACTOR_BACKLOG: &str = "scale_actor_mailbox_backlog";
    /// Gauge of seconds since an `actor`'s last heartbeat.
    pub const ACTOR_HEARTBEAT_AGE: &str = "scale_actor_heartbeat_age_seconds";
    /// Histogram of the synchronous part of an `actor`'s message handlers.
    pub const ACTOR_HANDLER: &str = "scale_actor_handler_duration_seconds";
    /// Counter of actors pushed over their restart intensity, by `actor`.
    pub const ESCALATIONS: &str = "scale_supervision_escalations_total";
    /// Gauge, 1 when a `dependency` (`postgres`, `redis`) answered its last probe, else 0.
    pub const DEPENDENCY_UP: &str = "scale_dependency_up";
    /// Gauge of a `dependency`'s last successful probe round trip.
    pub const DEPENDENCY_LATENCY: &str = "scale_dependency_probe_seconds";
    /// Gauge of the connections a `pool` holds.
    pub const POOL_CONNECTIONS: &str = "scale_pool_connections";
    /// Gauge of the idle connections of a `pool`.
    pub const POOL_IDLE: &str = "scale_pool_idle_connections";
    /// Gauge, 1 when the process is `ready`, `degraded` or `unavailable` (by `status`).
    pub const READINESS: &str = "scale_readiness";
    /// Gauge, 1 for how job events travel (`redis`, `degraded`, `local`, by `mode`).
    pub const EVENT_BUS: &str = "scale_event_bus";
    /// Gauge of training jobs held under a live lease (workers busy now).
    pub const JOBS_LEASED: &str = "scale_jobs_live_leases";
    /// Gauge of seconds the oldest due pending job has waited (0 when none waits).
    pub const JOBS_OLDEST_PENDING_AGE: &str = "scale_jobs_oldest_pending_age_seconds";
    /// Gauge of seconds since the stalest job being processed last changed (0 when none is).
    pub const JOBS_PROCESSING_STALE: &str = "scale_jobs_processing_stale_seconds";
    /// Counter of cache lookups by `result` (`hit`, `miss`).
    pub const CACHE_LOOKUPS: &str = "scale_cache_lookups_total";
    /// Gauge, 1 for the `backend` the cache uses (`redis`, `memory`).
    pub const CACHE_BACKEND: &str = "scale_cache_backend";
    /// Gauge of entries in the cache's in-process LRU.
    pub const CACHE_MEMORY_ENTRIES: &str = "scale_cache_memory_entries";
    /// Counter of requests refused by the rate limiter, by `tier`.
    pub const RATE_LIMITED: &str = "scale_rate_limited_total";
    /// Gauge of training jobs by `kind` and live `status` (`pending`, `processing`), read from
    /// the job table (the same in every process).
    pub const JOBS: &str = "scale_jobs";
    /// Counter of job attempts this process ran, by `kind` and `outcome` (`completed`,
    /// `retried`, `failed`, `released`, `lost`, `unrecorded`).
    pub const JOB_ATTEMPTS: &str = "scale_job_attempts_total";
    /// Histogram of job attempt durations, labelled like [`JOB_ATTEMPTS`].
    pub const JOB_ATTEMPT_DURATION: &str = "scale_job_attempt_duration_seconds";
    /// Counter of jobs whose lease expired and that this process's reaper settled, by
    /// `outcome` (`retried`, `failed`).
    pub const JOBS_REAPED: &str = "scale_jobs_reaped_total";
    /// Counter of statement imports by `format` (`csv`, `xlsx`, `xls`, `json`, `other`) and
    /// `outcome` (`imported`, `duplicate_file`, `rejected`, `failed`).
    pub const IMPORTS: &str = "scale_imports_total";
    /// Histogram of import durations, labelled like [`IMPORTS`].
    pub const IMPORT_DURATION: &str = "scale_import_duration_seconds";
    /// Counter of the rows of imported files by `result` (`inserted`, or why a row was
    /// skipped: `duplicate`, `zero_amount`, `invalid_date`, `invalid_row`).
    pub const IMPORT_ROWS: &str = "scale_import_rows_total";
    /// Counter of categories decided, by `path` (`import`: rows stored; `classify`: answered,
    /// not stored; `recategorize`: rows re-decided after a categorizer job), `source` (`rule`,
    /// `model`, `user`, `fallback`, and `client` on imports) and `needs_review`.
    pub const CLASSIFICATIONS: &str = "scale_classifications_total";
    /// Counter of categories a user changed by hand, by the `source` that had decided them.
    pub const CORRECTIONS: &str = "scale_category_corrections_total";
    /// Gauge of open live connections by `stream` (`websocket`, `jobs_sse`, `alerts_sse`,
    /// `ops_sse`).
    pub const STREAM_CONNECTIONS: &str = "scale_stream_connections";
    /// Counter of events for live connections by `stream` and `result` (`delivered`,
    /// `dropped`: the client fell behind and was disconnected).
    pub const STREAM_EVENTS: &str = "scale_stream_events_total";
    /// Counter of faults the chaos monkey injected, by `fault` (`crash`, `redis-down`, …).
    pub const CHAOS_FAULTS: &str = "scale_chaos_faults_total";
    /// Gauge of the chaos monkey's faults active now.
    pub const CHAOS_ACTIVE: &str = "scale_chaos_active_faults";
}

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder for the process (once: later calls return the same handle)
/// and describes every metric. Run [`PrometheusHandle::run_upkeep`] every [`UPKEEP_INTERVAL`].
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&DURATION_BUCKETS)
                .expect("the buckets are not empty")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder is installed; /metrics stays empty");
            }
            describe();
            handle
        })
        .clone()
}

/// The recorder's handle when [`install`] ran (`None`: this process records no metrics).
pub fn installed() -> Option<PrometheusHandle> {
    HANDLE.get().cloned()
}

fn describe() {
    use names::*;
    describe_counter!(
        HTTP_REQUESTS,
        "Requests answered, by method, route template and status class."
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Request durations, by method, route template and status class."
    );
    describe_gauge!(
        ACTOR_STATUS,
        "1 for the status each supervised actor is in."
    );
    describe_counter!(ACTOR_RESTARTS, "Restarts of each supervised actor.");
    describe_gauge!(
        ACTOR_BACKLOG,
        "Messages sent to each actor and not handled yet."
    );
    describe_gauge!(
        ACTOR_HEARTBEAT_AGE,
        Unit::Seconds,
        "Time since each actor's last heartbeat."
    );
    describe_histogram!(
        ACTOR_HANDLER,
        Unit::Seconds,
        "Synchronous part of each actor's message handlers."
    );
    describe_counter!(ESCALATIONS, "Actors pushed over their restart intensity.");
    describe_gauge!(
        DEPENDENCY_UP,
        "1 when the dependency answered its last health probe."
    );
    describe_gauge!(
        DEPENDENCY_LATENCY,
        Unit::Seconds,
        "Round trip of the dependency's last successful probe."
    );
    describe_gauge!(POOL_CONNECTIONS, "Connections held by each pool.");
    describe_gauge!(POOL_IDLE, "Idle connections of each pool.");
    describe_gauge!(READINESS, "1 for the process's readiness status.");
    describe_gauge!(EVENT_BUS, "1 for how job events travel between processes.");
    describe_gauge!(JOBS_LEASED, "Training jobs held under a live lease.");
    describe_gauge!(
        JOBS_OLDEST_PENDING_AGE,
        Unit::Seconds,
        "Wait of the oldest due pending training job."
    );
    describe_gauge!(
        JOBS_PROCESSING_STALE,
        Unit::Seconds,
        "Time since the stalest job being processed last changed."
    );
    describe_counter!(CACHE_LOOKUPS, "Cache lookups, by result.");
    describe_gauge!(CACHE_BACKEND, "1 for the backend the cache uses.");
    describe_gauge!(
        CACHE_MEMORY_ENTRIES,
        "Entries in the cache's in-process LRU."
    );
    describe_counter!(
        RATE_LIMITED,
        "Requests refused by the rate limiter, by tier."
    );
    describe_gauge!(JOBS, "Training jobs pending or processing, by kind.");
    describe_counter!(JOB_ATTEMPTS, "Job attempts run, by kind and outcome.");
    describe_histogram!(
        JOB_ATTEMPT_DURATION,
        Unit::Seconds,
        "Job attempt durations, by kind and outcome."
    );
    describe_counter!(
        JOBS_REAPED,
        "Jobs with an expired lease settled by the reaper, by outcome."
    );
    describe_counter!(IMPORTS, "Statement imports, by format and outcome.");
    describe_histogram!(
        IMPORT_DURATION,
        Unit::Seconds,
        "Statement import durations, by format and outcome."
    );
    describe_counter!(
        IMPORT_ROWS,
        "Rows of imported files, inserted or skipped by reason."
    );
    describe_counter!(
        CLASSIFICATIONS,
        "Categories decided, by source and whether they need review."
    );
    describe_counter!(
        CORRECTIONS,
        "Categories changed by hand, by the source that had decided them."
    );
    describe_gauge!(STREAM_CONNECTIONS, "Open live connections, by stream.");
    describe_counter!(
        STREAM_EVENTS,
        "Events for live connections, delivered or dropped, by stream."
    );
    describe_counter!(CHAOS_FAULTS, "Faults the chaos monkey injected, by fault.");
    describe_gauge!(CHAOS_ACTIVE, "Chaos monkey faults active now.");
}

/// One open live connection of a `stream`, counted in [`names::STREAM_CONNECTIONS`] from its
/// creation until it is dropped; events sent on it are counted in [`names::STREAM_EVENTS`].
#[derive(Debug)]
pub struct LiveConnection {
    stream: &'static str,
}

impl LiveConnection {
    /// Counts a connection of `stream` as open.
    pub fn open(stream: &'static str) -> Self {
        metrics::gauge!(names::STREAM_CONNECTIONS, "stream" => stream).increment(1.0);
        Self { stream }
    }

    /// Counts `events` delivered to the client.
    pub fn delivered(&self, events: u64) {
        self.events("delivered", events);
    }

    /// Counts `events` the client missed (it fell behind).
    pub fn dropped(&self, events: u64) {
        self.events("dropped", events);
    }

    fn events(&self, result: &'static str, events: u64) {
        metrics::counter!(names::STREAM_EVENTS, "stream" => self.stream, "result" => result)
            .increment(events);
    }
}

impl Drop for LiveConnection {
    fn drop(&mut self) {
        metrics::gauge!(names::STREAM_CONNECTIONS, "stream" => self.stream).decrement(1.0);
    }
}

/// The class of an HTTP status: `2xx`, `4xx`…
pub fn status_class(status: u16) -> &'static str {
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_fall_in_their_class() {
        assert_eq!(status_class(200), "2xx");
        assert_eq!(status_class(204), "2xx");
        assert_eq!(status_class(404), "4xx");
        assert_eq!(status_class(503), "5xx");
        assert_eq!(status_class(999), "5xx");
    }

    #[test]
    fn recorded_metrics_are_rendered_with_their_help() {
        let handle = install();
        metrics::counter!(names::HTTP_REQUESTS, "method" => "GET", "route" => "/x", "status" => "2xx")
            .increment(2);
        metrics::histogram!(names::HTTP_DURATION, "method" => "GET", "route" => "/x", "status" => "2xx")
            .record(0.003);
        handle.run_upkeep();
        let text = handle.render();
        assert!(text.contains("# HELP scale_http_requests_total"), "{text}");
        assert!(
            text.contains(r#"scale_http_requests_total{method="GET",route="/x",status="2xx"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"scale_http_request_duration_seconds_bucket{method="GET",route="/x",status="2xx",le="0.005"} 1"#),
            "{text}"
        );
        assert!(install().render().contains("scale_http_requests_total"));
    }
}
