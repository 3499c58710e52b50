//! Finishes the document: the shared `Problem` schema (RFC 7807 + `code`, its values the
//! catalogue's), and on every operation one response per problem status with the codes it can
//! carry, derived from what the operation is (authenticated, admin only, rate limited, behind the
//! database gate, reading JSON, multipart, a query or a path) plus its module's `PROBLEMS`
//! entry; and the rate-limit headers on every response of a rate-limited operation.

use std::collections::BTreeMap;

use actix_web::http::Method;
use serde_json::{json, Value};
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr, ResponseBuilder};

use super::ADMIN_ROLE;
use crate::problem::{Code, PROBLEM_JSON};
use crate::rate_limit::{Tier, X_RATELIMIT_LIMIT, X_RATELIMIT_REMAINING};

/// The name of the shared problem schema.
pub const PROBLEM: &str = "Problem";

/// What the document says about an operation's authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token needed.
    Public,
    /// A user's bearer token.
    User,
    /// An admin's bearer token.
    Admin,
}

impl Access {
    /// The access an operation declares (`None`: the document's bearer requirement).
    pub fn of(operation: &Operation) -> Self {
        let Some(requirements) = &operation.security else {
            return Access::User;
        };
        let requirements: Vec<Value> = requirements
            .iter()
            .map(|r| serde_json::to_value(r).unwrap_or(Value::Null))
            .collect();
        let empty = |r: &Value| r.as_object().is_none_or(|o| o.is_empty());
        if requirements.is_empty() || requirements.iter().any(empty) {
            return Access::Public;
        }
        let admin = requirements
            .iter()
            .flat_map(|r| r.as_object().into_iter().flat_map(|o| o.values()))
            .flat_map(|scopes| scopes.as_array().into_iter().flatten())
            .any(|scope| scope == ADMIN_ROLE);
        if admin {
            Access::Admin
        } else {
            Access::User
        }
    }
}

/// Every operation of a path, with its method.
pub fn operations_mut(item: &mut PathItem) -> Vec<(Method, &mut Operation)> {
    [
        (Method::GET, item.get.as_mut()),
        (Method::PUT, item.put.as_mut()),
        (Method::POST, item.post.as_mut()),
        (Method::DELETE, item.delete.as_mut()),
        (Method::OPTIONS, item.options.as_mut()),
        (Method::HEAD, item.head.as_mut()),
        (Method::PATCH, item.patch.as_mut()),
        (Method::TRACE, item.trace.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.map(|op| (method, op)))
    .collect()
}

/// The codes an operation can answer with, derived from what it is, plus `extra`.
pub fn codes(path: &str, method: &Method, operation: &Operation, extra: &[Code]) -> Vec<Code> {
    let mut codes = vec![Code::InternalError];
    let api = path.starts_with("/api/v1/");
    if api && !crate::database_gate::exempt(path) {
        codes.push(Code::DatabaseUnavailable);
    }
    if api && Tier::of(method, Some(path)).is_some() {
        codes.push(Code::RateLimited);
    }
    let access = Access::of(operation);
    if access != Access::Public {
        codes.extend(
            Code::ALL
                .iter()
                .filter(|c| c.status() == Some(401) && **c != Code::Unauthorized),
        );
        codes.extend([
            Code::ActorCrashed,
            Code::ActorEscalated,
            Code::ActorTimeout,
            Code::ActorUnavailable,
        ]);
    }
    if access == Access::Admin {
        codes.push(Code::Forbidden);
    }
    let bodies = operation
        .request_body
        .as_ref()
        .map(|b| b.content.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    if bodies.iter().any(|b| b == "application/json") {
        codes.extend([
            Code::BadRequest,
            Code::MalformedJson,
            Code::PayloadTooLarge,
            Code::UnsupportedMediaType,
            Code::Validation,
        ]);
    }
    if bodies.iter().any(|b| b == "multipart/form-data") {
        codes.extend([
            Code::MalformedMultipart,
            Code::FileTooLarge,
            Code::Validation,
        ]);
    }
    let located = |place: ParameterIn| {
        operation
            .parameters
            .iter()
            .flatten()
            .any(|p| p.parameter_in == place)
    };
    if located(ParameterIn::Query) {
        codes.push(Code::InvalidQuery);
    }
    if located(ParameterIn::Path) {
        codes.push(Code::NotFound);
    }
    codes.extend_from_slice(extra);
    let mut seen = Vec::new();
    codes.retain(|c| {
        let new = !seen.contains(c);
        seen.push(*c);
        new
    });
    codes
}

/// Adds the `Problem` schema, every operation's problem responses (`extra`: the route modules'
/// `PROBLEMS`) and the rate-limit headers.
pub fn describe(doc: &mut Document, extra: &[(&str, &[Code])]) {
    doc.components
        .get_or_insert_with(Default::default)
        .schemas
        .insert(PROBLEM.to_owned(), RefOr::T(problem_schema()));
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, operation) in operations_mut(item) {
            let id = operation.operation_id.clone().unwrap_or_default();
            let own: Vec<Code> = extra
                .iter()
                .filter(|(op, _)| *op == id)
                .flat_map(|(_, codes)| codes.iter().copied())
                .collect();
            let mut by_status: BTreeMap<u16, Vec<Code>> = BTreeMap::new();
            for code in codes(path, &method, operation, &own) {
                if let Some(status) = code.status() {
                    by_status.entry(status).or_default().push(code);
                }
            }
            for (status, codes) in by_status {
                operation
                    .responses
                    .responses
                    .insert(status.to_string(), RefOr::T(problem_response(&codes)));
            }
            let limited = path.starts_with("/api/v1/") && Tier::of(&method, Some(path)).is_some();
            if limited {
                add_rate_limit_headers(operation, &method, path);
            }
        }
    }
}

