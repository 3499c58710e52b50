//! Latencies and errors per route template in bounded memory (one HDR histogram per route,
//! whatever the number of requests), their figures, and the thresholds a run is judged by.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{json, Value};

/// Longest latency told apart (longer ones count as this), in microseconds.
const HIGHEST_US: u64 = 120_000_000;
/// Significant figures the histograms keep (0.1 % resolution).
const SIGFIG: u8 = 3;

/// Every request's latency and outcome, per route template.
#[derive(Default)]
pub struct Recorder {
    routes: BTreeMap<&'static str, Route>,
    /// Failures by `route: why` (a handful of kinds: statuses, timeouts, refused connections).
    failures: BTreeMap<String, u64>,
}

/// One route's latencies (every request, failed ones included) and failures.
struct Route {
    latency_us: Histogram<u64>,
    errors: u64,
}

/// A [`Recorder`] shared by the tasks of one phase.
pub type Shared = Arc<Mutex<Recorder>>;

impl Recorder {
    /// A recorder to share among tasks.
    pub fn shared() -> Shared {
        Arc::default()
    }

    /// Records one request of `route` that took `elapsed` and succeeded, or failed for the
    /// reason given.
    pub fn record(&mut self, route: &'static str, elapsed: Duration, failure: Option<&str>) {
        let entry = self.routes.entry(route).or_insert_with(|| Route {
            latency_us: Histogram::new_with_bounds(1, HIGHEST_US, SIGFIG)
                .expect("constant histogram bounds are valid"),
            errors: 0,
        });
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        entry.latency_us.saturating_record(micros.max(1));
        if let Some(why) = failure {
            entry.errors += 1;
            *self.failures.entry(format!("{route}: {why}")).or_default() += 1;
        }
    }

    /// Records into a shared recorder.
    pub fn record_shared(
        shared: &Shared,
        route: &'static str,
        elapsed: Duration,
        failure: Option<&str>,
    ) {
        shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .record(route, elapsed, failure);
    }

    /// Figures per route, and over every route, for requests made over `span`.
    pub fn summary(&self, span: Duration) -> Summary {
        let mut all: Option<Route> = None;
        let routes = self
            .routes
            .iter()
            .map(|(name, route)| {
                match &mut all {
                    Some(all) => {
                        all.latency_us
                            .add(&route.latency_us)
                            .expect("histograms of equal bounds add up");
                        all.errors += route.errors;
                    }
                    None => {
                        all = Some(Route {
                            latency_us: route.latency_us.clone(),
                            errors: route.errors,
                        });
                    }
                }
                (*name, route.figures(span))
            })
            .collect();
        Summary {
            routes,
            overall: all.map_or_else(Figures::empty, |all| all.figures(span)),
            failures: self.failures.clone(),
        }
    }

    /// The summary of a shared recorder.
    pub fn summary_shared(shared: &Shared, span: Duration) -> Summary {
        shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .summary(span)
    }
}

impl Route {
    fn figures(&self, span: Duration) -> Figures {
        let ms = |q: f64| self.latency_us.value_at_quantile(q) as f64 / 1000.0;
        let requests = self.latency_us.len();
        Figures {
            requests,
            errors: self.errors,
            rps: requests as f64 / span.as_secs_f64().max(f64::MIN_POSITIVE),
            p50_ms: ms(0.50),
            p95_ms: ms(0.95),
            p99_ms: ms(0.99),
            max_ms: self.latency_us.max() as f64 / 1000.0,
        }
    }
}

/// Requests, their rate and latency percentiles (milliseconds) and failures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Figures {
    /// Requests made (failed ones included).
    pub requests: u64,
    /// Requests that failed: no answer in time, a transport error, or a status ≥ 400.
    pub errors: u64,
    /// Requests per second over the phase.
    pub rps: f64,
    /// Median latency.
    pub p50_ms: f64,
    /// 95th percentile latency.
    pub p95_ms: f64,
    /// 99th percentile latency.
    pub p99_ms: f64,
    /// Slowest request.
    pub max_ms: f64,
}

impl Figures {
    /// No request at all.
    fn empty() -> Self {
        Self {
            requests: 0,
            errors: 0,
            rps: 0.0,
            p50_ms: f64::NAN,
            p95_ms: f64::NAN,
            p99_ms: f64::NAN,
            max_ms: f64::NAN,
        }
    }

    /// Failed requests over all requests (0 without any).
    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.errors as f64 / self.requests as f64
        }
    }

    /// The figures as JSON.
    pub fn report(&self) -> Value {
        json!({
            "requests": self.requests,
            "errors": self.errors,
            "error_rate": self.error_rate(),
            "requests_per_sec": self.rps,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
        })
    }
}

