#!/usr/bin/env bash
# Contract fuzzing: schemathesis (in target/tools-venv) against the real debug binary serving a
# fresh database, authenticated as a seeded user (then the operators' read-only routes as an
# admin), with its checks for server errors, status codes and response schemas against
# GET /api/v1/openapi.json. A bounded number of examples per operation (CONTRACT_MAX_EXAMPLES,
# default 10); the streams (SSE) and the WebSocket are left out (they do not end). Reports:
# target/test-artefacts/schemathesis*/ (JUnit), the server's log beside them.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/services.sh

ensure_rust
ensure_postgres
ensure_redis
ensure_python_tools

artefacts=target/test-artefacts
mkdir -p "$artefacts/schemathesis"
cargo build --quiet --locked --bin scale

db="scale_contract_$(date +%s)_$$"
ensure_database "$db"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db"
export REDIS_KEY_PREFIX="scale-contract-$db:"
export BIND_ADDR=127.0.0.1:0
export JWT_SECRET=contract-fuzzing-secret-0123456789abcdef
export RATE_LIMIT_DEFAULT_PER_MIN=1000000 RATE_LIMIT_IMPORT_PER_MIN=1000000
export RATE_LIMIT_CLASSIFY_PER_MIN=1000000 RATE_LIMIT_TRAINING_PER_HOUR=1000000
server_log="$artefacts/contract-server.log"

target/debug/scale serve >"$server_log" 2>&1 &
server=$!
stop() {
  kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" || true
}
trap stop EXIT

addr=""
deadline=$((SECONDS + 120))
while [ -z "$addr" ]; do
  kill -0 "$server" 2>/dev/null || { cat "$server_log" >&2; log "the server exited"; exit 1; }
  [ "$SECONDS" -lt "$deadline" ] || { log "the server did not listen within 120 s"; exit 1; }
  addr=$(grep -m1 '"message":"listening"' "$server_log" | sed -E 's/.*"addr":"([^"]+)".*/\1/' || true)
  [ -n "$addr" ] || sleep 0.2
done
log "contract fuzzing against http://$addr"

# A user with three months of statements (`scale seed`, the real import pipeline), so lists,
# analytics and forecasts answer with data and their schemas are checked on it.
seeded=$(target/debug/scale seed --users 1 --months 3 --ttl-secs 3600 2>/dev/null)
user=$(printf '%s' "$seeded" | python3 -c 'import json, sys; print(json.load(sys.stdin)["user_id"])')
token=$(printf '%s' "$seeded" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

schemathesis run "http://$addr/api/v1/openapi.json" \
  --url "http://$addr" \
  --checks not_a_server_error,status_code_conformance,response_schema_conformance \
  --max-examples "${CONTRACT_MAX_EXAMPLES:-10}" \
  --phases examples,coverage,fuzzing \
  --exclude-path-regex '/(events|stream|ws/jobs)$' \
  --exclude-name 'DELETE /api/v1/accounts/data' \
  --request-timeout 30 \
  --seed "${CONTRACT_SEED:-1}" \
  --workers 2 \
  -H "Authorization: Bearer $token" \
  --report junit --report-dir "$artefacts/schemathesis"

# Deleting all of the user's data, last: earlier, it would leave the other operations nothing.
schemathesis run "http://$addr/api/v1/openapi.json" \
  --url "http://$addr" \
  --checks not_a_server_error,status_code_conformance,response_schema_conformance \
  --max-examples "${CONTRACT_MAX_EXAMPLES:-10}" \
  --include-name 'DELETE /api/v1/accounts/data' \
  --seed "${CONTRACT_SEED:-1}" \
  -H "Authorization: Bearer $token" \
  --report junit --report-dir "$artefacts/schemathesis-delete"

# The operators' routes as an admin (as a user they only answer 403), all but the two that act:
# crashing an actor and starting chaos.
admin=$(target/debug/scale token --user "$user" --role admin --ttl-secs 3600)
schemathesis run "http://$addr/api/v1/openapi.json" \
  --url "http://$addr" \
  --checks not_a_server_error,status_code_conformance,response_schema_conformance \
  --max-examples "${CONTRACT_MAX_EXAMPLES:-10}" \
  --phases examples,coverage,fuzzing \
  --include-path-regex '^/api/v1/ops/' \
  --exclude-path-regex '/(crash|chaos|stream)$' \
  --request-timeout 30 \
  --seed "${CONTRACT_SEED:-1}" \
  --workers 2 \
  -H "Authorization: Bearer $admin" \
  --report junit --report-dir "$artefacts/schemathesis-admin"
