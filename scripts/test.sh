#!/usr/bin/env bash
# Runs every Herald test: go vet, the race-enabled Go suite (which includes
# the load generator's smoke run), the SDK interop suite (official `ably` npm
# package, JSON and msgpack passes) and the dashboard's browser test
# (playwright-core driving Debian's chromium). Installs what it needs (npm
# packages; chromium with apt-get); needs Go, Node 20, npm and apt.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== go vet"
go vet ./...
go vet -tags sdk ./test/sdk/

echo "== go test -race ./..."
go test -race -count=1 ./...

echo "== SDK interop (npm ably)"
(cd test/sdk && npm ci --no-audit --no-fund --loglevel=error)
go test -tags sdk -count=1 -timeout 15m -v ./test/sdk/

echo "== dashboard browser test (playwright-core + Debian chromium)"
bash test/browser/run.sh
echo "all tests passed"
