//! Observability set-up: structured logs through `tracing` (JSON or human-readable) and error
//! reporting through Sentry (disabled when no DSN is configured), and Prometheus [`metrics`].

pub mod metrics;

use sentry::integrations::tracing::{BreadcrumbLayer, ErrorLayer};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

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
/// `info` or `scale=debug,actix_web=info`. Events also reach Sentry as breadcrumbs/errors.
pub fn init_logging(level: &str, format: LogFormat) -> Result<(), MonitoringError> {
    let filter = EnvFilter::try_new(level).map_err(|_| MonitoringError::Filter(level.into()))?;
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(ErrorLayer::new())
        .with(BreadcrumbLayer::new());
    let result = match format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Pretty => registry.with(fmt::layer()).try_init(),
    };
    result.map_err(|_| MonitoringError::AlreadyInitialised)
}

/// Starts Sentry; an empty `dsn` leaves it disabled. Keep the guard alive for the process.
pub fn init_sentry(dsn: &str, environment: &str, release: &'static str) -> sentry::ClientInitGuard {
    let options = sentry::ClientOptions::new()
        .release(release)
        .environment(environment.to_owned())
        .attach_stacktrace(true);
    sentry::init((dsn, options))
}
