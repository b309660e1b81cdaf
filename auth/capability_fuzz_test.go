package auth_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

// FuzzCapability parses two capabilities and a channel name and checks:
// nothing panics; errors are 40000/400 (parse) or 40160/401 (empty
// intersection); Raw is the input; the canonical form is valid JSON and a
// fixed point (canonical(parse(canonical(x))) == canonical(x)); Allows, Modes
// and Explain agree; x ∩ x, by the general pairwise path, grants exactly
// what x grants; and x ∩ y grants exactly what both grant, on channels
// sampled from their resources. The seed corpus is in
// testdata/fuzz/FuzzCapability.
func FuzzCapability(f *testing.F) {
	seeds := [][3]string{
		{`{"*":["*"]}`, `{"chat:*":["publish"]}`, "chat:room1"},
		{`{"[*]*":["*"]}`, `{"[meta]*":["subscribe"],"x":["history"]}`, "[meta]log"},
		{capSandboxKey1, `{"canpublish:check":["publish"]}`, "canpublish:check"},
		{`{"foo:*":["publish","subscribe"]}`, `{"*:bar":["*"]}`, "foo:bar"},
		{`{"a:*:c":["presence"],"[queue]q":["subscribe"]}`, `{"*:b:*":["presence"]}`, "[queue]q"},
		{`{"[?rewind=1]x":["history"]}`, `{"[*]x":["*"]}`, "[?delta=vcdiff]x"},
		{`{"channel0":["publish_"]}`, `{"channel0":["*","publish"]}`, ":bad"},
		{`{"a":["publish"],"a":["subscribe"]}`, `{}`, "[foo]x"},
		{`{"\u0061\"\\":["stats"]}`, `{"room::$chat":["object-publish"]}`, "room::$chat"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, a, b, channel string) {
		_ = auth.ValidateChannelName(channel)
		ca := capFuzzParse(t, a)
		cb := capFuzzParse(t, b)
		if ca == nil {
			return
		}
		channels := capSampleChannels(capFirstN(ca.Resources(), 16), channel)
		for _, ch := range channels {
			modes := ca.Modes(ch)
			for op := auth.OpAnnotationPublish; op <= auth.OpSubscribe; op++ {
				allowed := ca.Allows(ch, op)
				if modes.Has(op) != allowed {
					t.Fatalf("%s: Modes(%q) = %v but Allows(%v) = %v", a, ch, modes, op, allowed)
				}
			}
		}
		d := ca.Explain(channel, auth.OpPublish)
		if d.Allowed != ca.Allows(channel, auth.OpPublish) {
			t.Fatalf("Explain and Allows disagree on %q", channel)
		}
		_ = d.Message()
		if self, err := auth.MeetForTest(ca, ca); !capTooLarge(t, err) {
			capCheckExact(t, ca, ca, self, channels)
		}
		if cb == nil {
			return
		}
		channels = append(channels, capSampleChannels(capFirstN(cb.Resources(), 16))...)
		if got, err := auth.Intersect(ca, cb); !capTooLarge(t, err) {
			capCheckExact(t, ca, cb, got, channels)
		}
	})
}

// capFuzzParse parses s, checking the invariants of a parsed capability; it
// returns nil when s is invalid.
func capFuzzParse(t *testing.T, s string) *auth.Capability {
	t.Helper()
	c, err := auth.ParseCapability(s)
	if err != nil {
		var he *herald.Error
		if !errors.As(err, &he) || he.Code != herald.CodeBadRequest || he.StatusCode != 400 {
			t.Fatalf("ParseCapability(%q) error %v, want 40000/400", s, err)
		}
		return nil
	}
	if c.Raw() != s {
		t.Fatalf("Raw() = %q, want the input %q", c.Raw(), s)
	}
	capCheckCanonical(t, c)
	return c
}

// capCheckCanonical checks that c's canonical form is JSON and a fixed point.
func capCheckCanonical(t *testing.T, c *auth.Capability) {
	t.Helper()
	canon := c.Canonical()
	var m map[string][]string
	if err := json.Unmarshal([]byte(canon), &m); err != nil {
		t.Fatalf("canonical form %q is not JSON: %v", canon, err)
	}
	again, err := auth.ParseCapability(canon)
	if err != nil {
		t.Fatalf("canonical form %q does not parse: %v", canon, err)
	}
	if again.Canonical() != canon {
		t.Fatalf("canonical(parse(%q)) = %q", canon, again.Canonical())
	}
}

// capCheckExact checks that got (nil after an error) grants exactly what both
// a and b grant on every channel in channels.
func capCheckExact(t *testing.T, a, b, got *auth.Capability, channels []string) {
	t.Helper()
	if got != nil {
		capCheckCanonical(t, got)
	}
	for _, ch := range channels {
		want := a.Modes(ch) & b.Modes(ch)
		if g := got.Modes(ch); g != want {
			t.Fatalf("%s ∩ %s = %v grants %v on %q, want %v", a.Raw(), b.Raw(), got, g, ch, want)
		}
	}
}

// capTooLarge checks an Intersect error: nil, 40160/401 for an empty result
// (checked further by checkExact), or 40000/400 for a result over the limits,
// which it reports so that the caller skips the comparison.
func capTooLarge(t *testing.T, err error) bool {
	t.Helper()
	if err == nil {
		return false
	}
	var he *herald.Error
	switch {
	case !errors.As(err, &he):
		t.Fatalf("Intersect error %v (%T), want *herald.Error", err, err)
	case he.Code == herald.CodeCapabilityDenied && he.StatusCode == 401:
		return false
	case he.Code == herald.CodeBadRequest && he.StatusCode == 400:
		return true
	default:
		t.Fatalf("Intersect error %v, want 40160/401 or 40000/400", err)
	}
	return false
}

func capFirstN(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
