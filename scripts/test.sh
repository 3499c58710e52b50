#!/usr/bin/env bash
# Runs every check CI runs: formatting, clippy (warnings are errors), docs, the monitoring and
# deployment lints and the whole test suite (unit, integration against real PostgreSQL/Redis,
# end-to-end against the real binary).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/services.sh

ensure_services
ensure_prometheus
ensure_browser
ensure_python_tools
rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt clippy

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
log "cargo doc (broken intra-doc links are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet
log "promtool: alert and recording rules"
promtool check rules monitoring/prometheus/rules.yml
promtool test rules monitoring/prometheus/tests/alerts.yml
promtool check config monitoring/prometheus/prometheus.yml
log "deployment: hadolint, actionlint, docker-compose config"
hadolint Dockerfile
actionlint .github/workflows/*.yml
docker-compose --file docker-compose.yml config --quiet
log "cargo test"
report=$(mktemp)
trap 'rm -f "$report"' EXIT
set +e
cargo test --workspace --all-targets --locked 2>&1 | tee "$report"
status=${PIPESTATUS[0]}
set -e
sum() { grep -E '^test result:' "$report" | grep -Eo "[0-9]+ $1" | awk '{n += $1} END {print n + 0}'; }
echo "tests: $(sum passed) passed, $(sum failed) failed, $(sum ignored) skipped"
[ "$status" -eq 0 ] || exit "$status"
log "contract fuzzing (schemathesis against the binary)"
scripts/contract.sh
# The ship gates on the held-out splits, as `scale eval` prints them (deterministic).
log "scale eval forecast / anomaly (held-out gates)"
cargo run --quiet --locked --bin scale -- eval forecast >/dev/null
cargo run --quiet --locked --bin scale -- eval anomaly >/dev/null
