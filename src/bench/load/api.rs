//! The requests a load-test user makes, each timed and recorded under its route template (the
//! path without its query): a request fails when no answer with a status under 400 arrives in
//! time.

use std::time::{Duration, Instant};

use chrono::{Days, Utc};
use reqwest::RequestBuilder;
use serde_json::{json, Value};

use super::stats::{Recorder, Shared};

/// Longest wait for one answer; a request still unanswered then is an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Rows in each imported statement.
pub const STATEMENT_ROWS: u64 = 12;

/// Narrations of the imported statements, with their amounts (debits negative).
const NARRATIONS: [(&str, f64); 6] = [
    ("UPI/DR/{n}/SWIGGY/YESB/swiggy@ybl/Food order", -420.0),
    ("UPI/DR/{n}/UBER INDIA/HDFC/uber@hdfc/Ride", -236.5),
    ("POS {n} BIGBASKET BANGALORE", -1830.0),
    ("ACH/DR/{n}/BESCOM ELECTRICITY BILL", -1240.0),
    ("NEFT/CR/{n}/ACME TECHNOLOGIES PVT LTD/SALARY", 85_000.0),
    ("UPI/DR/{n}/NETFLIX/ICIC/netflix@icici/Subscription", -649.0),
];

/// A call of the open-model mix (and `GET /health`, the baseline).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    /// `GET /health`.
    Health,
    /// The first page of transactions.
    List,
    /// A page of transactions filtered by category and date.
    ListFiltered,
    /// `GET /analytics/summary`.
    Summary,
    /// `GET /analytics/overview?timeframe=monthly`.
    Overview,
    /// `POST /categorization/classify`.
    Classify,
    /// `GET /forecast/safe-to-spend`.
    SafeToSpend,
}

impl Call {
    /// The open model's request mix, taken in turn: the journey's reads and computations,
    /// weighted like a journey makes them (three list pages to one of each other call).
    pub const MIX: [Call; 8] = [
        Call::List,
        Call::Summary,
        Call::ListFiltered,
        Call::Classify,
        Call::List,
        Call::Overview,
        Call::SafeToSpend,
        Call::ListFiltered,
    ];

    /// The route template the call is recorded under.
    pub fn route(self) -> &'static str {
        match self {
            Call::Health => "GET /health",
            Call::List | Call::ListFiltered => TRANSACTIONS,
            Call::Summary => "GET /analytics/summary",
            Call::Overview => "GET /analytics/overview",
            Call::Classify => "POST /categorization/classify",
            Call::SafeToSpend => "GET /forecast/safe-to-spend",
        }
    }
}

const TRANSACTIONS: &str = "GET /accounts/transactions";

/// A recorded request's JSON answer (`null` when not JSON), or why it failed: `status NNN CODE`
/// for an answer of status 400 or more (`CODE`: its problem's code, if any), else `timeout`, `connect`, `body` or `transport`.
pub type Answer = Result<Value, String>;

/// One server's API, recording into one recorder.
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    base: String,
    recorder: Shared,
}

