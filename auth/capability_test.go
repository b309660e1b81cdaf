package auth_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

// mustCap parses s or fails the test.
func mustCap(tb testing.TB, s string) *auth.Capability {
	tb.Helper()
	c, err := auth.ParseCapability(s)
	if err != nil {
		tb.Fatalf("ParseCapability(%q): %v", s, err)
	}
	return c
}

// wantCapErr checks that err is a *herald.Error with code and status and that
// its message contains every fragment.
func wantCapErr(tb testing.TB, err error, code, status int, fragments ...string) {
	tb.Helper()
	var he *herald.Error
	if !errors.As(err, &he) {
		tb.Fatalf("error = %v (%T), want *herald.Error %d", err, err, code)
	}
	if he.Code != code || he.StatusCode != status {
		tb.Errorf("error code/status = %d/%d, want %d/%d (%s)", he.Code, he.StatusCode, code, status, he.Message)
	}
	for _, f := range fragments {
		if !strings.Contains(he.Message, f) {
			tb.Errorf("error message %q does not contain %q", he.Message, f)
		}
	}
}

func TestParseCapability_Valid(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		canonical string
		resources []string
	}{
		{"all", `{"*":["*"]}`, `{"*":["*"]}`, []string{"*"}},
		{"everything", `{"[*]*":["*"]}`, `{"[*]*":["*"]}`, []string{"[*]*"}},
		{
			"sorts resources and ops, drops whitespace",
			"{ \"notifications\" : [\"subscribe\", \"history\"],\n \"chat:*\": [\"presence\",\"publish\",\"subscribe\"] }",
			`{"chat:*":["presence","publish","subscribe"],"notifications":["history","subscribe"]}`,
			[]string{"chat:*", "notifications"},
		},
		{"merges duplicate ops", `{"a":["publish","subscribe","publish"]}`, `{"a":["publish","subscribe"]}`, []string{"a"}},
		{
			"every op",
			`{"a":["subscribe","publish","presence","history","stats","channel-metadata","push-subscribe","push-admin","privileged-headers","object-subscribe","object-publish","annotation-subscribe","annotation-publish","message-update-own","message-update-any","message-delete-own","message-delete-any"]}`,
			`{"a":["annotation-publish","annotation-subscribe","channel-metadata","history","message-delete-any","message-delete-own","message-update-any","message-update-own","object-publish","object-subscribe","presence","privileged-headers","publish","push-admin","push-subscribe","stats","subscribe"]}`,
			[]string{"a"},
		},
		{"qualifiers", `{"[queue]q":["subscribe"],"[meta]*":["subscribe"],"[?rewind=1]x":["history"],"[meta?a=b]log":["subscribe"],"[*]y":["publish"]}`,
			`{"[*]y":["publish"],"[?rewind=1]x":["history"],"[meta?a=b]log":["subscribe"],"[meta]*":["subscribe"],"[queue]q":["subscribe"]}`,
			[]string{"[*]y", "[?rewind=1]x", "[meta?a=b]log", "[meta]*", "[queue]q"}},
		{"literal star suffix and empty segments", `{"foo*":["publish"],"room::$chat":["publish"],"a:":["publish"]}`,
			`{"a:":["publish"],"foo*":["publish"],"room::$chat":["publish"]}`, []string{"a:", "foo*", "room::$chat"}},
		{"unescapes keys", `{"\u0063hat":["publish"]}`, `{"chat":["publish"]}`, []string{"chat"}},
		{
			"escapes like JSON.stringify",
			`{"a<b>&c\u2028\u00e9":["publish"],"q\"\\\u0001\t":["publish"]}`,
			"{\"a<b>&c\u2028\u00e9\":[\"publish\"],\"q\\\"\\\\\\u0001\\t\":[\"publish\"]}",
			[]string{"a<b>&c\u2028\u00e9", "q\"\\\u0001\t"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustCap(t, tt.in)
			if c.Raw() != tt.in || c.String() != tt.in {
				t.Errorf("Raw() = %q, String() = %q, want the input %q", c.Raw(), c.String(), tt.in)
			}
			if got := c.Canonical(); got != tt.canonical {
				t.Errorf("Canonical() = %s, want %s", got, tt.canonical)
			}
			if diff := cmp.Diff(tt.resources, c.Resources()); diff != "" {
				t.Errorf("Resources() (-want +got):\n%s", diff)
			}
			again := mustCap(t, c.Canonical())
			if again.Canonical() != c.Canonical() {
				t.Errorf("canonical form is not stable: %s -> %s", c.Canonical(), again.Canonical())
			}
		})
	}
}

