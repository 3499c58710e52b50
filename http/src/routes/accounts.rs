//! The caller's own data (`/api/v1/accounts/*`): the transaction list (keyset pagination and
//! filters), one transaction (read, edit, delete), deleting all data, and the profile and
//! settings. Input is validated here by the pure accounts modules; the accounts actor runs the
//! queries, always scoped to the JWT user, so another user's id answers 404.

use actix_web::http::header::ContentType;
use actix_web::{web, HttpResponse};
use scale_actors::accounts::edits::{ProfileUpdate, TransactionEdit};
use scale_actors::accounts::filters::RawListQuery;
use scale_actors::accounts::service::{
    DeleteAllData, DeleteTransaction, GetProfile, GetTransaction, ListTransactions, UpdateProfile,
    UpdateTransaction,
};
use scale_actors::accounts::store::{Profile, TransactionPage, TransactionView};
use scale_actors::cache::keys;
use scale_actors::cache::service::Forget;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::openapi::Problems;
use crate::problem::{ApiError, Code};
use crate::AppState;

/// The accounts routes' description.
#[derive(OpenApi)]
#[openapi(paths(
    list_transactions,
    get_transaction,
    update_transaction,
    delete_transaction,
    delete_all_data,
    get_profile,
    put_profile,
    get_settings,
    put_settings
))]
pub struct Api;

/// Codes the accounts routes answer besides the ones their kind shares.
pub const PROBLEMS: Problems = &[
    (
        "list_transactions",
        &[Code::Validation, Code::InvalidCursor],
    ),
    ("put_profile", &[Code::EmailTaken]),
];

/// Registers the accounts routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/accounts/transactions").get(list_transactions))
        .service(
            web::resource("/accounts/transactions/{id}")
                .get(get_transaction)
                .patch(update_transaction)
                .delete(delete_transaction),
        )
        .service(web::resource("/accounts/data").delete(delete_all_data))
        .service(
            web::resource("/accounts/profile")
                .get(get_profile)
                .put(put_profile),
        )
        .service(
            web::resource("/accounts/settings")
                .get(get_settings)
                .put(put_settings),
        );
}

/// `GET /accounts/transactions`: `{transactions: [...], next_cursor}`, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/transactions",
    tag = "accounts",
    params(RawListQuery),
    responses((status = 200, description = "One page, newest first; pass `next_cursor` as `cursor` for the next (keyset pagination; `null` on the last page).", body = TransactionPage))
)]
async fn list_transactions(
    user: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<RawListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner().validate()?;
    let page = state
        .accounts
        .local()
        .ask(ListTransactions {
            user: user.id,
            query,
        })
        .await??;
    // Serialised into a buffer sized for the page (~250 bytes a row), not grown by doubling.
    let mut body = Vec::with_capacity(512 + 320 * page.transactions.len());
    serde_json::to_writer(&mut body, &page).map_err(|_| ApiError::internal())?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(body))
}

/// `GET /accounts/transactions/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/transactions/{id}",
    tag = "accounts",
    params(("id" = Uuid, Path, description = "The transaction (another user's answers 404).")),
    responses((status = 200, description = "The transaction.", body = TransactionView))
)]
async fn get_transaction(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let msg = GetTransaction {
        user: user.id,
        id: id.into_inner(),
    };
    Ok(HttpResponse::Ok().json(state.accounts.local().ask(msg).await??))
}

/// `PATCH /accounts/transactions/{id}` with `{category?, description?, merchant_name?}`: the
/// updated transaction.
#[utoipa::path(
    patch,
    path = "/api/v1/accounts/transactions/{id}",
    tag = "accounts",
    params(("id" = Uuid, Path, description = "The transaction (another user's answers 404).")),
    request_body = TransactionEdit,
    responses((status = 200, description = "The updated transaction.", body = TransactionView))
)]
async fn update_transaction(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: web::Json<TransactionEdit>,
) -> Result<HttpResponse, ApiError> {
    let msg = UpdateTransaction {
        user: user.id,
        id: id.into_inner(),
        edit: body.into_inner().validate()?,
    };
    let recategorised = msg.edit.category.is_some();
    let updated = state.accounts.local().ask(msg).await??;
    super::invalidate_cache(&state, user.id).await;
    if recategorised {
        super::categorization::corrections_changed(&state, &user).await;
    }
    Ok(HttpResponse::Ok().json(updated))
}

