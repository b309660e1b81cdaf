package auth_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

// capMatchCase says which channels a single resource must and must not match.
type capMatchCase struct {
	name     string
	resource string
	match    []string
	noMatch  []string
}

func capCheckMatches(t *testing.T, tests []capMatchCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustCap(t, `{"`+tt.resource+`":["subscribe"]}`)
			ps, err := auth.NewPatternSet([]string{tt.resource})
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range tt.match {
				if !c.Allows(ch, auth.OpSubscribe) {
					t.Errorf("%q does not match %q", tt.resource, ch)
				}
				if _, ok := ps.Match(ch); !ok {
					t.Errorf("PatternSet %q does not match %q", tt.resource, ch)
				}
			}
			for _, ch := range tt.noMatch {
				if c.Allows(ch, auth.OpSubscribe) {
					t.Errorf("%q matches %q", tt.resource, ch)
				}
				if _, ok := ps.Match(ch); ok {
					t.Errorf("PatternSet %q matches %q", tt.resource, ch)
				}
			}
		})
	}
}

// TestCapability_Allows_Table has one case per row of the ably-auth §5.3
// table, plus the qualifier rules under it.
func TestCapability_Allows_Table(t *testing.T) {
	capCheckMatches(t, []capMatchCase{
		{"star matches every normal channel", "*",
			[]string{"foo", "foo:bar", "a:b:c", "foo*", "[?rewind=1]foo", "room::$chat"},
			[]string{"[queue]q", "[meta]log", "[meta?x=1]log", "[queue]foo:bar"}},
		{"ns:* needs a second segment", "ns:*",
			[]string{"ns:a", "ns:a:b", "ns:", "[?rewind=1]ns:a"},
			[]string{"ns", "nsx:a", "x:ns:a", "[meta]ns:a"}},
		{"mid star is exactly one segment", "foo:*:baz",
			[]string{"foo:bar:baz", "foo::baz"},
			[]string{"foo:bar:bam:baz", "foo:baz", "foo:bar:baz:x", "foo:bar"}},
		{"foo* is a literal", "foo*",
			[]string{"foo*"},
			[]string{"foo", "foobar", "foo:bar", "foo*:x"}},

		{"exact name", "chat:room1",
			[]string{"chat:room1", "[?rewind=1]chat:room1"},
			[]string{"chat:room", "chat:room1:x", "chat", "[meta]chat:room1"}},
		{"star then literal", "*:bar",
			[]string{"foo:bar", "x:bar"},
			[]string{"bar", "foo:bar:baz", "foo:baz"}},
		{"star star", "*:*",
			[]string{"a:b", "a:b:c"},
			[]string{"a"}},
		{"queue exact", "[queue]q1",
			[]string{"[queue]q1"},
			[]string{"q1", "[meta]q1", "[queue]q2"}},
		{"all queues", "[queue]*",
			[]string{"[queue]q1", "[queue]a:b"},
			[]string{"q1", "[meta]log"}},
		{"all metachannels", "[meta]*",
			[]string{"[meta]log", "[meta]channel.lifecycle", "[meta]stats:minute", "[meta?x=1]log"},
			[]string{"log", "[queue]log"}},
		{"meta namespace", "[meta]stats:*",
			[]string{"[meta]stats:minute"},
			[]string{"[meta]stats", "stats:minute"}},
		// §5.3: the sandbox all-access key is {"[*]*":["*"]}, so it must
		// match plain channels too.
		{"[*]* matches everything", "[*]*",
			[]string{"foo", "foo:bar", "[queue]q", "[meta]log", "[?rewind=1]foo", "[meta?a=b]log"},
			nil},
		{"[*] literal in every class", "[*]log",
			[]string{"log", "[meta]log", "[queue]log"},
			[]string{"log:x", "[meta]logs"}},
		{"params on the resource are ignored", "[?rewind=1]chat:*",
			[]string{"chat:a", "[?delta=vcdiff]chat:a"},
			[]string{"chat", "[meta]chat:a"}},
		{"meta params on the resource", "[meta?x=1]log",
			[]string{"[meta]log", "[meta?y=2]log"},
			[]string{"log"}},
		{"invalid channel names match nothing", "*",
			nil,
			[]string{"", ":foo", "[foo]x", "[*]x", "[meta]", "[meta", "[]x"}},
	})
}

