#!/usr/bin/env bash
# Fuzz the API against its own OpenAPI document: a seeded server on a throw-away database
# (SQLite by default; SCHEMATHESIS_DATABASE_URL for another), every check, every operation.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

workdir=$(mktemp -d)
port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DATABASE_URL="${SCHEMATHESIS_DATABASE_URL:-sqlite:///$workdir/schemathesis.db}"
export HOST=127.0.0.1 PORT=$port LOG_LEVEL=warning

$PY -m app.cli migrate >/dev/null
$PY -m app.cli seed >/dev/null
# A write-scope key, so the write operations are reached (not just their 401s).
KEY=$($PY -m app.cli keys create schemathesis --scope write 2>/dev/null)
$PY -m app.cli serve >"$workdir/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$workdir"
}
trap cleanup EXIT

for _ in $(seq 50); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

status=0
.venv/bin/schemathesis run "http://127.0.0.1:$port/openapi.json" \
  --checks all \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-60}" \
  --phases examples,coverage,fuzzing \
  --seed 1 \
  --no-color \
  --request-timeout 10 \
  -H "Authorization: Bearer $KEY" || status=$?

if grep -q "Traceback" "$workdir/server.log"; then
  echo "server logged a traceback:" >&2
  cat "$workdir/server.log" >&2
  status=1
fi
exit $status
