//! Statement ingestion routes (`/api/v1/ingest/*`): parse preview, import (multipart file or
//! JSON rows) and the user's uploaded files. Parsing and storage happen in the ingest actor.

use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::TryStreamExt;
use scale_actors::ingest::service::{ImportRows, ImportUpload, ListUploads, ParseUpload};
use scale_actors::ingest::store::ImportOutcome;
use scale_actors::ingest::streaming::Upload;
use scale_actors::ingest::uploads::{Admission, Chunk, UploadStatus, UploadedFile};
use scale_actors::text::FILENAME;
use scale_statements::fingerprint::hex_sha256;
use scale_statements::pipeline::{Page, Window};
use scale_statements::source::json_objects;
use scale_statements::text;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::AuthUser;
use crate::openapi::forms::StatementUpload;
use crate::openapi::Problems;
use crate::problem::{invalid_query, ApiError, Code};
use crate::rate_limit::Charge;
use crate::AppState;

/// Largest accepted file (and JSON import body): 10 MiB.
pub const UPLOAD_LIMIT: usize = 10 * 1024 * 1024;
/// Largest accepted password field.
const PASSWORD_LIMIT: usize = 1024;
/// Most bytes all the fields of one multipart body may carry together (the file, the password
/// and any field that is ignored), declared or streamed.
const MULTIPART_LIMIT: usize = UPLOAD_LIMIT + 64 * 1024;

/// `POST /ingest/csv`: the web client's name of [`parse`].
#[utoipa::path(
    post,
    path = "/api/v1/ingest/csv",
    tag = "ingestion",
    params(ParseQuery),
    request_body(content = StatementUpload, content_type = "multipart/form-data"),
    responses((status = 200, description = "As `POST /ingest/parse`.", body = Object))
)]
async fn parse_csv(
    user: AuthUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ParseQuery>,
    payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    parse(user, state, req, query, payload).await
}

/// The ingest routes' description.
#[derive(OpenApi)]
#[openapi(paths(parse, parse_csv, import, uploaded_files))]
pub struct Api;

/// What a statement that cannot be read answers.
const STATEMENT_PROBLEMS: &[Code] = &[
    Code::UnsupportedFileType,
    Code::PasswordRequired,
    Code::InvalidPassword,
    Code::UnsupportedEncryption,
    Code::UnreadableFile,
    Code::NoHeaderRow,
    Code::PayloadTooLarge,
];

/// Codes the ingest routes answer besides the ones their kind shares.
pub const PROBLEMS: Problems = &[
    ("parse", STATEMENT_PROBLEMS),
    ("parse_csv", STATEMENT_PROBLEMS),
    ("import", STATEMENT_PROBLEMS),
    (
        "import",
        &[
            Code::FileAlreadyImported,
            Code::UploadInProgress,
            Code::ChunkMismatch,
            Code::UploadRestarted,
        ],
    ),
];

/// Registers the ingest routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/ingest/parse").post(parse))
        .service(web::resource("/ingest/csv").post(parse_csv))
        .service(web::resource("/ingest/import").post(import))
        .service(web::resource("/ingest/uploaded-files").get(uploaded_files));
}

/// `?offset=&limit=` of `POST /ingest/parse`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ParseQuery {
    /// The first transaction to answer with (0-based).
    #[serde(default)]
    offset: usize,
    /// At most this many transactions (at least 1; default all).
    limit: Option<usize>,
}

/// `POST /ingest/parse[?offset=N&limit=M]` (and `/ingest/csv`, the web client's name):
/// multipart `file` and optional `password` → the parsed transactions (with `limit`, only that
/// many from the `offset`-th on, while `count` and the skip counts cover the whole file: a page
/// of a large file without building the rest); nothing is written.
#[utoipa::path(
    post,
    path = "/api/v1/ingest/parse",
    tag = "ingestion",
    params(ParseQuery),
    request_body(content = StatementUpload, content_type = "multipart/form-data"),
    responses((status = 200, description = "The parsed transactions and what was skipped: `{count, offset, transactions, skipped, truncated, file_hash, detected_format, warnings}`; nothing is stored.", body = Object))
)]
async fn parse(
    _: AuthUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ParseQuery>,
    payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    if query.limit == Some(0) {
        return Err(ApiError::validation("`limit` must be at least 1"));
    }
    let upload = read_upload(&req, payload).await?;
    let window = Window {
        offset: query.offset,
        limit: query.limit,
    };
    let Page { statement, count } = state
        .ingest
        .ask_with_budget(ParseUpload { upload, window }, state.ingest_timeout)
        .await??;
    Ok(HttpResponse::Ok().json(json!({
        "count": count,
        "offset": window.offset,
        "transactions": statement.transactions,
        "skipped": statement.skipped,
        "truncated": statement.truncated,
        "file_hash": statement.file_hash,
        "detected_format": statement.detected_format,
        "warnings": statement.warnings,
    })))
}