func TestCapability_Allows_Ops(t *testing.T) {
	c := mustCap(t, `{"chat:*":["publish","subscribe"],"chat:room1":["presence"],"notifications":["subscribe"],"*":["history"]}`)
	tests := []struct {
		channel string
		op      auth.Op
		want    bool
	}{
		{"chat:room1", auth.OpPublish, true},  // from chat:*
		{"chat:room1", auth.OpPresence, true}, // from the exact resource
		{"chat:room1", auth.OpHistory, true},  // from *
		{"chat:room2", auth.OpPresence, false},
		{"notifications", auth.OpSubscribe, true},
		{"notifications", auth.OpPublish, false},
		{"other", auth.OpHistory, true},
		{"other", auth.OpSubscribe, false},
		{"[meta]log", auth.OpHistory, false},
		{"chat:room1", auth.Op(0), false},
		{"chat:room1", auth.Op(99), false},
	}
	for _, tt := range tests {
		if got := c.Allows(tt.channel, tt.op); got != tt.want {
			t.Errorf("Allows(%q, %v) = %v, want %v", tt.channel, tt.op, got, tt.want)
		}
	}
	var nilCap *auth.Capability
	if nilCap.Allows("x", auth.OpSubscribe) || nilCap.Modes("x") != 0 || nilCap.AllowsAppWide(auth.OpStats) {
		t.Error("a nil capability grants something")
	}
}

func TestCapability_Modes(t *testing.T) {
	c := mustCap(t, `{"chat:*":["publish","subscribe"],"chat:room1":["presence"],"[*]*":["history"],"[queue]*":["*"]}`)
	tests := []struct {
		channel string
		want    auth.OpSet
	}{
		{"chat:room1", auth.OpSetOf(auth.OpPublish, auth.OpSubscribe, auth.OpPresence, auth.OpHistory)},
		{"chat:room2", auth.OpSetOf(auth.OpPublish, auth.OpSubscribe, auth.OpHistory)},
		{"other", auth.OpSetOf(auth.OpHistory)},
		{"[meta]log", auth.OpSetOf(auth.OpHistory)},
		{"[queue]q", auth.AllOps},
		{"[bad]x", 0},
	}
	for _, tt := range tests {
		if got := c.Modes(tt.channel); got != tt.want {
			t.Errorf("Modes(%q) = %v, want %v", tt.channel, got, tt.want)
		}
	}
}

func TestCapability_AllowsAppWide(t *testing.T) {
	tests := []struct {
		capability string
		op         auth.Op
		want       bool
	}{
		{`{"*":["stats"]}`, auth.OpStats, true},
		{`{"[*]*":["*"]}`, auth.OpStats, true},
		{`{"[?x=1]*":["stats"]}`, auth.OpStats, true},
		{`{"*":["channel-metadata"]}`, auth.OpChannelMetadata, true},
		{`{"*":["subscribe"]}`, auth.OpStats, false},
		{`{"chat:*":["*"]}`, auth.OpStats, false},
		{`{"stats":["stats"]}`, auth.OpStats, false},
		{`{"[meta]*":["*"]}`, auth.OpStats, false},
		{`{"*:*":["*"]}`, auth.OpChannelMetadata, false},
	}
	for _, tt := range tests {
		if got := mustCap(t, tt.capability).AllowsAppWide(tt.op); got != tt.want {
			t.Errorf("%s AllowsAppWide(%v) = %v, want %v", tt.capability, tt.op, got, tt.want)
		}
	}
}

