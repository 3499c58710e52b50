//! The accounts actor: owns the Postgres pool and answers every request with [`Reply::later`],
//! so no query ever blocks its mailbox. Requests carry already validated input.

use scale_schema::PgPool;
use uuid::Uuid;

use super::edits::{ProfileUpdate, TransactionEdit};
use super::filters::ListQuery;
use super::store::{self, Profile, TransactionPage, TransactionView};
use super::AccountsError;
use scale_supervision::{Handles, Reply, Request, Service, ServiceContext};

/// One page of the caller's transactions.
pub struct ListTransactions {
    /// Whose transactions.
    pub user: Uuid,
    /// Filters, page size and cursor.
    pub query: ListQuery,
}

/// One of the caller's transactions.
pub struct GetTransaction {
    /// Whose transaction.
    pub user: Uuid,
    /// Its id.
    pub id: Uuid,
}

/// Edit (and possibly recategorise) one of the caller's transactions.
pub struct UpdateTransaction {
    /// Whose transaction.
    pub user: Uuid,
    /// Its id.
    pub id: Uuid,
    /// The validated changes.
    pub edit: TransactionEdit,
}

/// Set one of the caller's transactions (and, on request, those like it) to a category by hand.
pub struct CorrectCategory {
    /// Whose transaction.
    pub user: Uuid,
    /// Its id.
    pub id: Uuid,
    /// The category chosen (validated).
    pub category: String,
    /// Whether transactions with the same description or merchant follow.
    pub apply_to_similar: bool,
}

/// Delete one of the caller's transactions.
pub struct DeleteTransaction {
    /// Whose transaction.
    pub user: Uuid,
    /// Its id.
    pub id: Uuid,
}

/// Delete all of the caller's data, keeping the `users` row; answers the deleted job ids.
pub struct DeleteAllData {
    /// Whose data.
    pub user: Uuid,
}

/// The caller's profile (the row is created on first access).
pub struct GetProfile {
    /// Whose profile.
    pub user: Uuid,
    /// The role stored if the row is created now (`user` or `admin`).
    pub role: &'static str,
}

/// Update the caller's profile.
pub struct UpdateProfile {
    /// Whose profile.
    pub user: Uuid,
    /// The role stored if the row is created now (`user` or `admin`).
    pub role: &'static str,
    /// The validated changes.
    pub update: ProfileUpdate,
}

impl Request for ListTransactions {
    type Output = Result<TransactionPage, AccountsError>;
}
impl Request for GetTransaction {
    type Output = Result<TransactionView, AccountsError>;
}
impl Request for UpdateTransaction {
    type Output = Result<TransactionView, AccountsError>;
}
impl Request for CorrectCategory {
    type Output = Result<Vec<Uuid>, AccountsError>;
}
impl Request for DeleteTransaction {
    type Output = Result<(), AccountsError>;
}
impl Request for DeleteAllData {
    type Output = Result<Vec<Uuid>, AccountsError>;
}
impl Request for GetProfile {
    type Output = Result<Profile, AccountsError>;
}
impl Request for UpdateProfile {
    type Output = Result<Profile, AccountsError>;
}

/// The accounts actor's state.
pub struct AccountsService {
    pool: PgPool,
}

impl AccountsService {
    /// A service querying through `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

impl Service for AccountsService {
    const NAME: &'static str = "accounts";
}

/// Implements [`Handles`] for a request by running `$body` (an async expression over `pool`
/// and `msg`) off the mailbox.
macro_rules! handle_later {
    ($msg:ty, |$pool:ident, $m:ident| $body:expr) => {
        impl Handles<$msg> for AccountsService {
            fn handle(
                &mut self,
                $m: $msg,
                _: &mut ServiceContext<Self>,
            ) -> Reply<<$msg as Request>::Output> {
                let $pool = self.pool.clone();
                Reply::later(async move { $body.await })
            }
        }
    };
}

handle_later!(ListTransactions, |pool, msg| store::list(
    &pool, msg.user, &msg.query
));
handle_later!(GetTransaction, |pool, msg| store::get(
    &pool, msg.user, msg.id
));
handle_later!(UpdateTransaction, |pool, msg| store::update(
    &pool, msg.user, msg.id, &msg.edit
));
handle_later!(CorrectCategory, |pool, msg| store::correct_category(
    &pool,
    msg.user,
    msg.id,
    &msg.category,
    msg.apply_to_similar
));
handle_later!(DeleteTransaction, |pool, msg| store::delete(
    &pool, msg.user, msg.id
));
handle_later!(DeleteAllData, |pool, msg| store::delete_all(
    &pool, msg.user
));
handle_later!(GetProfile, |pool, msg| store::profile(
    &pool, msg.user, msg.role
));
handle_later!(UpdateProfile, |pool, msg| store::update_profile(
    &pool,
    msg.user,
    msg.role,
    &msg.update
));
