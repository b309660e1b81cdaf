#!/usr/bin/env bash
# Runs every Herald test: go vet, the race-enabled Go suite, and the SDK
# interop suite (official `ably` npm package, JSON and msgpack passes).
# Installs what it needs (npm packages); needs Go, Node 20 and npm.
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
echo "all tests passed"
