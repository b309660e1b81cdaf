// Package sdk runs the official Ably JavaScript SDK (npm "ably", pinned in
// package.json) against a real Herald server, to prove that unmodified Ably
// clients work with it.
//
// The specs are node:test files (*.test.mjs) sharing helpers.mjs; they
// provision their own apps through the sandbox-style POST /apps endpoint
// (body in fixtures/app-setup.json) and delete them when done.
//
// The Go side lives in sdk_test.go behind the "sdk" build tag, so plain
// `go test ./...` never needs Node. TestSDK builds the herald binary, opens
// a server on 127.0.0.1 with a temporary SQLite data dir in development mode
// (Basic auth over plain HTTP, POST /apps enabled), and runs `node --test`
// twice: once with the SDK speaking JSON and once MessagePack, the Node
// SDK's default (subtests "json" and "msgpack"). Node's output goes to the
// test log.
//
// To run it (Node 20 or later):
//
//	(cd test/sdk && npm ci)
//	go test -tags sdk -run TestSDK -v ./test/sdk/
//
// TestSDK skips itself when node or test/sdk/node_modules/ably is missing.
//
// The specs can also be pointed at a server started by hand:
//
//	herald serve --dev --listen 127.0.0.1:8080 &
//	cd test/sdk && HERALD_PORT=8080 HERALD_PROTOCOL=json node --test --test-reporter=spec
//
// In that mode specs that drive the CLI skip themselves unless HERALD_BIN and
// HERALD_DATA_DIR are set too. The environment the specs read is described
// at the top of helpers.mjs.
package sdk
