//! Unit tests of the configuration: defaults, cross-field rules (timeouts, chaos knobs, production
//! secrets), rate limits, and errors naming their variable.

use std::collections::HashMap;

use super::*;

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned())
}

#[test]
fn defaults_are_valid() {
    let c = config(&[]).unwrap();
    assert_eq!(c.bind_addr.to_string(), "127.0.0.1:8000");
    assert_eq!(c.redis_url.as_deref(), Some("redis://127.0.0.1:6379"));
    assert_eq!(c.allowed_origins, vec!["http://localhost:3000"]);
    assert!(!c.chaos_enabled);
    assert_eq!(c.redis_key_prefix, "scale:");
    assert_eq!(c.rate_limits, RateLimits::default());
    assert_eq!(c.rate_limit_redis_timeout, Duration::from_secs(1));
    assert_eq!(c.cache_redis_timeout, Duration::from_millis(50));
    assert_eq!(c.analytics_cache_ttl, Duration::from_secs(300));
    assert_eq!(c.training.lease, Duration::from_secs(30));
    assert_eq!(c.training.poll_interval, Duration::from_millis(500));
    assert_eq!(c.training.categorizer_timeout, Duration::from_secs(1800));
    assert_eq!(c.training.forecaster_timeout, Duration::from_secs(1800));
    assert_eq!(c.training.backoff.base, Duration::from_secs(5));
    assert_eq!(c.training.backoff.cap, Duration::from_secs(300));
    assert!(c.training.workers > 0);
    assert_eq!(c.training.chaos.configured(), (None, 0));
    assert_eq!(c.ingest_timeout, Duration::from_secs(120));
    assert_eq!(c.db_checkout_timeout, Duration::from_secs(2));
    assert_eq!(c.sentry_traces_sample_rate, 0.0);
}

#[test]
fn the_traces_sample_rate_is_a_share() {
    for (raw, rate) in [("0", 0.0), ("0.25", 0.25), (" 1.0 ", 1.0)] {
        let c = config(&[("SENTRY_TRACES_SAMPLE_RATE", raw)]).unwrap();
        assert_eq!(c.sentry_traces_sample_rate, rate, "{raw}");
    }
}

#[test]
fn metrics_are_on_by_default_and_cannot_be_served_when_off() {
    assert!(config(&[]).unwrap().metrics_enabled);
    let off = config(&[("METRICS_ENABLED", "false")]).unwrap();
    assert!(!off.metrics_enabled);
    let err = config(&[
        ("METRICS_ENABLED", "false"),
        ("METRICS_ADDR", "127.0.0.1:9464"),
    ])
    .err()
    .unwrap();
    assert_eq!(err.var, "METRICS_ADDR");
}

#[test]
fn the_checkout_timeout_must_be_shorter_than_the_actor_timeout() {
    let err = config(&[("ACTOR_CALL_TIMEOUT_MS", "2000")]).err().unwrap();
    assert_eq!(err.var, "DB_CHECKOUT_TIMEOUT_MS");
    let c = config(&[
        ("ACTOR_CALL_TIMEOUT_MS", "2000"),
        ("DB_CHECKOUT_TIMEOUT_MS", "500"),
        ("INGEST_TIMEOUT_SECS", "30"),
    ])
    .unwrap();
    assert_eq!(c.db_checkout_timeout, Duration::from_millis(500));
    assert_eq!(c.ingest_timeout, Duration::from_secs(30));
}

#[test]
fn training_timeouts_are_per_kind_and_the_chaos_knobs_need_chaos() {
    let c = config(&[
        ("TRAINING_TIMEOUT_SECS", "60"),
        ("TRAINING_TIMEOUT_FORECASTER_SECS", "5"),
        ("TRAINING_WORKERS", "3"),
        ("CHAOS_TRAINING_STEP_DELAY_MS", "250"),
        ("CHAOS_TRAINING_PANIC_ATTEMPTS", "2"),
    ])
    .unwrap();
    assert_eq!(c.training.categorizer_timeout, Duration::from_secs(60));
    assert_eq!(c.training.forecaster_timeout, Duration::from_secs(5));
    assert_eq!(c.training.workers, 3);
    assert_eq!(c.training.chaos.configured(), (None, 0));
    let c = config(&[
        ("CHAOS_ENABLED", "true"),
        ("CHAOS_TRAINING_STEP_DELAY_MS", "250"),
        ("CHAOS_TRAINING_PANIC_ATTEMPTS", "2"),
    ])
    .unwrap();
    assert_eq!(
        c.training.chaos.configured(),
        (Some(Duration::from_millis(250)), 2)
    );
}

