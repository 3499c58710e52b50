//! Observability set-up: structured logs through `tracing` (JSON or human-readable) and error
//! reporting through Sentry (disabled when no DSN is configured), and Prometheus [`metrics`].

pub mod metrics;

use sentry::integrations::tracing::{BreadcrumbLayer, ErrorLayer};
use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// The field that marks an error log line whose Sentry event is captured elsewhere, with the
/// tags the log layer cannot set (an actor's panic, a request's 5xx): Sentry's error layer keeps
/// such lines as breadcrumbs only, so each failure reaches Sentry once. Log them with
/// `tracing::error!(sentry_breadcrumb = true, ...)`.
pub const BREADCRUMB_ONLY: &str = "sentry_breadcrumb";

/// How log lines are written to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (production).
    Json,
    /// Human-readable lines (local development).
    Pretty,
}

/// Logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum MonitoringError {
    /// `LOG_LEVEL` is not a valid `tracing` filter.
    #[error("LOG_LEVEL: invalid filter `{0}`")]
    Filter(String),
    /// A global subscriber was already installed.
    #[error("logging already initialised")]
    AlreadyInitialised,
}

/// Installs the global `tracing` subscriber. `level` is an `EnvFilter` directive such as
/// `info` or `scale=debug,actix_web=info`. When Sentry is enabled (call [`init_sentry`] first),
/// error events also reach it as events and info/warn ones as breadcrumbs; when it is not, no
/// log line is converted for it.
pub fn init_logging(level: &str, format: LogFormat) -> Result<(), MonitoringError> {
    let filter = EnvFilter::try_new(level).map_err(|_| MonitoringError::Filter(level.into()))?;
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(sentry_layers());
    let result = match format {
        LogFormat::Json => registry.with(json_layer(std::io::stdout)).try_init(),
        LogFormat::Pretty => registry.with(fmt::layer()).try_init(),
    };
    result.map_err(|_| MonitoringError::AlreadyInitialised)
}

/// The production JSON log layer writing to `writer`: one object per line with `timestamp`,
/// `level`, `target`, the event's fields at the top level and the current span under `span`.
pub fn json_layer<S, W>(writer: W) -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(writer)
}

/// Sentry's log layers when a client is bound to the current hub, else none.
fn sentry_layers<S>() -> Option<impl Layer<S>>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let enabled = sentry::Hub::current()
        .client()
        .is_some_and(|client| client.is_enabled());
    enabled.then(|| {
        ErrorLayer::new()
            .with_filter(filter_fn(is_sentry_error))
            .and_then(BreadcrumbLayer::new().with_filter(filter_fn(is_breadcrumb)))
    })
}

/// Error events become Sentry events, except [`BREADCRUMB_ONLY`] ones.
fn is_sentry_error(metadata: &Metadata<'_>) -> bool {
    *metadata.level() == Level::ERROR && metadata.fields().field(BREADCRUMB_ONLY).is_none()
}

/// Info and warning events, and [`BREADCRUMB_ONLY`] errors, become breadcrumbs of the next event.
fn is_breadcrumb(metadata: &Metadata<'_>) -> bool {
    *metadata.level() <= Level::INFO && !is_sentry_error(metadata)
}

/// Starts Sentry; an empty `dsn` leaves it disabled. `traces_sample_rate` (0.0–1.0) is the
/// share of requests traced for performance (0 disables tracing; out of range panics). Keep the
/// guard alive for the process.
pub fn init_sentry(
    dsn: &str,
    environment: &str,
    release: &'static str,
    traces_sample_rate: f32,
) -> sentry::ClientInitGuard {
    let options = sentry::ClientOptions::new()
        .release(release)
        .environment(environment.to_owned())
        .attach_stacktrace(true);
    // A rate of zero leaves tracing disabled, so no request starts a transaction.
    let options = if traces_sample_rate > 0.0 {
        options.traces_sample_rate(traces_sample_rate)
    } else {
        options
    };
    sentry::init((dsn, options))
}

/// Tags a request's Sentry scope and its performance transaction, if one is sampled (the
/// transaction is sent from outside the request's scope, so it needs its own copy).
pub fn tag_request(scope: &mut sentry::Scope, key: &str, value: &str) {
    scope.set_tag(key, value);
    if let Some(transaction) = scope.get_span() {
        transaction.set_tag(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Logs an info line, a [`BREADCRUMB_ONLY`] error and a plain error through the Sentry layers.
    fn log_three() {
        let subscriber = tracing_subscriber::registry().with(sentry_layers());
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("an info line");
            tracing::error!(sentry_breadcrumb = true, "reported by hand");
            tracing::error!("a plain error");
        });
    }

    #[test]
    fn errors_become_events_and_the_rest_breadcrumbs() {
        let events = sentry::test::with_captured_events(log_three);
        assert_eq!(events.len(), 1, "{events:#?}");
        assert_eq!(events[0].message.as_deref(), Some("a plain error"));
        let crumbs: Vec<_> = events[0]
            .breadcrumbs
            .iter()
            .filter_map(|crumb| crumb.message.as_deref())
            .collect();
        assert_eq!(crumbs, ["an info line", "reported by hand"]);
    }

    #[test]
    fn without_a_client_there_are_no_sentry_layers() {
        assert!(sentry_layers::<tracing_subscriber::Registry>().is_none());
    }
}
