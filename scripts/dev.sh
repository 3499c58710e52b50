#!/usr/bin/env bash
# Runs the service locally: brings up PostgreSQL and Redis if needed, creates the database,
# then `scale serve` (which applies migrations first). Settings come from .env when present.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/services.sh

if [ -f .env ]; then
  set -a
  # shellcheck disable=SC1091
  . ./.env
  set +a
fi
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/scale}
export LOG_FORMAT=${LOG_FORMAT:-pretty}
export METRICS_ADDR=${METRICS_ADDR-127.0.0.1:9464}

ensure_services
ensure_database "$(basename "${DATABASE_URL%%\?*}")"
exec cargo run --release --bin scale -- serve