/// `DELETE /accounts/transactions/{id}`: 204.
#[utoipa::path(
    delete,
    path = "/api/v1/accounts/transactions/{id}",
    tag = "accounts",
    params(("id" = Uuid, Path, description = "The transaction (another user's answers 404).")),
    responses((status = 204, description = "Deleted."))
)]
async fn delete_transaction(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let msg = DeleteTransaction {
        user: user.id,
        id: id.into_inner(),
    };
    state.accounts.local().ask(msg).await??;
    super::invalidate_cache(&state, user.id).await;
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /accounts/data`: deletes the caller's transactions, uploads, training jobs and
/// corrections, and their cache entries (the deleted jobs' statuses included); 204.
#[utoipa::path(
    delete,
    path = "/api/v1/accounts/data",
    tag = "accounts",
    responses((status = 204, description = "Every transaction, upload, job and correction of the caller deleted."))
)]
async fn delete_all_data(
    user: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let jobs = state
        .accounts
        .local()
        .ask(DeleteAllData { user: user.id })
        .await??;
    super::invalidate_cache(&state, user.id).await;
    let forget = Forget {
        keys: jobs.into_iter().map(keys::job).collect(),
    };
    if let Err(err) = state.cache.ask(forget).await {
        tracing::warn!(%err, user = %user.id, "cannot drop cached job statuses");
    }
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /accounts/profile`: `{id, email, role, currency, timezone, created_at}`.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/profile",
    tag = "accounts",
    responses((status = 200, description = "The caller's profile.", body = Profile))
)]
async fn get_profile(user: AuthUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(profile(&user, &state).await?))
}

/// `PUT /accounts/profile` with `{email?, currency?, timezone?}`: the updated profile.
#[utoipa::path(
    put,
    path = "/api/v1/accounts/profile",
    tag = "accounts",
    request_body = ProfileUpdate,
    responses((status = 200, description = "The updated profile.", body = Profile))
)]
async fn put_profile(
    user: AuthUser,
    state: web::Data<AppState>,
    body: web::Json<ProfileUpdate>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(update_profile(&user, &state, body.into_inner()).await?))
}

/// The settings body: the profile's `currency` and `timezone`.
#[derive(Deserialize, ToSchema)]
struct SettingsUpdate {
    /// ISO 4217 code.
    currency: Option<String>,
    /// IANA time zone.
    timezone: Option<String>,
}

/// The settings: the profile's `currency` and `timezone`.
#[derive(Serialize, ToSchema)]
struct Settings<'a> {
    /// Display currency (ISO 4217).
    currency: &'a str,
    /// IANA time zone.
    timezone: &'a str,
}

/// `GET /accounts/settings`: `{currency, timezone}`.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/settings",
    tag = "accounts",
    responses((status = 200, description = "The caller's settings.", body = Settings))
)]
async fn get_settings(
    user: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let profile = profile(&user, &state).await?;
    Ok(HttpResponse::Ok().json(settings(&profile)))
}

/// `PUT /accounts/settings` with `{currency?, timezone?}`: the updated settings.
#[utoipa::path(
    put,
    path = "/api/v1/accounts/settings",
    tag = "accounts",
    request_body = SettingsUpdate,
    responses((status = 200, description = "The updated settings.", body = Settings))
)]
async fn put_settings(
    user: AuthUser,
    state: web::Data<AppState>,
    body: web::Json<SettingsUpdate>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let update = ProfileUpdate {
        email: None,
        currency: body.currency,
        timezone: body.timezone,
    };
    let profile = update_profile(&user, &state, update).await?;
    Ok(HttpResponse::Ok().json(settings(&profile)))
}

async fn profile(user: &AuthUser, state: &AppState) -> Result<Profile, ApiError> {
    let msg = GetProfile {
        user: user.id,
        role: user.role.as_str(),
    };
    Ok(state.accounts.local().ask(msg).await??)
}

async fn update_profile(
    user: &AuthUser,
    state: &AppState,
    update: ProfileUpdate,
) -> Result<Profile, ApiError> {
    let msg = UpdateProfile {
        user: user.id,
        role: user.role.as_str(),
        update: update.validate()?,
    };
    Ok(state.accounts.local().ask(msg).await??)
}

fn settings(profile: &Profile) -> Settings<'_> {
    Settings {
        currency: &profile.currency,
        timezone: &profile.timezone,
    }
}