/// `?force=` of `POST /ingest/import`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ImportQuery {
    /// Import a file imported before again, or start a chunked upload over.
    #[serde(default)]
    force: bool,
}

/// The JSON import body (the old `/api/import` shape; rows use the file header aliases).
#[derive(Deserialize, ToSchema)]
struct JsonImport {
    /// The rows: objects keyed by the file header aliases (`date`, `description`, `amount`…).
    #[schema(value_type = Vec<Object>)]
    transactions: Value,
    /// The file's name.
    filename: Option<String>,
    /// The whole file's SHA-256 (64 hexadecimal characters; default the body's).
    file_hash: Option<String>,
    /// Which part of a chunked upload the rows are.
    chunk: Option<ChunkField>,
}

/// `chunk` of a JSON import: which part of a chunked upload the rows are.
#[derive(Deserialize, ToSchema)]
struct ChunkField {
    /// 0-based index.
    index: u32,
    /// Chunks in all.
    count: u32,
}

/// A JSON import, read and checked.
struct JsonRows {
    rows: Vec<Option<Map<String, Value>>>,
    filename: Option<String>,
    file_hash: String,
    /// `(index, count, hash of the rows as sent)` of a chunk.
    chunk: Option<(u32, u32, String)>,
}

/// `POST /ingest/import[?force=true]`: multipart `file` (+ `password`) or a JSON body
/// `{transactions: [...], filename?, file_hash?, chunk?}`; one database transaction per request.
/// A NUL in the file name or in a JSON row's key or text, or an over-long name or row
/// `category`, is 422; over-long descriptions, merchants, references and methods are cut and
/// counted.
///
/// A large file may come as JSON chunks, each `{transactions, filename, file_hash, chunk:
/// {index, count}}` with the same `file_hash` and `count` (index 0-based, count 1 to
/// [`MAX_CHUNKS`](scale_actors::ingest::uploads::MAX_CHUNKS)). Every chunk is accepted while
/// the upload is open, in any order and concurrently; a chunk sent again is stored once. The
/// file counts as imported (the upload is `complete`) once every index is stored; sending it
/// again after that is 409 `file_already_imported`. A chunk with another count than the open
/// upload's, or other rows under an index already stored, is 409 `chunk_mismatch`;
/// `?force=true` starts the upload over. The import rate limit counts every request
/// ([`Charge`]) except a chunk stored into an upload already open: a chunked upload costs one
/// import, charged to the chunk that opens it.
#[utoipa::path(
    post,
    path = "/api/v1/ingest/import",
    tag = "ingestion",
    params(ImportQuery),
    request_body(content(
        (StatementUpload = "multipart/form-data"),
        (JsonImport = "application/json")
    )),
    responses((status = 200, description = "`{success, inserted, skipped_duplicates, skipped_zero_amount, skipped_invalid_date, skipped_invalid_row, skipped_invalid, truncated_*, file_hash, warnings, uploaded_file_id}`; a chunk's adds `status`, `chunks_received` and `chunks_expected`.", body = Object))
)]
async fn import(
    user: AuthUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
    charge: Charge,
) -> Result<HttpResponse, ApiError> {
    match import_charged(&user, &state, &req, payload, &charge).await {
        Ok(outcome) => {
            super::after_import(&state, user.id, &outcome).await;
            Ok(HttpResponse::Ok().json(import_answer(&outcome)))
        }
        Err(err) => {
            // Only a chunk stored into an open upload goes free; a failed request counts.
            charge.require().await?;
            Err(err)
        }
    }
}