#[test]
fn rate_limits_are_configurable() {
    let c = config(&[
        ("RATE_LIMIT_IMPORT_PER_MIN", "2"),
        ("RATE_LIMIT_TRAINING_PER_HOUR", "1"),
        ("REDIS_KEY_PREFIX", "test:"),
    ])
    .unwrap();
    assert_eq!(c.rate_limits.import.max, 2);
    assert_eq!(c.rate_limits.training.max, 1);
    assert_eq!(c.rate_limits.training.window, Duration::from_secs(3600));
    assert_eq!(c.rate_limits.default.max, 100);
    assert_eq!(c.redis_key_prefix, "test:");
}

#[test]
fn bad_values_name_their_variable() {
    for (var, value) in [
        ("BIND_ADDR", "localhost"),
        ("DATABASE_URL", "mysql://x"),
        ("REDIS_URL", "http://x"),
        ("JWT_SECRET", "short"),
        ("ALLOWED_ORIGINS", "*"),
        ("ALLOWED_ORIGINS", "https://a.example/path"),
        ("LOG_FORMAT", "xml"),
        ("ENVIRONMENT", "prod"),
        ("DB_POOL_SIZE", "0"),
        ("HEALTH_PROBE_TIMEOUT_MS", "-1"),
        ("STALLED_PEER_TIMEOUT_MS", "0"),
        ("CHAOS_ENABLED", "yes"),
        ("RATE_LIMIT_DEFAULT_PER_MIN", "0"),
        ("RATE_LIMIT_CLASSIFY_PER_MIN", "many"),
        ("RATE_LIMIT_REDIS_TIMEOUT_MS", "0"),
        ("CACHE_REDIS_TIMEOUT_MS", "0"),
        ("ANALYTICS_CACHE_TTL_SECS", "soon"),
        ("TRAINING_WORKERS", "0"),
        ("TRAINING_LEASE_SECS", "0"),
        ("TRAINING_TIMEOUT_SECS", "-5"),
        ("TRAINING_TIMEOUT_CATEGORIZER_SECS", "0"),
        ("TRAINING_BACKOFF_BASE_MS", "x"),
        ("SENTRY_TRACES_SAMPLE_RATE", "1.5"),
        ("SENTRY_TRACES_SAMPLE_RATE", "-0.1"),
        ("SENTRY_TRACES_SAMPLE_RATE", "NaN"),
        ("SENTRY_TRACES_SAMPLE_RATE", "half"),
    ] {
        let err = config(&[(var, value)]).expect_err(var);
        assert_eq!(err.var, var, "{err}");
        assert!(!err.to_string().contains('\n'));
    }
}

#[test]
fn production_requires_a_secret_and_empty_redis_disables_it() {
    let err = config(&[("ENVIRONMENT", "production")]).unwrap_err();
    assert_eq!(err.var, "JWT_SECRET");
    let c = config(&[("REDIS_URL", ""), ("JWT_SECRET", ""), ("HTTP_WORKERS", "")]).unwrap();
    assert!(c.redis_url.is_none());
    assert!(c.http_workers > 0);
}

#[test]
fn production_refuses_chaos() {
    let secret = ("JWT_SECRET", "a-production-secret-of-at-least-32-bytes");
    let err = config(&[
        ("ENVIRONMENT", "production"),
        secret,
        ("CHAOS_ENABLED", "true"),
    ])
    .unwrap_err();
    assert_eq!(err.var, "CHAOS_ENABLED");
    assert_eq!(
        err.to_string(),
        "CHAOS_ENABLED: must not be true when ENVIRONMENT=production"
    );
    let c = config(&[
        ("ENVIRONMENT", "production"),
        secret,
        ("CHAOS_ENABLED", "false"),
    ])
    .unwrap();
    assert!(!c.chaos_enabled);
    assert!(config(&[("ENVIRONMENT", "staging"), ("CHAOS_ENABLED", "true")]).is_ok());
}