/// Figures per route template and over all of them.
pub struct Summary {
    /// Per route template, by name.
    pub routes: Vec<(&'static str, Figures)>,
    /// Every request together.
    pub overall: Figures,
    /// Failures by `route: why`.
    pub failures: BTreeMap<String, u64>,
}

impl Summary {
    /// The summary as JSON: `overall` and `routes` by name, each route with its latency
    /// percentiles over `baseline`'s (`p50_vs_baseline`, `p95_vs_baseline`), and
    /// `errors_by_kind`.
    pub fn report(&self, baseline: &Figures) -> Value {
        let with_ratios = |figures: &Figures| {
            let mut value = figures.report();
            value["p50_vs_baseline"] = json!(figures.p50_ms / baseline.p50_ms);
            value["p95_vs_baseline"] = json!(figures.p95_ms / baseline.p95_ms);
            value
        };
        json!({
            "overall": with_ratios(&self.overall),
            "routes": self
                .routes
                .iter()
                .map(|(name, figures)| (name.to_string(), with_ratios(figures)))
                .collect::<serde_json::Map<_, _>>(),
            "errors_by_kind": self.failures,
        })
    }
}

/// Latency and error thresholds.
#[derive(Clone, Copy, Debug)]
pub struct Thresholds {
    /// The 95th percentile latency must stay under this.
    pub p95_ms: f64,
    /// The error rate must stay under this.
    pub error_rate: f64,
}

/// The load test's gate (the seed's k6 thresholds): p95 under 500 ms, errors under 1 %.
pub const GATE: Thresholds = Thresholds {
    p95_ms: 500.0,
    error_rate: 0.01,
};

/// What a sustainable request rate must keep: p95 under 100 ms, errors under 1 %.
pub const SUSTAINABLE: Thresholds = Thresholds {
    p95_ms: 100.0,
    error_rate: 0.01,
};

impl Thresholds {
    /// Why `figures` (named `what`) miss these thresholds; empty when they hold. No request at
    /// all misses them too: nothing was shown to hold.
    pub fn failures(&self, what: &str, figures: &Figures) -> Vec<String> {
        let mut failures = Vec::new();
        if figures.requests == 0 {
            failures.push(format!("{what}: no request completed"));
            return failures;
        }
        if figures.p95_ms.is_nan() || figures.p95_ms >= self.p95_ms {
            failures.push(format!(
                "{what}: p95 {:.1} ms ≥ {} ms",
                figures.p95_ms, self.p95_ms
            ));
        }
        if figures.error_rate() >= self.error_rate {
            failures.push(format!(
                "{what}: {} errors of {} requests ({:.2} %) ≥ {} %",
                figures.errors,
                figures.requests,
                figures.error_rate() * 100.0,
                self.error_rate * 100.0
            ));
        }
        failures
    }
}

/// The gate's verdict on a journey: its HTTP requests over every route (p95 and errors) and
/// its training jobs followed to their end (errors only: a job's run time is no request
/// latency). Empty when it passes.
pub fn gate(http: &Figures, jobs: &Figures) -> Vec<String> {
    let errors_only = Thresholds {
        p95_ms: f64::INFINITY,
        ..GATE
    };
    let mut failures = GATE.failures("HTTP requests", http);
    failures.extend(errors_only.failures("training jobs", jobs));
    failures
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(requests: u64, errors: u64, p95_ms: f64) -> Figures {
        Figures {
            requests,
            errors,
            rps: 1.0,
            p50_ms: p95_ms / 2.0,
            p95_ms,
            p99_ms: p95_ms,
            max_ms: p95_ms,
        }
    }

    #[test]
    fn percentiles_come_from_the_histogram_per_route_and_overall() {
        let mut recorder = Recorder::default();
        for ms in 1..=100 {
            recorder.record("GET /a", Duration::from_millis(ms), None);
        }
        recorder.record("GET /b", Duration::from_millis(1000), Some("status 503"));
        let summary = recorder.summary(Duration::from_secs(10));
        let (name, a) = summary.routes[0];
        assert_eq!(name, "GET /a");
        assert_eq!(a.requests, 100);
        assert_eq!(a.errors, 0);
        assert!((a.p50_ms - 50.0).abs() < 0.1, "{a:?}");
        assert!((a.p95_ms - 95.0).abs() < 0.1, "{a:?}");
        assert!((a.rps - 10.0).abs() < 1e-9);
        assert_eq!(summary.routes[1].1.errors, 1);
        assert_eq!(summary.overall.requests, 101);
        assert_eq!(summary.overall.errors, 1);
        assert!((summary.overall.max_ms - 1000.0).abs() < 1.0);
        assert_eq!(summary.failures["GET /b: status 503"], 1);
        assert!(Recorder::default()
            .summary(Duration::from_secs(1))
            .overall
            .p95_ms
            .is_nan());
    }

    #[test]
    fn the_gate_holds_under_500_ms_and_1_percent_errors() {
        let jobs = figures(10, 0, 4000.0);
        assert!(gate(&figures(1000, 9, 499.0), &jobs).is_empty());
        let slow = gate(&figures(1000, 0, 500.0), &jobs);
        assert_eq!(slow.len(), 1);
        assert!(slow[0].contains("p95"), "{slow:?}");
        let failing = gate(&figures(1000, 10, 10.0), &jobs);
        assert_eq!(failing.len(), 1);
        assert!(failing[0].contains("errors"), "{failing:?}");
        // A job is slow by nature; only its failures count.
        let failed_job = gate(&figures(1000, 0, 10.0), &figures(10, 1, 4000.0));
        assert_eq!(failed_job.len(), 1);
        assert!(failed_job[0].starts_with("training jobs"), "{failed_job:?}");
        // Nothing measured is no pass.
        assert_eq!(gate(&figures(0, 0, f64::NAN), &jobs).len(), 1);
    }

    #[test]
    fn ratios_compare_with_the_baseline() {
        let mut recorder = Recorder::default();
        recorder.record("GET /a", Duration::from_millis(10), None);
        let report = recorder
            .summary(Duration::from_secs(1))
            .report(&figures(1, 0, 2.0));
        let ratio = report["routes"]["GET /a"]["p95_vs_baseline"]
            .as_f64()
            .unwrap();
        assert!((ratio - 5.0).abs() < 0.01, "{report}");
        assert_eq!(report["overall"]["requests"], 1);
    }
}
