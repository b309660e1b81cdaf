package main

import (
	"context"
	"strings"
	"testing"

	"github.com/heraldrt/herald/loadgen"
)

// TestSmoke keeps the load generator from rotting: every scenario runs
// against an in-process server with tiny N, in JSON and MessagePack, and
// must finish without a failure or a lost message. Speed is never checked.
func TestSmoke(t *testing.T) {
	results, err := runSmoke(context.Background(), t.TempDir(), nil)
	if err != nil {
		var b strings.Builder
		loadgen.WriteTable(&b, results)
		t.Fatalf("smoke run failed:\n%v\n\nresults:\n%s", err, b.String())
	}
	if len(results) < 20 {
		t.Fatalf("only %d results", len(results))
	}
}