impl Api {
    /// The API under `base` (`http://host:port/api/v1`), recording into `recorder`.
    pub fn new(base: &str, recorder: Shared) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .pool_max_idle_per_host(usize::MAX)
            .build()?;
        Ok(Self {
            client,
            base: base.to_owned(),
            recorder,
        })
    }

    /// The same API and connection pool, recording into `recorder`.
    pub fn recording_into(&self, recorder: Shared) -> Self {
        Self {
            recorder,
            ..self.clone()
        }
    }

    /// Sends `call` as the user of `token`; its latency counts from `started` (the moment it
    /// was due, in an open model). The JSON answer, or why it failed (`status 503`, `timeout`,
    /// `connect`, …).
    pub async fn call(&self, call: Call, token: &str, started: Instant) -> Answer {
        let request = match call {
            Call::Health => self.client.get(self.url("/health")),
            Call::List => self.get("/accounts/transactions?limit=20", token),
            Call::ListFiltered => {
                let from = Utc::now().date_naive() - Days::new(90);
                let path =
                    format!("/accounts/transactions?limit=20&category=Food&date_from={from}");
                self.get(&path, token)
            }
            Call::Summary => self.get("/analytics/summary", token),
            Call::Overview => self.get("/analytics/overview?timeframe=monthly", token),
            Call::Classify => self
                .post("/categorization/classify", token)
                .json(&json!({"description": "UPI/DR/4471/ZOMATO/food order", "amount": -380.0})),
            Call::SafeToSpend => self.get("/forecast/safe-to-spend", token),
        };
        self.send(call.route(), started, request).await
    }

    /// `GET /accounts/profile`: the signed-in user's first call (creates their row).
    pub async fn profile(&self, token: &str) -> Answer {
        let request = self.get("/accounts/profile", token);
        self.send("GET /accounts/profile", Instant::now(), request)
            .await
    }

    /// The page of transactions after `cursor`.
    pub async fn next_page(&self, token: &str, cursor: &str) -> Answer {
        let request = self
            .get("/accounts/transactions", token)
            .query(&[("limit", "20"), ("cursor", cursor)]);
        self.send(TRANSACTIONS, Instant::now(), request).await
    }

    /// Imports the CSV statement number `n` of a user (its rows are new to them) as a
    /// multipart upload.
    pub async fn import(&self, token: &str, n: u64) -> Answer {
        let file = reqwest::multipart::Part::text(statement(n)).file_name(format!("stmt-{n}.csv"));
        let request = self
            .post("/ingest/import", token)
            .multipart(reqwest::multipart::Form::new().part("file", file));
        self.send("POST /ingest/import", Instant::now(), request)
            .await
    }

    /// Queues a training job of `kind`.
    pub async fn start_job(&self, token: &str, kind: &str) -> Answer {
        let request = self
            .post("/training/jobs", token)
            .json(&json!({ "kind": kind }));
        self.send("POST /training/jobs", Instant::now(), request)
            .await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn get(&self, path: &str, token: &str) -> RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(token)
    }

    fn post(&self, path: &str, token: &str) -> RequestBuilder {
        self.client.post(self.url(path)).bearer_auth(token)
    }

    /// Sends `request`, reads the whole answer and records it under `route`.
    async fn send(&self, route: &'static str, started: Instant, request: RequestBuilder) -> Answer {
        let answer = async {
            let response = request.send().await.map_err(failure)?;
            let status = response.status();
            if status.is_client_error() || status.is_server_error() {
                // A problem's `code` tells apart answers of one status (503 `database_unavailable`
                // or `actor_unavailable`, …).
                let problem: Value = response.json().await.unwrap_or_default();
                let code = problem["code"].as_str().unwrap_or("");
                return Err(format!("status {} {code}", status.as_u16())
                    .trim_end()
                    .to_owned());
            }
            let body = response.bytes().await.map_err(failure)?;
            Ok(serde_json::from_slice(&body).unwrap_or(Value::Null))
        }
        .await;
        let why = answer.as_ref().err().map(String::as_str);
        Recorder::record_shared(&self.recorder, route, started.elapsed(), why);
        answer
    }
}

/// What kind of failure `err` is.
fn failure(err: reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timeout"
    } else if err.is_connect() {
        "connect"
    } else if err.is_body() || err.is_decode() {
        "body"
    } else {
        "transport"
    };
    kind.to_owned()
}

/// Statement `n`: `STATEMENT_ROWS` rows over the last weeks, each narration numbered by `n`
/// and the row so that no two statements share a row.
fn statement(n: u64) -> String {
    let today = Utc::now().date_naive();
    let mut csv = String::from("Date,Description,Amount\n");
    for row in 0..STATEMENT_ROWS {
        let (narration, amount) = NARRATIONS[(row as usize) % NARRATIONS.len()];
        let date = today - Days::new((n * 3 + row * 5) % 120);
        let reference = n * STATEMENT_ROWS + row;
        csv.push_str(&format!(
            "{},{},{:.2}\n",
            date.format("%d/%m/%Y"),
            narration.replace("{n}", &reference.to_string()),
            amount + (reference % 100) as f64 / 100.0,
        ));
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_never_share_a_row() {
        let rows = |n| {
            statement(n)
                .lines()
                .skip(1)
                .map(|line| line.split(',').nth(1).unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        let (first, second) = (rows(0), rows(1));
        assert_eq!(first.len() as u64, STATEMENT_ROWS);
        assert!(first.iter().all(|row| !second.contains(row)));
        assert!(statement(7).starts_with("Date,Description,Amount\n"));
    }
}