func TestCapability_Explain(t *testing.T) {
	tests := []struct {
		name       string
		capability string
		channel    string
		op         auth.Op
		want       auth.Decision
		message    string
	}{
		{
			name:       "denied by a wildcard resource",
			capability: `{"chat:*":["subscribe"],"notifications":["subscribe"]}`,
			channel:    "chat:room1", op: auth.OpPublish,
			want:    auth.Decision{Channel: "chat:room1", Op: auth.OpPublish, Pattern: "chat:*", Matched: []string{"chat:*"}, Granted: []string{"subscribe"}},
			message: `publish denied on "chat:room1": capability grants ["subscribe"] via "chat:*"`,
		},
		{
			name:       "no resource matches",
			capability: `{"chat:*":["subscribe"],"notifications":["subscribe"]}`,
			channel:    "x", op: auth.OpSubscribe,
			want:    auth.Decision{Channel: "x", Op: auth.OpSubscribe, Resources: []string{"chat:*", "notifications"}},
			message: `subscribe denied on "x": no capability resource matches "x" (resources: "chat:*", "notifications")`,
		},
		{
			name:       "allowed by the most specific granting resource",
			capability: `{"*":["subscribe"],"chat:*":["publish"],"chat:room1":["presence"]}`,
			channel:    "chat:room1", op: auth.OpPublish,
			want: auth.Decision{Channel: "chat:room1", Op: auth.OpPublish, Allowed: true, Pattern: "chat:*",
				Matched: []string{"chat:room1", "chat:*", "*"}, Granted: []string{"presence", "publish", "subscribe"}},
			message: `publish allowed on "chat:room1" via "chat:*"`,
		},
		{
			name:       "denied with several matches",
			capability: `{"[*]*":["history"],"chat:*":["subscribe"]}`,
			channel:    "chat:room1", op: auth.OpPublish,
			want: auth.Decision{Channel: "chat:room1", Op: auth.OpPublish, Pattern: "chat:*",
				Matched: []string{"chat:*", "[*]*"}, Granted: []string{"history", "subscribe"}},
			message: `publish denied on "chat:room1": capability grants ["history","subscribe"] via "chat:*", "[*]*"`,
		},
		{
			name:       "star grants",
			capability: `{"*":["*"]}`,
			channel:    "a", op: auth.OpPublish,
			want:    auth.Decision{Channel: "a", Op: auth.OpPublish, Allowed: true, Pattern: "*", Matched: []string{"*"}, Granted: []string{"*"}},
			message: `publish allowed on "a" via "*"`,
		},
		{
			name:       "invalid channel",
			capability: `{"*":["*"]}`,
			channel:    "[foo]x", op: auth.OpPublish,
			want:    auth.Decision{Channel: "[foo]x", Op: auth.OpPublish},
			message: `publish denied on "[foo]x": channel name has an unknown qualifier "[foo]"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustCap(t, tt.capability)
			got := c.Explain(tt.channel, tt.op)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Explain (-want +got):\n%s", diff)
			}
			if m := got.Message(); m != tt.message {
				t.Errorf("Message() = %s\nwant        %s", m, tt.message)
			}
			if got.Allowed {
				return
			}
			err := c.DeniedError(tt.channel, tt.op)
			wantCapErr(t, err, herald.CodeCapabilityDenied, 401, tt.message)
		})
	}
}

func TestCapability_Explain_LongLists(t *testing.T) {
	c := mustCap(t, capManyResources(25))
	m := c.Explain("nomatch", auth.OpPublish).Message()
	if !strings.Contains(m, `"r17", and 15 more)`) {
		t.Errorf("message does not cut the resource list: %s", m)
	}
	var nilCap *auth.Capability
	if m := nilCap.Explain("x", auth.OpPublish).Message(); m != `publish denied on "x": no capability` {
		t.Errorf("nil capability message = %s", m)
	}
}

func TestValidateChannelName(t *testing.T) {
	valid := []string{"a", "chat:room1", "room::$chat", "foo*", "a:", "[meta]log", "[queue]q", "[?rewind=1]chat",
		"[meta?x=1]log", "[queue?x]q", "é", strings.Repeat("x", auth.MaxChannelNameBytes), "a]b", "a[b"}
	for _, name := range valid {
		if err := auth.ValidateChannelName(name); err != nil {
			t.Errorf("ValidateChannelName(%q) = %v", name, err)
		}
	}
	invalid := []struct{ name, fragment string }{
		{"", "is empty"},
		{":foo", "starts with ':'"},
		{"[foo]x", `unknown qualifier "[foo]"`},
		{"[*]*", `unknown qualifier "[*]"`},
		{"[]x", `unknown qualifier "[]"`},
		{"[meta", "unterminated"},
		{"[meta]", "no name after"},
		{"[meta]:x", "starts with ':' after"},
		{"[meta][queue]x", "second qualifier"},
		{"a\nb", "line break"},
		{"a\rb", "line break"},
		{strings.Repeat("x", auth.MaxChannelNameBytes+1), "longer than 2048 bytes"},
	}
	for _, tt := range invalid {
		wantCapErr(t, auth.ValidateChannelName(tt.name), herald.CodeInvalidChannelName, 400, "invalid channel name", tt.fragment)
	}
}

func TestCompareSpecificity(t *testing.T) {
	// Most specific first; each pattern matches "chat:room1:x" where it can.
	ordered := []string{
		"chat:room1:x",     // exact name
		"[*]chat:room1:x",  // exact, but [*]
		"chat:room1:*",     // longer literal prefix
		"chat:*:x",         // prefix 1, one wildcard, fixed length 3
		"chat:*:*",         // prefix 1, two wildcards
		"chat:*",           // prefix 1, two segments
		"[*]chat:*",        // same, [*]
		"*:room1:x",        // prefix 0, one wildcard
		"*:*:x",            // prefix 0, two wildcards, fixed
		"*:room1:*",        // prefix 0, two wildcards, trailing
		"*",                // the plain catch-all
		"[*]*",             // the catch-all of everything
		"[bad]invalid:pat", // invalid last
	}
	got := slices.Clone(ordered)
	slices.Reverse(got)
	slices.SortStableFunc(got, auth.CompareSpecificity)
	if diff := cmp.Diff(ordered, got); diff != "" {
		t.Errorf("sorted by CompareSpecificity (-want +got):\n%s", diff)
	}
	if c := auth.CompareSpecificity("a", "[?x=1]a"); c != 0 {
		t.Errorf("params changed specificity: %d", c)
	}
}

func TestMostSpecific(t *testing.T) {
	// §4.3's example: chat1 -> admin, chat:* -> moderator, * -> guest.
	patterns := []string{"*", "chat:*", "chat1", "[*]*", "chat:*:x", "[meta]*", "[bad]x", "chat:*:*", "*:x"}
	tests := []struct {
		channel string
		want    int
		ok      bool
	}{
		{"chat1", 2, true},
		{"chat:a", 1, true},
		{"chat:a:x", 4, true},
		{"chat:a:b", 7, true},
		{"y:x", 8, true},
		{"other", 0, true},
		{"[meta]log", 5, true},
		{"[queue]q", 3, true},
		{"[bad]x", -1, false},
	}
	// NewPatternSet rejects invalid patterns, so it gets the valid ones and
	// is checked by pattern rather than index.
	ps, err := auth.NewPatternSet(slices.DeleteFunc(slices.Clone(patterns), func(p string) bool { return p == "[bad]x" }))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		i, ok := auth.MostSpecific(patterns, tt.channel)
		if i != tt.want || ok != tt.ok {
			t.Errorf("MostSpecific(%q) = %d, %v; want %d, %v", tt.channel, i, ok, tt.want, tt.ok)
		}
		j, ok := ps.Match(tt.channel)
		if ok != tt.ok || (ok && ps.Pattern(j) != patterns[tt.want]) {
			t.Errorf("PatternSet.Match(%q) = %d, %v", tt.channel, j, ok)
		}
	}
	if _, ok := auth.MostSpecific(nil, "x"); ok {
		t.Error("MostSpecific(nil) matched")
	}
	// Ties go to the lower index.
	if i, _ := auth.MostSpecific([]string{"[?a=1]x", "x"}, "x"); i != 0 {
		t.Errorf("tie went to %d", i)
	}
	ps2, err := auth.NewPatternSet([]string{"[?a=1]x", "x", "*", "*"})
	if err != nil {
		t.Fatal(err)
	}
	if i, _ := ps2.Match("x"); i != 0 {
		t.Errorf("PatternSet tie went to %d", i)
	}
	if i, _ := ps2.Match("y"); i != 2 {
		t.Errorf("PatternSet tie went to %d", i)
	}
	if ps2.Len() != 4 {
		t.Errorf("Len() = %d", ps2.Len())
	}
}

func TestNewPatternSet_Invalid(t *testing.T) {
	_, err := auth.NewPatternSet([]string{"ok", ":bad"})
	wantCapErr(t, err, herald.CodeBadRequest, 400, `":bad"`, "starts with ':'")
}

// TestPatternSet_MatchesMostSpecific checks the indexed PatternSet against
// the plain scan on random pattern sets.
func TestPatternSet_MatchesMostSpecific(t *testing.T) {
	r := newCapRand(7)
	for range 2000 {
		patterns := make([]string, 1+r.IntN(6))
		for i := range patterns {
			patterns[i] = r.resource()
		}
		ps, err := auth.NewPatternSet(patterns)
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			ch := r.channel()
			want, wok := auth.MostSpecific(patterns, ch)
			got, ok := ps.Match(ch)
			if got != want || ok != wok {
				t.Fatalf("patterns %q channel %q: Match = %d, %v; MostSpecific = %d, %v", patterns, ch, got, ok, want, wok)
			}
		}
	}
}

// TestCompareSpecificity_Inclusion checks that the specificity order agrees
// with set inclusion: a pattern whose channels are a strict subset of
// another's is always more specific. Covering is cross-checked on samples.
func TestCompareSpecificity_Inclusion(t *testing.T) {
	r := newCapRand(3)
	strict := 0
	for range 20000 {
		a, b := r.resource(), r.resource()
		if !auth.CoversForTest(a, b) {
			continue
		}
		ca := mustCap(t, `{"`+a+`":["publish"]}`)
		cb := mustCap(t, `{"`+b+`":["publish"]}`)
		for _, ch := range capSampleChannels([]string{a, b}, r.channel()) {
			if cb.Allows(ch, auth.OpPublish) && !ca.Allows(ch, auth.OpPublish) {
				t.Fatalf("%q is said to cover %q but misses %q", a, b, ch)
			}
		}
		if auth.CoversForTest(b, a) {
			continue // same channels
		}
		strict++
		if c := auth.CompareSpecificity(b, a); c >= 0 {
			t.Errorf("%q is a strict subset of %q but CompareSpecificity = %d", b, a, c)
		}
	}
	if strict < 100 {
		t.Errorf("only %d strict inclusions sampled", strict)
	}
}
