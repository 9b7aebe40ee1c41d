#!/usr/bin/env bash
# Load figures for the public read routes under waitress, with rate limits off (GHOSTSHELL_RATE_LIMIT=off).
#   benchmarks/load.sh [seconds per route, default 10]
# Needs wrk (apt-get install wrk). Traffic goes only to 127.0.0.1. Prints wrk's figures; asserts nothing.
# On a 2-core machine wrk and the server share the cores: compare runs on one machine, not across machines.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 2; }
work="$(mktemp -d)"
port=$(.venv/bin/python -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
base="http://127.0.0.1:$port"
export DATABASE_URL="sqlite:///$work/load.db" BASE_URL="$base" GHOSTSHELL_RATE_LIMIT=off GHOSTSHELL_TEST_CHECKOUT=1
.venv/bin/python -m api serve --port "$port" > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -sf "$base/api/health" >/dev/null && break; sleep 0.2; done

token=$(curl -sf -H 'Content-Type: application/json' -d '{"recovery_email":"load@example.com"}' \
  "$base/api/cert/test-checkout" | .venv/bin/python -c "import json,sys; print(json.load(sys.stdin)['token'])")
public_id=$(curl -sf -H 'Content-Type: application/json' -d "{\"token\":\"$token\",\"agent_name\":\"Load Agent\",
  \"declared_ontological_status\":\"Tool\",\"inception_date\":\"2026-01-01\",\"place_country\":\"Australia\",
  \"listed\":true}" "$base/api/cert/redeem-token" | .venv/bin/python -c "import json,sys; print(json.load(sys.stdin)['public_id'])")

for path in "/api/health" "/api/cert/lookup?id=$public_id" "/api/registry/search?q=load" "/api/registry/search?q=GS-BC-H"; do
  echo "== GET $path (${seconds}s, 4 connections, 2 threads)"
  wrk -t2 -c4 -d"${seconds}s" --latency "$base$path" | grep -E "Requests/sec|Latency|50%|99%|Non-2xx"
done
