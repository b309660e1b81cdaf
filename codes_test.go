package herald_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/heraldrt/herald"
)

// The documented exceptions to status = code/100 (ably-auth §10, and
// docs/errors.md for the 8xxxx/9xxxx codes, which have no such convention).
var statusExceptions = map[int]int{
	herald.CodeMessageTooLarge: 413,
	herald.CodeInvalidClientID: 400, // 40012 = 400 anyway; listed as documented
	herald.CodeResumeFailed:    400,
	herald.CodeIncompatibleRec: 400,
	herald.CodeConnectionLost:  500,
	herald.CodePresenceNoID:    400,
}

func TestCodeTable_StatusIsCodeOver100(t *testing.T) {
	for _, code := range herald.Codes() {
		want := code / 100
		if s, ok := statusExceptions[code]; ok {
			want = s
		}
		if got := herald.StatusFor(code); got != want {
			t.Errorf("StatusFor(%d) = %d, want %d", code, got, want)
		}
		if herald.DefaultMessage(code) == "Error" || herald.DefaultMessage(code) == "" {
			t.Errorf("code %d has no default message", code)
		}
	}
}

func TestStatusFor_UnknownCodes(t *testing.T) {
	for code, want := range map[int]int{40099: 400, 40399: 403, 50099: 500, 12: 500, 99999: 500} {
		if got := herald.StatusFor(code); got != want {
			t.Errorf("StatusFor(%d) = %d, want %d", code, got, want)
		}
	}
}

func TestError_Fields(t *testing.T) {
	e := herald.Errorf(herald.CodeCapabilityDenied, "publish denied on %q", "x")
	if e.Code != 40160 || e.StatusCode != 401 || e.Message != `publish denied on "x"` || e.Href != "https://help.ably.io/error/40160" {
		t.Fatalf("unexpected %+v", e)
	}
	if d := herald.NewError(herald.CodeTokenExpired, ""); d.Message != "Token expired" {
		t.Errorf("default message = %q", d.Message)
	}
	if w := e.WithStatus(403); w.StatusCode != 403 || e.StatusCode != 401 {
		t.Errorf("WithStatus must copy: %d %d", w.StatusCode, e.StatusCode)
	}
}

func TestError_TokenErrorRange(t *testing.T) {
	for code, want := range map[int]bool{40139: false, 40140: true, 40142: true, 40149: true, 40150: false, 40101: false} {
		if got := herald.NewError(code, "x").IsTokenError(); got != want {
			t.Errorf("IsTokenError(%d) = %v, want %v", code, got, want)
		}
	}
	// ably-go requires statusCode 401 too (isTokenError).
	if herald.NewError(40142, "x").WithStatus(400).IsTokenError() {
		t.Error("a 40142 with status 400 is not a token error")
	}
}

func TestAsError_WrapsUnknownAsInternal(t *testing.T) {
	cause := errors.New("disk on fire")
	e := herald.AsError(fmt.Errorf("store: %w", cause))
	if e.Code != herald.CodeInternal || e.StatusCode != 500 {
		t.Fatalf("got %+v", e)
	}
	if e.Message == "" || e.Message == "store: disk on fire" {
		t.Errorf("internal detail must not be the wire message: %q", e.Message)
	}
	if !errors.Is(e, cause) {
		t.Error("cause must stay reachable for logs")
	}
	orig := herald.NewError(40160, "no")
	if herald.AsError(fmt.Errorf("ctx: %w", orig)) != orig {
		t.Error("AsError must find a wrapped *Error")
	}
}