/// The RFC 7807 body every error has; `code` is one of the catalogue's HTTP codes.
fn problem_schema() -> Schema {
    let text = |description: &str| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(description))
    };
    let http_codes = Code::ALL
        .iter()
        .filter(|c| c.status().is_some() || **c == Code::ClientError)
        .map(|c| c.as_str());
    let mut problem = ObjectBuilder::new()
        .title(Some(PROBLEM))
        .description(Some(
            "RFC 7807 problem details (`application/problem+json`) with a stable `code`; some \
             problems add members (e.g. readiness's `checks`).",
        ))
        .property("type", text("`urn:scale:problem:{code}`."))
        .property("title", text("The status's reason phrase."))
        .property(
            "status",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .description(Some("The HTTP status.")),
        )
        .property("detail", text("What went wrong, for people."))
        .property("instance", text("The request's path."))
        .property("request_id", text("The request's `X-Request-Id`."))
        .property(
            "code",
            text("The stable code clients branch on.").enum_values(Some(http_codes)),
        );
    for field in [
        "type",
        "title",
        "status",
        "detail",
        "instance",
        "request_id",
        "code",
    ] {
        problem = problem.required(field);
    }
    problem.build().into()
}

/// The response carrying one of `codes` (all of one status).
fn problem_response(codes: &[Code]) -> utoipa::openapi::Response {
    let names: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
    let schema = AllOfBuilder::new()
        .item(Ref::from_schema_name(PROBLEM))
        .item(
            ObjectBuilder::new().property(
                "code",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(names.clone())),
            ),
        );
    let description = codes
        .iter()
        .map(|c| format!("`{}`: {}", c.as_str(), c.meaning()))
        .collect::<Vec<_>>()
        .join(" ");
    let mut response = ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new().schema(Some(schema)).build(),
        )
        .extensions(Some(
            ExtensionsBuilder::new()
                .add("x-problem-codes", json!(names))
                .build(),
        ));
    let retry = [
        Code::RateLimited,
        Code::DatabaseUnavailable,
        Code::ForecastTimeout,
    ];
    if codes.iter().any(|c| retry.contains(c)) {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::Integer))
                .description(Some(
                    "Seconds to wait before retrying (`rate_limited`, `database_unavailable`, \
                     `forecast_timeout`).",
                ))
                .build(),
        );
    }
    response.build()
}

/// Documents `X-RateLimit-Limit` and `X-RateLimit-Remaining` on every response of a rate-limited
/// operation, and its tier as `x-rate-limit-tier`.
fn add_rate_limit_headers(operation: &mut Operation, method: &Method, path: &str) {
    for response in operation.responses.responses.values_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        for (name, description) in [
            (
                X_RATELIMIT_LIMIT,
                "Requests the caller may make in the window.",
            ),
            (
                X_RATELIMIT_REMAINING,
                "Requests left in the current window.",
            ),
        ] {
            response.headers.insert(
                name.as_str().to_owned(),
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::Integer))
                    .description(Some(description))
                    .build(),
            );
        }
    }
    if let Some(tier) = Tier::of(method, Some(path)) {
        let tier = ExtensionsBuilder::new()
            .add("x-rate-limit-tier", tier.as_str())
            .build();
        match &mut operation.extensions {
            Some(extensions) => extensions.merge(tier),
            None => operation.extensions = Some(tier),
        }
    }
}