// TestParseCapability_KeepsRaw covers §5.5 "Blanket intersection": the key's
// text, op order included, must survive untouched.
func TestParseCapability_KeepsRaw(t *testing.T) {
	const key = `{"channel0":["publish","subscribe","push-subscribe"]}`
	c := mustCap(t, key)
	if c.Raw() != key {
		t.Errorf("Raw() = %s, want %s", c.Raw(), key)
	}
	if want := `{"channel0":["publish","push-subscribe","subscribe"]}`; c.Canonical() != want {
		t.Errorf("Canonical() = %s, want %s", c.Canonical(), want)
	}
	got, err := auth.Intersect(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Raw() != key {
		t.Errorf("Intersect(key, nil).Raw() = %s, want %s", got.Raw(), key)
	}
}

func TestParseCapability_Invalid(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		fragments []string
	}{
		// §5.5 "Invalid capabilities 1-3".
		{"unknown op", `{"channel0":["publish_"]}`, []string{`"channel0"`, `unknown operation "publish_"`}},
		{"star with other ops", `{"channel0":["*","publish"]}`, []string{`"channel0"`, `"*" must be the only operation`}},
		{"empty op list", `{"channel0":[]}`, []string{`"channel0"`, "empty operation list"}},

		{"star twice", `{"a":["*","*"]}`, []string{`"*" must be the only`}},
		{"op family wildcard", `{"a":["object-*"]}`, []string{`unknown operation "object-*"`}},
		{"op in wrong case", `{"a":["Publish"]}`, []string{`unknown operation "Publish"`}},
		{"number op", `{"a":["publish",1]}`, []string{`"a"`, "not a number"}},
		{"null op", `{"a":[null]}`, []string{"not null"}},
		{"nested array op", `{"a":[["publish"]]}`, []string{"not an array"}},
		{"ops as string", `{"a":"publish"}`, []string{`"a"`, "must be a JSON array", "not a string"}},
		{"ops as object", `{"a":{"publish":true}}`, []string{"not an object"}},
		{"ops null", `{"a":null}`, []string{"not null"}},
		{"duplicate resource", `{"a":["publish"],"b":["history"],"a":["subscribe"]}`, []string{`duplicate resource "a"`}},
		{"duplicate after unescaping", `{"a":["publish"],"\u0061":["subscribe"]}`, []string{`duplicate resource "a"`}},
		{"empty object", `{}`, []string{"no resources"}},
		{"array", `[]`, []string{"must be a JSON object"}},
		{"string", `"{\"a\":[\"publish\"]}"`, []string{"must be a JSON object"}},
		{"null", `null`, []string{"must be a JSON object"}},
		{"empty input", ``, []string{"must be a JSON object"}},
		{"truncated", `{"a":["publish"]`, []string{"not valid JSON"}},
		{"syntax", `{"a" ["publish"]}`, []string{"not valid JSON"}},
		{"trailing data", `{"a":["publish"]} {}`, []string{"unexpected data"}},
		{"invalid UTF-8", "{\"a\xff\":[\"publish\"]}", []string{"UTF-8"}},
		{"empty resource", `{"":["publish"]}`, []string{`resource ""`, "is empty"}},
		{"leading colon", `{":foo":["publish"]}`, []string{`resource ":foo"`, "starts with ':'"}},
		{"unknown qualifier", `{"[foo]x":["publish"]}`, []string{`resource "[foo]x"`, `unknown qualifier "[foo]"`}},
		{"empty qualifier", `{"[]x":["publish"]}`, []string{`unknown qualifier "[]"`}},
		{"unterminated qualifier", `{"[meta":["publish"]}`, []string{"unterminated"}},
		{"qualifier without name", `{"[meta]":["publish"]}`, []string{"no name after"}},
		{"colon after qualifier", `{"[queue]:x":["publish"]}`, []string{"starts with ':' after"}},
		{"two qualifiers", `{"[meta][queue]x":["publish"]}`, []string{"second qualifier"}},
		{"newline", `{"a\nb":["publish"]}`, []string{"line break"}},
		{"resource too long", `{"` + strings.Repeat("a", auth.MaxChannelNameBytes+1) + `":["publish"]}`, []string{"longer than 2048 bytes"}},
		{"too large", `{"a":["publish"]` + strings.Repeat(" ", auth.MaxCapabilityBytes) + `}`, []string{"larger than 65536 bytes"}},
		{"too many resources", capManyResources(auth.MaxCapabilityResources + 1), []string{"more than 1000 resources"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := auth.ParseCapability(tt.in)
			if c != nil {
				t.Errorf("ParseCapability returned %s with the error", c.Canonical())
			}
			wantCapErr(t, err, herald.CodeBadRequest, 400, append(tt.fragments, "invalid capability")...)
			_, err = auth.ParseCapabilityJSON([]byte(tt.in))
			wantCapErr(t, err, herald.CodeBadRequest, 400)
		})
	}
}