/// [`import`] up to the stored outcome, charging every request that is not a chunk before storing it (a chunk is
/// charged by the store if it opens its upload). The query is read here, not by an extractor,
/// so that a malformed one is charged too.
async fn import_charged(
    user: &AuthUser,
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    charge: &Charge,
) -> Result<ImportOutcome, ApiError> {
    let force = web::Query::<ImportQuery>::from_query(req.query_string())
        .map_err(invalid_query)?
        .force;
    if !is_json(req) {
        charge.require().await?;
        let multipart = Multipart::new(req.headers(), payload);
        let upload = read_upload(req, multipart).await?;
        let msg = ImportUpload {
            user: user.id,
            upload,
            force,
        };
        return Ok(state
            .ingest
            .ask_with_budget(msg, state.ingest_timeout)
            .await??);
    }
    let JsonRows {
        rows,
        filename,
        file_hash,
        chunk,
    } = read_json_import(req, payload).await?;
    let chunk = match chunk {
        Some((index, count, rows_hash)) => {
            let charge = charge.clone();
            let admission: Admission =
                Box::new(move || Box::pin(async move { charge.admit().await }));
            Some(Chunk::new(index, count, rows_hash, admission)?)
        }
        None => {
            charge.require().await?;
            None
        }
    };
    let msg = ImportRows {
        user: user.id,
        rows,
        filename,
        file_hash,
        force,
        chunk,
    };
    Ok(state
        .ingest
        .ask_with_budget(msg, state.ingest_timeout)
        .await??)
}

/// Whether the body is JSON (else multipart).
fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"))
}

/// Reads and checks a JSON import body: `file_hash` is the client's (64 hexadecimal characters),
/// else the body's own hash; a chunk needs the file's `file_hash` and `filename`.
async fn read_json_import(req: &HttpRequest, payload: web::Payload) -> Result<JsonRows, ApiError> {
    let body = read_limited(
        payload.map_err(|e| ApiError::bad_request(Code::BadRequest, e.to_string())),
        UPLOAD_LIMIT,
        declared_length(req).unwrap_or(0).min(UPLOAD_LIMIT),
    )
    .await?;
    let parsed: JsonImport = serde_json::from_slice(&body).map_err(|e| {
        if e.is_data() {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                Code::Validation,
                e.to_string(),
            )
        } else {
            ApiError::bad_request(Code::MalformedJson, format!("Malformed JSON: {e}"))
        }
    })?;
    let file_hash = match parsed.file_hash {
        Some(hash) if is_sha256_hex(&hash) => hash.to_ascii_lowercase(),
        Some(_) => {
            return Err(ApiError::validation(
                "`file_hash` must be 64 hexadecimal characters",
            ))
        }
        None if parsed.chunk.is_some() => {
            return Err(ApiError::validation(
                "a chunk needs the whole file's `file_hash`",
            ))
        }
        None => hex_sha256(&body),
    };
    if let Some(filename) = &parsed.filename {
        text::check("filename", filename, FILENAME)?;
    } else if parsed.chunk.is_some() {
        return Err(ApiError::validation("a chunk needs the file's `filename`"));
    }
    let transactions = parsed.transactions.to_string();
    let rows = json_objects(&transactions)?;
    if rows.is_empty() {
        return Err(ApiError::validation(
            "`transactions` must hold at least one row",
        ));
    }
    Ok(JsonRows {
        rows,
        filename: parsed.filename,
        file_hash,
        chunk: parsed
            .chunk
            .map(|c| (c.index, c.count, hex_sha256(transactions.as_bytes()))),
    })
}

/// The answer to an import; a chunk's adds how far its upload got (`status`, `chunks_received`,
/// `chunks_expected`).
fn import_answer(outcome: &ImportOutcome) -> Value {
    let mut answer = json!({
        "success": true,
        "inserted": outcome.inserted,
        "skipped_duplicates": outcome.skipped_duplicates,
        "skipped_zero_amount": outcome.skipped_zero_amount,
        "skipped_invalid_date": outcome.skipped_invalid_date,
        "skipped_invalid_row": outcome.skipped_invalid_row,
        "skipped_invalid": outcome.skipped_invalid,
        "truncated_descriptions": outcome.truncated.description,
        "truncated_merchant_names": outcome.truncated.merchant_name,
        "truncated_references": outcome.truncated.reference,
        "truncated_payment_methods": outcome.truncated.payment_method,
        "file_hash": outcome.file_hash,
        "warnings": outcome.warnings,
        "uploaded_file_id": outcome.uploaded_file_id,
    });
    if let Some(progress) = outcome.progress {
        let status = if progress.complete {
            UploadStatus::Complete
        } else {
            UploadStatus::InProgress
        };
        answer["status"] = json!(status);
        answer["chunks_received"] = json!(progress.chunks_received);
        answer["chunks_expected"] = json!(progress.chunks_expected);
    }
    answer
}

/// `GET /ingest/uploaded-files`: the caller's uploads, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/ingest/uploaded-files",
    tag = "ingestion",
    responses((status = 200, description = "The caller's uploads, newest first (at most 500).", body = Vec<UploadedFile>))
)]
async fn uploaded_files(
    user: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let files = state.ingest.ask(ListUploads { user: user.id }).await??;
    Ok(HttpResponse::Ok().json(files))
}

