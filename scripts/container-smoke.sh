#!/usr/bin/env bash
# Build the image and check that it runs, twice: against the PostgreSQL on 127.0.0.1:5432 (a
# throw-away database, user postgres, trust auth) and on its own SQLite. Each run must answer
# /readyz, serve the seed, run as a non-root user, pass its HEALTHCHECK, log JSON and stop
# cleanly on SIGTERM. Uses docker when an engine answers, else podman (prepared by
# ../shared/tools/container-engine-setup.sh). Whatever it starts is removed on exit.
# Every wait is bounded; the whole run takes about a minute once the base image exists.
set -euo pipefail
cd "$(dirname "$0")/.."

SETUP=../shared/tools/container-engine-setup.sh
PG_ADMIN=${SMOKE_PG_ADMIN:-postgresql://postgres@127.0.0.1:5432/postgres}
run_id="smoke$$"
image="localhost/aifacts:$run_id"
database="aifacts_$run_id"
containers=()
database_made=""

log() { echo "=== [container-smoke] $*"; }
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

if timeout 10 docker info >/dev/null 2>&1; then
  engine=docker
  build=(docker build --network host -t "$image" .)
else
  [ -f "$SETUP" ] || fail "no docker engine answers and $SETUP is missing"
  log "no docker engine answers: preparing podman with $SETUP"
  setup_log=$(mktemp)
  if ! timeout 900 bash "$SETUP" >"$setup_log" 2>&1; then
    cat "$setup_log" >&2
    fail "engine setup failed"
  fi
  tail -n 1 "$setup_log"
  rm -f "$setup_log"
  export CONTAINERS_CONF=${WORK:-/tmp/containers}/containers.conf
  export CONTAINERS_STORAGE_CONF=${WORK:-/tmp/containers}/storage.conf
  engine=podman
  # docker format keeps the HEALTHCHECK (OCI drops it); there is no registry to pull from;
  # without layers no intermediate image outlives the build.
  build=(podman build --pull=never --format docker --layers=false --network host -t "$image" .)
fi

psql_admin() { psql "$PG_ADMIN" -v ON_ERROR_STOP=1 -qAtc "$1"; }

cleanup() {
  local status=$?
  for name in "${containers[@]}"; do
    $engine rm -f -t 0 "$name" >/dev/null 2>&1 || true
  done
  $engine rmi -f "$image" >/dev/null 2>&1 || true
  if [ -n "$database_made" ]; then
    psql_admin "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" || true
  fi
  if [ $status -eq 0 ]; then log "passed"; else log "FAILED"; fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "building $image with $engine"
t0=$(date +%s)
if ! timeout 900 "${build[@]}" >/tmp/"$run_id"-build.log 2>&1; then
  tail -n 40 /tmp/"$run_id"-build.log >&2
  rm -f /tmp/"$run_id"-build.log
  fail "image build failed"
fi
rm -f /tmp/"$run_id"-build.log
log "built in $(($(date +%s) - t0)) s"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

health_status() {
  # podman 4 has no systemd timer here, so the check is run by hand; docker runs its own.
  if [ "$engine" = podman ]; then
    podman healthcheck run "$1" >/dev/null 2>&1 || true
  fi
  $engine inspect --format '{{.State.Health.Status}}' "$1" 2>/dev/null || echo unknown
}

# start NAME ARGS...: run the image detached (podman's complaint that this host has no systemd
# timer for the HEALTHCHECK is shown only if the start fails).
start() {
  local name=$1 out
  shift
  containers+=("$name")
  out=$($engine run -d --name "$name" --network host "$@" "$image" 2>&1) || fail "$name: $out"
}

# check NAME PORT: the checks every run must pass, then a clean stop.
check() {
  local name=$1 port=$2 base="http://127.0.0.1:$2" status i
  for i in $(seq 120); do
    status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$base/readyz" || true)
    [ "$status" = 200 ] && break
    if [ "$($engine inspect --format '{{.State.Running}}' "$name")" != true ]; then
      $engine logs "$name" >&2 || true
      fail "$name exited before it was ready"
    fi
    sleep 0.5
  done
  if [ "$status" != 200 ]; then
    $engine logs "$name" >&2 || true
    fail "$name: /readyz answered $status after 60 s"
  fi
  log "$name: /readyz 200 after ~$((i / 2)) s"

  curl -fsS --max-time 5 "$base/v1/models/deepseek-r1" |
    python3 -c 'import json, sys; m = json.load(sys.stdin); assert m["parameters"] == 671000000000, m' ||
    fail "$name: the seeded model is missing or wrong"
  log "$name: /v1/models/deepseek-r1 has parameters 671000000000"

  local uid
  uid=$($engine exec "$name" id -u)
  [ "$uid" != 0 ] || fail "$name runs as root"
  log "$name: runs as uid $uid"

  local health=unknown
  for i in $(seq 20); do
    health=$(health_status "$name")
    [ "$health" = healthy ] && break
    sleep 1
  done
  [ "$health" = healthy ] || fail "$name: HEALTHCHECK says $health"
  log "$name: HEALTHCHECK healthy"

  $engine logs "$name" 2>&1 | python3 -c '
import json, sys
entries = [json.loads(line) for line in sys.stdin if line.strip()]
access = [e for e in entries if e.get("logger") == "aifacts.access"]
assert any(e["route"] == "/v1/models/{id}" and e["status"] == 200 for e in access), access
' || fail "$name: the logs are not one JSON object per line with an access line"
  log "$name: logs are JSON, one line per request"

  local out code t1
  t1=$(date +%s%N)
  out=$($engine stop -t 25 "$name" 2>&1) || fail "$name: $out"
  code=$($engine inspect --format '{{.State.ExitCode}}' "$name")
  [ "$code" = 0 ] || fail "$name: exit code $code after SIGTERM"
  log "$name: stopped by SIGTERM in $((($(date +%s%N) - t1) / 1000000)) ms, exit code 0"
}

# (a) PostgreSQL on the host, reached over the host network
psql_admin "CREATE DATABASE \"$database\""
database_made=yes
port=$(free_port)
name="aifacts-$run_id-pg"
start "$name" -e PORT="$port" -e SEED_ON_START=true \
  -e DATABASE_URL="postgresql://postgres@127.0.0.1:5432/$database"
log "$name: started on port $port with PostgreSQL database $database"
check "$name" "$port"

# (b) the image alone: SQLite inside the container
port=$(free_port)
name="aifacts-$run_id-sqlite"
start "$name" -e PORT="$port"
log "$name: started on port $port with its own SQLite"
check "$name" "$port"
