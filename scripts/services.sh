#!/usr/bin/env bash
# Shared by dev.sh and test.sh: make sure local PostgreSQL and Redis answer on their standard
# ports, starting them (or installing them from Debian's packages) when they do not.
set -euo pipefail

PG_HOST=127.0.0.1
PG_PORT=5432
REDIS_PORT=6379

log() { printf '==> %s\n' "$*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() {
  local port=$1 name=$2
  for _ in $(seq 1 100); do
    port_open "$port" && return 0
    sleep 0.1
  done
  log "$name did not come up on port $port"
  return 1
}

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    log "need root to install $*; install them and re-run"
    return 1
  fi
  log "installing $* from Debian packages"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The Python-packaged linters and schemathesis, pinned in scripts/python-tools.txt, in a venv under
# target/ (re-created when the pins change), put first on PATH.
ensure_python_tools() {
  local venv=target/tools-venv pins=scripts/python-tools.txt
  if ! cmp -s "$pins" "$venv/python-tools.txt"; then
    python3 -c 'import ensurepip' 2>/dev/null || apt_install python3 python3-venv
    log "installing $(grep -cv '^#' "$pins") Python tools into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$pins"
    cp "$pins" "$venv/python-tools.txt"
  fi
  PATH="$PWD/$venv/bin:$PATH"
  export PATH
}

ensure_postgres() {
  if port_open "$PG_PORT"; then return 0; fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    apt_install postgresql postgresql-client
    # Local development and CI only: trust loopback connections, as this machine kind does.
    local hba
    hba=$(ls /etc/postgresql/*/main/pg_hba.conf | head -1)
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -1)
  log "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for_port "$PG_PORT" PostgreSQL
}

ensure_redis() {
  if port_open "$REDIS_PORT"; then return 0; fi
  if ! command -v redis-server >/dev/null 2>&1; then
    apt_install redis-server
  fi
  log "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/scale-dev.log
  wait_for_port "$REDIS_PORT" Redis
}

ensure_psql() {
  command -v psql >/dev/null 2>&1 || apt_install postgresql-client
}

# Creates database $1 on the local server unless it exists.
ensure_database() {
  local name=$1
  ensure_psql
  if ! psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
    log "creating database $name"
    psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -qc "CREATE DATABASE \"$name\""
  fi
}

# Prometheus and promtool (the end-to-end scrape test and the alert-rule tests).
ensure_prometheus() {
  command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || apt_install prometheus
}

# Load generators used by `scale bench` (pgbench ships with the PostgreSQL client).
ensure_bench_tools() {
  command -v pgbench >/dev/null 2>&1 || apt_install postgresql-client
  command -v wrk >/dev/null 2>&1 || apt_install wrk
}

ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    # shellcheck disable=SC1091
    [ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
  fi
  command -v cargo >/dev/null 2>&1 || { log "cargo not found: install the Rust toolchain"; return 1; }
}

ensure_services() {
  ensure_rust
  ensure_postgres
  ensure_redis
  ensure_bench_tools
}

# The browsers of the ops dashboard's browser tests: Chromium with its WebDriver, and Firefox
# (which speaks WebDriver BiDi itself). Not fatal: without one, its test says it skipped.
ensure_browser() {
  if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    apt_install chromium chromium-driver || log "cannot install chromium; its browser test will skip"
  fi
  command -v firefox-esr >/dev/null 2>&1 \
    || apt_install firefox-esr || log "cannot install firefox-esr; its browser test will skip"
}