/// Reads the `file` and `password` fields; other fields are read and ignored. The file is capped
/// at [`UPLOAD_LIMIT`] and all fields together at [`MULTIPART_LIMIT`] while streaming, so an
/// oversized upload is refused without buffering or draining it; the file's name must pass
/// [`text::check`] (422 otherwise).
pub(crate) async fn read_upload(
    req: &HttpRequest,
    multipart: Multipart,
) -> Result<Upload, ApiError> {
    Ok(read_upload_with(req, multipart, &[]).await?.0)
}

/// [`read_upload`], also reading the short UTF-8 text fields named in `extra` (each at most as
/// long as a password), answered as `(name, value)` pairs in the order they came.
pub(crate) async fn read_upload_with(
    req: &HttpRequest,
    mut multipart: Multipart,
    extra: &[&'static str],
) -> Result<(Upload, Vec<(&'static str, String)>), ApiError> {
    let declared = declared_length(req);
    if declared.is_some_and(|len| len > MULTIPART_LIMIT) {
        return Err(too_large());
    }
    let mut left = MULTIPART_LIMIT;
    let mut file = None;
    let mut password = None;
    let mut texts = Vec::new();
    while let Some(mut field) = multipart.try_next().await.map_err(multipart_error)? {
        let wanted = extra
            .iter()
            .copied()
            .find(|name| field.name() == Some(*name));
        if let Some(name) = wanted {
            texts.push((name, read_text(field, name, &mut left).await?));
            continue;
        }
        match field.name() {
            Some("file") => {
                let filename = field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename())
                    .unwrap_or_default()
                    .to_owned();
                text::check("filename", &filename, FILENAME)?;
                let limit = UPLOAD_LIMIT.min(left);
                // Sized from the declared body (bounded by the limit) so that a large file is
                // not copied through doubling buffers.
                let expected = declared.unwrap_or(0).min(limit);
                let bytes = read_limited(field.map_err(multipart_error), limit, expected).await?;
                left -= bytes.len();
                file = Some((filename, bytes));
            }
            Some("password") => {
                let text = read_text(field, "password", &mut left).await?;
                password = Some(text).filter(|p| !p.is_empty());
            }

            _ => {
                while let Some(chunk) = field.try_next().await.map_err(multipart_error)? {
                    left = left.checked_sub(chunk.len()).ok_or_else(too_large)?;
                }
            }
        }
    }
    let (filename, bytes) =
        file.ok_or_else(|| ApiError::validation("multipart field `file` is required"))?;
    let upload = Upload {
        bytes,
        filename,
        password,
    };
    Ok((upload, texts))
}

/// Reads the short UTF-8 text field `name` (at most [`PASSWORD_LIMIT`] bytes and what is `left`
/// of the body's limit, which it lowers).
async fn read_text(
    field: actix_multipart::Field,
    name: &str,
    left: &mut usize,
) -> Result<String, ApiError> {
    let bytes = read_limited(field.map_err(multipart_error), PASSWORD_LIMIT.min(*left), 0)
        .await
        .map_err(|_| ApiError::validation(format!("`{name}` is too long")))?;
    *left -= bytes.len();
    String::from_utf8(bytes)
        .map_err(|_| ApiError::validation(format!("`{name}` must be UTF-8 text")))
}

/// The request's `Content-Length`, when it declares one.
fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
}

/// Collects a byte stream into a buffer sized for `expected` bytes, failing with 413 past
/// `limit`.
async fn read_limited<S, B>(
    mut stream: S,
    limit: usize,
    expected: usize,
) -> Result<Vec<u8>, ApiError>
where
    S: futures_util::Stream<Item = Result<B, ApiError>> + Unpin,
    B: AsRef<[u8]>,
{
    let mut out = Vec::with_capacity(expected);
    while let Some(chunk) = stream.try_next().await? {
        if out.len() + chunk.as_ref().len() > limit {
            return Err(too_large());
        }
        out.extend_from_slice(chunk.as_ref());
    }
    Ok(out)
}

fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        Code::FileTooLarge,
        format!("File too large (max {} MiB)", UPLOAD_LIMIT / (1024 * 1024)),
    )
}

fn multipart_error(err: actix_multipart::MultipartError) -> ApiError {
    ApiError::bad_request(
        Code::MalformedMultipart,
        format!("Malformed multipart body: {err}"),
    )
}
