//! JWT authentication. Tokens are verified locally: HS256 with `JWT_SECRET`, and optionally
//! RS256/ES256 keys from a JWKS file (chosen by `kid`). `exp` and `sub` (the user's UUID) are
//! required; `role` defaults to `user`. Each failure has its own 401 code and message.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderMap};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::problem::ApiError;
use crate::problem::Code;
use crate::AppState;

/// The role a token grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// An ordinary user: sees only their own data.
    User,
    /// May call `/api/v1/ops/*`.
    Admin,
}

impl Role {
    /// The stored name (`users.role`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }
}

/// The claims SCALE reads from a token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: Uuid,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issue time, seconds since the epoch.
    #[serde(default)]
    pub iat: i64,
    /// Granted role; absent means [`Role::User`] (unknown roles such as Supabase's
    /// `authenticated` also mean a plain user).
    #[serde(default, deserialize_with = "lenient_role")]
    pub role: Option<Role>,
}

fn lenient_role<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Role>, D::Error> {
    let raw = Option::<String>::deserialize(d)?;
    Ok(match raw.as_deref() {
        Some("admin") => Some(Role::Admin),
        Some(_) => Some(Role::User),
        None => None,
    })
}

/// Key material could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The JWKS file is unreadable or invalid.
    #[error("JWT_JWKS_FILE: {0}")]
    Jwks(String),
}

/// Clock skew tolerated on `exp` (jsonwebtoken's default would be 60 s).
pub const TOKEN_LEEWAY_SECS: u64 = 5;

/// Verifies bearer tokens.
pub struct Authenticator {
    secret: DecodingKey,
    jwks: Option<JwkSet>,
}

impl Authenticator {
    /// A verifier for HS256 tokens signed with `secret`, plus the keys in `jwks_json` if given.
    pub fn new(secret: &str, jwks_json: Option<&str>) -> Result<Self, KeyError> {
        let jwks = jwks_json
            .map(|text| {
                serde_json::from_str::<JwkSet>(text).map_err(|e| KeyError::Jwks(e.to_string()))
            })
            .transpose()?;
        Ok(Self {
            secret: DecodingKey::from_secret(secret.as_bytes()),
            jwks,
        })
    }

    /// Verifies `token` and returns its claims, or the 401 to answer.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| malformed())?;
        let (key, algorithm) = match header.alg {
            Algorithm::HS256 => (self.secret.clone(), Algorithm::HS256),
            alg @ (Algorithm::RS256 | Algorithm::ES256) => {
                (self.jwk_key(header.kid.as_deref())?, alg)
            }
            other => {
                return Err(ApiError::unauthorized(
                    Code::UnsupportedAlgorithm,
                    format!("Token algorithm {other:?} is not accepted"),
                ))
            }
        };
        let mut validation = Validation::new(algorithm);
        validation.leeway = TOKEN_LEEWAY_SECS;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => {
                    ApiError::unauthorized(Code::TokenExpired, "Bearer token has expired")
                }
                ErrorKind::InvalidSignature => {
                    ApiError::unauthorized(Code::InvalidSignature, "Bearer token signature is invalid")
                }
                ErrorKind::MissingRequiredClaim(_)
                | ErrorKind::InvalidClaimFormat(_)
                | ErrorKind::ImmatureSignature
                | ErrorKind::Json(_) => ApiError::unauthorized(
                    Code::InvalidClaims,
                    "Bearer token claims are invalid: `sub` must be a user UUID and `exp` is required",
                ),
                _ => malformed(),
            })
    }

    fn jwk_key(&self, kid: Option<&str>) -> Result<DecodingKey, ApiError> {
        let unknown = || {
            ApiError::unauthorized(
                Code::UnknownKey,
                "Bearer token was signed by an unknown key",
            )
        };
        let set = self.jwks.as_ref().ok_or_else(unknown)?;
        let jwk = match kid {
            Some(kid) => set.find(kid),
            None if set.keys.len() == 1 => set.keys.first(),
            None => None,
        }
        .ok_or_else(unknown)?;
        DecodingKey::from_jwk(jwk).map_err(|_| unknown())
    }
}

fn malformed() -> ApiError {
    ApiError::unauthorized(Code::MalformedToken, "Bearer token is malformed")
}

/// Signs an HS256 token for `user` (the `scale token` command and tests).
pub fn mint_token(secret: &str, user: Uuid, role: Role, ttl_secs: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: user,
        exp: now + ttl_secs,
        iat: now,
        role: Some(role),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("HS256 signing with an in-memory secret cannot fail")
}

/// The token in `Authorization: Bearer <token>`, or the 401 to answer.
fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let token = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ if value.eq_ignore_ascii_case("bearer") => "",
        _ => {
            return Err(ApiError::unauthorized(
                Code::MissingCredentials,
                "Missing or invalid Authorization header. Expected: Bearer <token>",
            ))
        }
    };
    if token.is_empty() {
        return Err(ApiError::unauthorized(
            Code::MissingToken,
            "Missing bearer token",
        ));
    }
    Ok(token)
}

impl Authenticator {
    /// The caller the bearer token in `headers` names, or the 401 to answer.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<AuthUser, ApiError> {
        let claims = self.verify(bearer_token(headers)?)?;
        Ok(AuthUser {
            id: claims.sub,
            role: claims.role.unwrap_or(Role::User),
        })
    }
}

/// The authenticated caller, extracted from `Authorization: Bearer <JWT>`. The token is
/// verified once per request: whoever verifies it first (the rate limiter, else this
/// extractor) [`remember`](AuthUser::remember)s the caller in the request extensions.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// The user's id (`sub`).
    pub id: Uuid,
    /// The granted role.
    pub role: Role,
}

impl AuthUser {
    /// Stores the caller in `req`'s extensions (for the extractor and the access log), on the
    /// request's tracing span and, when Sentry is enabled, on the request's Sentry scope (tag
    /// `user_id` and the event's user).
    pub fn remember(&self, req: &impl HttpMessage) {
        tracing::Span::current().record("user_id", tracing::field::display(self.id));
        // Without a client this is a thread-local lookup and nothing else.
        sentry::configure_scope(|scope| {
            let id = self.id.to_string();
            scale_monitoring::tag_request(scope, "user_id", &id);
            scope.set_user(Some(sentry::User {
                id: Some(id),
                ..Default::default()
            }));
        });
        req.extensions_mut().insert(self.clone());
    }

    fn from_request_parts(req: &HttpRequest, auth: &Authenticator) -> Result<Self, ApiError> {
        if let Some(user) = req.extensions().get::<AuthUser>() {
            return Ok(user.clone());
        }
        let user = auth.authenticate(req.headers())?;
        user.remember(req);
        Ok(user)
    }
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>() else {
            tracing::error!("AppState missing from the app");
            return ready(Err(ApiError::internal()));
        };
        ready(Self::from_request_parts(req, &state.auth))
    }
}

/// An authenticated caller with the `admin` role; anyone else gets 403.
#[derive(Debug, Clone)]
pub struct AdminUser(pub AuthUser);

impl FromRequest for AdminUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = match AuthUser::from_request(req, payload).into_inner() {
            Ok(user) => user,
            Err(err) => return ready(Err(err)),
        };
        ready(if user.role == Role::Admin {
            Ok(AdminUser(user))
        } else {
            Err(ApiError::forbidden(
                "This operation requires the admin role",
            ))
        })
    }
}
