//! Why a database operation failed, as far as a caller needs to know: Postgres could not be
//! reached (worth retrying later: HTTP 503) or a statement failed (a bug or bad data: HTTP 500).
//! The underlying error is kept as the failure's `source()` and in its message, which logs and
//! Sentry record; neither is ever shown to clients.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::bb8::PooledConnection;
use diesel_async::AsyncPgConnection;

use crate::PgPool;

/// A failed database operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DbFailure {
    /// No connection within the pool's checkout timeout, or the connection broke mid-statement.
    #[error("Postgres is unavailable: {0}")]
    Unavailable(#[source] Cause),
    /// A statement failed (or returned something that cannot be decoded).
    #[error("a database statement failed: {0}")]
    Query(#[source] Cause),
}

/// The error underneath a [`DbFailure`], shared so failures stay cheap to clone. Two causes are
/// equal when they read the same.
#[derive(Debug, Clone)]
pub struct Cause(Arc<dyn Error + Send + Sync>);

impl Cause {
    /// Wraps an error.
    pub fn new(err: impl Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(err))
    }

    /// A cause that is only a description (no error value underneath).
    pub fn message(text: impl Into<String>) -> Self {
        Self(Arc::from(Box::<dyn Error + Send + Sync>::from(text.into())))
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Error for Cause {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source()
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for Cause {}

impl DbFailure {
    /// A statement-level failure described by `detail`.
    pub fn query(detail: impl Into<String>) -> Self {
        Self::Query(Cause::message(detail))
    }

    /// Whether Postgres could not be reached (as opposed to a statement failing).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

impl From<DieselError> for DbFailure {
    fn from(err: DieselError) -> Self {
        match err {
            // diesel-async reports a lost connection (socket closed, I/O error) this way.
            DieselError::DatabaseError(
                DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::ClosedConnection,
                _,
            )
            | DieselError::BrokenTransactionManager => Self::Unavailable(Cause::new(err)),
            _ => Self::Query(Cause::new(err)),
        }
    }
}

impl<E: Error + Send + Sync + 'static> From<bb8::RunError<E>> for DbFailure {
    fn from(err: bb8::RunError<E>) -> Self {
        Self::Unavailable(Cause::new(err))
    }
}

/// Checks a connection out of `pool`, bounded by the pool's checkout timeout.
pub async fn checkout(pool: &PgPool) -> Result<PooledConnection<'_, AsyncPgConnection>, DbFailure> {
    Ok(pool.get().await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_connections_are_unavailable_and_statement_errors_are_not() {
        let lost = DieselError::DatabaseError(
            DatabaseErrorKind::UnableToSendCommand,
            Box::new("connection closed".to_owned()),
        );
        assert!(DbFailure::from(lost).is_unavailable());
        let unique = DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new("duplicate key".to_owned()),
        );
        assert!(!DbFailure::from(unique).is_unavailable());
        assert!(!DbFailure::from(DieselError::NotFound).is_unavailable());
        let timed_out: bb8::RunError<std::io::Error> = bb8::RunError::TimedOut;
        assert!(DbFailure::from(timed_out).is_unavailable());
    }

    #[test]
    fn the_cause_is_kept_as_the_source_and_in_the_message() {
        let unique = DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new("duplicate key value violates uq_x".to_owned()),
        );
        let failure = DbFailure::from(unique);
        assert!(failure.source().unwrap().to_string().contains("uq_x"));
        assert!(failure.to_string().contains("uq_x"), "{failure}");
        assert_eq!(failure.clone(), failure);
    }

    #[tokio::test]
    async fn a_checkout_from_an_unreachable_server_is_unavailable_within_the_timeout() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let timeout = std::time::Duration::from_millis(200);
        let pool = crate::connect(
            &format!("postgres://postgres@127.0.0.1:{port}/x"),
            1,
            timeout,
        );
        let started = std::time::Instant::now();
        let failure = checkout(&pool).await.err().expect("no server there");
        assert!(failure.is_unavailable(), "{failure}");
        assert!(started.elapsed() < timeout * 5);
    }
}
