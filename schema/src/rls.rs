//! Row-level security: the role the service acts as and the per-transaction user context.
//!
//! Migration `2026-11-25-000002_row_level_security` forces RLS on every user table with policies
//! keyed on the transaction-local setting `app.user_id`. Pooled connections act as [`APP_ROLE`]
//! (see [`crate::connect`]), so outside [`as_user`] they see no user rows at all.

use std::future::Future;

use diesel_async::{AnsiTransactionManager, AsyncPgConnection, TransactionManager};
use uuid::Uuid;

/// The non-superuser role the service's pooled connections assume (`SET ROLE`); RLS applies to it.
pub const APP_ROLE: &str = "scale_app";

/// The setting the policies compare `user_id` with.
pub const USER_SETTING: &str = "app.user_id";

/// An async closure over a connection whose future is nameable, so [`as_user`] can require it
/// to be `Send` (the same work-around as diesel-async's own `transaction` bound).
pub trait ScopedFn<T, R>: AsyncFnOnce(T) -> R + FnOnce(T) -> <Self as ScopedFn<T, R>>::Fut {
    /// The future the closure returns.
    type Fut: Future<Output = R>;
}

impl<F, T, Fut, R> ScopedFn<T, R> for F
where
    F: AsyncFnOnce(T) -> R + FnOnce(T) -> Fut,
    Fut: Future<Output = R>,
{
    type Fut = Fut;
}

/// Whose rows a transaction opened by [`as_user`] sees, and how its statements are planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserScope {
    user: Uuid,
    generic_plans: bool,
}

impl UserScope {
    /// `user`'s rows, with Postgres' default planning.
    pub fn new(user: Uuid) -> Self {
        Self {
            user,
            generic_plans: false,
        }
    }

    /// Also plans the transaction's prepared statements once per connection
    /// (`plan_cache_mode = force_generic_plan`, transaction local). For hot statements whose
    /// generic plan is as good as a custom one: with a `LIMIT $n`, Postgres would otherwise
    /// re-plan on every execution, since its generic estimate of the limit is pessimistic.
    pub fn with_generic_plans(self) -> Self {
        Self {
            generic_plans: true,
            ..self
        }
    }

    /// The simple-protocol message that opens the transaction and sets its context.
    fn begin_sql(&self) -> String {
        // A `Uuid` prints as hex digits and dashes only, so it is safe inside the literal.
        let user = self.user;
        let plans = if self.generic_plans {
            "; SET LOCAL plan_cache_mode = force_generic_plan"
        } else {
            ""
        };
        // `SET LOCAL` is `set_config(…, true)` as a utility statement: no planning, no result.
        format!("BEGIN; SET LOCAL {USER_SETTING} = '{user}'{plans}")
    }
}

impl From<Uuid> for UserScope {
    fn from(user: Uuid) -> Self {
        Self::new(user)
    }
}

/// Runs `f` in one database transaction that first sets `app.user_id` to the scope's user
/// (transaction local, so it ends with the transaction and never leaks to the connection's next
/// borrower). Inside, RLS shows and accepts only that user's rows; an error from `f` rolls
/// everything back. `scope` is a user id or a [`UserScope`].
///
/// `BEGIN` and the settings travel in one round trip (one simple-protocol message: a `BEGIN`
/// inside a multi-statement message opens a block that outlives it). It opens a top-level
/// transaction, so it must not be nested inside another transaction.
pub async fn as_user<R, E, F>(
    conn: &mut AsyncPgConnection,
    scope: impl Into<UserScope>,
    f: F,
) -> Result<R, E>
where
    for<'r> F: AsyncFnOnce(&'r mut AsyncPgConnection) -> Result<R, E>
        + ScopedFn<&'r mut AsyncPgConnection, Result<R, E>, Fut: Send>
        + Send,
    E: From<diesel::result::Error> + Send,
    R: Send,
{
    let begin = scope.into().begin_sql();
    AnsiTransactionManager::begin_transaction_sql(conn, &begin).await?;
    // The rest mirrors diesel-async's `TransactionManager::transaction`.
    match f(conn).await {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(conn).await?;
            Ok(value)
        }
        Err(error) => match AnsiTransactionManager::rollback_transaction(conn).await {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
            Err(rollback) => Err(rollback.into()),
        },
    }
}