func capManyResources(n int) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"r` + strconv.Itoa(i) + `":["publish"]`)
	}
	b.WriteByte('}')
	return b.String()
}

func TestParseCapability_Limits(t *testing.T) {
	c := mustCap(t, capManyResources(auth.MaxCapabilityResources))
	if n := len(c.Resources()); n != auth.MaxCapabilityResources {
		t.Errorf("resources = %d, want %d", n, auth.MaxCapabilityResources)
	}
	long := strings.Repeat("a", auth.MaxChannelNameBytes)
	mustCap(t, `{"`+long+`":["publish"]}`)
}

func TestCapabilityFromMap(t *testing.T) {
	c, err := auth.CapabilityFromMap(map[string][]string{
		"notifications": {"subscribe", "history"},
		"chat:*":        {"*"},
	})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"chat:*":["*"],"notifications":["history","subscribe"]}`
	if c.Raw() != want || c.Canonical() != want {
		t.Errorf("Raw() = %s, Canonical() = %s, want %s", c.Raw(), c.Canonical(), want)
	}
	for _, tt := range []struct {
		name     string
		in       map[string][]string
		fragment string
	}{
		{"nil", nil, "no resources"},
		{"empty ops", map[string][]string{"a": {}}, "empty operation list"},
		{"nil ops", map[string][]string{"a": nil}, "empty operation list"},
		{"unknown op", map[string][]string{"a": {"publish_"}}, `unknown operation "publish_"`},
		{"bad resource", map[string][]string{"[x]y": {"publish"}}, `resource "[x]y"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := auth.CapabilityFromMap(tt.in)
			wantCapErr(t, err, herald.CodeBadRequest, 400, tt.fragment)
		})
	}
}

func TestCapability_Ops(t *testing.T) {
	c := mustCap(t, `{"a":["subscribe","publish"],"b":["*"]}`)
	for _, tt := range []struct {
		resource string
		want     []string
		ok       bool
	}{
		{"a", []string{"publish", "subscribe"}, true},
		{"b", []string{"*"}, true},
		{"c", nil, false},
	} {
		got, ok := c.Ops(tt.resource)
		if ok != tt.ok || !slices.Equal(got, tt.want) {
			t.Errorf("Ops(%q) = %v, %v; want %v, %v", tt.resource, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseOp(t *testing.T) {
	names := []string{
		"subscribe", "publish", "presence", "history", "stats", "channel-metadata", "push-subscribe",
		"push-admin", "privileged-headers", "object-subscribe", "object-publish", "annotation-subscribe",
		"annotation-publish", "message-update-own", "message-update-any", "message-delete-own", "message-delete-any",
	}
	var all auth.OpSet
	for _, n := range names {
		op, ok := auth.ParseOp(n)
		if !ok || op.String() != n {
			t.Errorf("ParseOp(%q) = %v, %v", n, op, ok)
		}
		all |= auth.OpSetOf(op)
	}
	if all != auth.AllOps || all.Len() != len(names) {
		t.Errorf("union of all ops = %v (len %d), want AllOps", all, all.Len())
	}
	// Names come out sorted because the constants follow the names' order.
	sorted := slices.Sorted(slices.Values(names))
	if diff := cmp.Diff(sorted, auth.AllOps.Names()); diff != "" {
		t.Errorf("AllOps.Names() not sorted (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"*", "", "publish_", "object-*", "Publish"} {
		if op, ok := auth.ParseOp(bad); ok {
			t.Errorf("ParseOp(%q) = %v, want not ok", bad, op)
		}
	}
	if s := auth.Op(0).String(); s != "Op(0)" {
		t.Errorf("Op(0).String() = %q", s)
	}
	if auth.AllOps.Has(auth.Op(0)) || auth.AllOps.Has(auth.Op(200)) {
		t.Error("AllOps has a value that is not an operation")
	}
	set := auth.OpSetOf(auth.OpSubscribe, auth.OpPublish)
	if got := set.String(); got != `["publish","subscribe"]` {
		t.Errorf("String() = %s", got)
	}
	if !set.Has(auth.OpPublish) || set.Has(auth.OpPresence) {
		t.Errorf("Has is wrong for %v", set)
	}
}
