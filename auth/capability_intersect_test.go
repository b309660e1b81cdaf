package auth_test

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

// Key capabilities of the Ably sandbox test app (ably-common
// test-resources/test-app-setup.json keys[1..3]), which the ably-js
// rest/capability tests named below run against. Whitespace as configured.
const (
	capSandboxKey1 = `{ "cansubscribe:*":["subscribe"], "canpublish:*":["publish"], "canpublish:andpresence":["presence","publish"], "pushenabled:*":["publish","subscribe","push-subscribe"], "pushenabled:admin:*":["publish","subscribe","push-admin"] }`
	capSandboxKey2 = `{ "channel0":["publish"], "channel1":["publish"], "channel2":["publish", "subscribe"], "channel3":["subscribe"], "channel4":["presence", "publish", "subscribe"], "channel5":["presence"], "channel6":["*"] }`
	capSandboxKey3 = `{ "*":["subscribe"] }`
)

func TestIntersect(t *testing.T) {
	tests := []struct {
		name      string
		key       string
		requested string // "" means no capability requested (nil)
		want      string // exact Raw of the result
	}{
		// ably-auth §5.5 worked example.
		{
			name:      "worked example",
			key:       `{"your-namespace:*":["publish","subscribe","presence"],"notifications":["subscribe","history"],"alerts":["subscribe"]}`,
			requested: `{"your-namespace:user-123":["subscribe"],"notifications":["*"],"private":["publish","subscribe"]}`,
			want:      `{"notifications":["history","subscribe"],"your-namespace:user-123":["subscribe"]}`,
		},
		// ably-js test/rest/capability.test.js.
		{name: "blanket intersection", key: capSandboxKey1, want: capSandboxKey1},
		{name: "blanket intersection keeps op order", key: `{"channel0":["publish","subscribe","push-subscribe"]}`,
			want: `{"channel0":["publish","subscribe","push-subscribe"]}`},
		{name: "equal intersection", key: capSandboxKey1,
			requested: `{"cansubscribe:*":["subscribe"],"canpublish:*":["publish"],"canpublish:andpresence":["presence","publish"],"pushenabled:*":["publish","subscribe","push-subscribe"],"pushenabled:admin:*":["publish","subscribe","push-admin"]}`,
			want:      capSandboxKey1},
		{name: "ably-go default request keeps the key", key: capSandboxKey2, requested: `{"*":["*"]}`, want: capSandboxKey2},
		{name: "ops intersection non-empty", key: capSandboxKey2, requested: `{"channel2":["presence","subscribe"]}`,
			want: `{"channel2":["subscribe"]}`},
		{name: "paths intersection non-empty", key: capSandboxKey2,
			requested: `{"channel2":["presence","subscribe"],"channelx":["presence","subscribe"]}`,
			want:      `{"channel2":["subscribe"]}`},
		{name: "wildcard token with publish and subscribe key", key: capSandboxKey2, requested: `{"channel2":["*"]}`,
			want: `{"channel2":["publish","subscribe"]}`},
		{name: "publish and subscribe token with wildcard key", key: capSandboxKey2, requested: `{"channel6":["publish","subscribe"]}`,
			want: `{"channel6":["publish","subscribe"]}`},
		{name: "resources wildcard matching 1", key: capSandboxKey3, requested: `{"cansubscribe":["subscribe"]}`,
			want: `{"cansubscribe":["subscribe"]}`},
		{name: "resources wildcard matching 2", key: capSandboxKey1, requested: `{"canpublish:check":["publish"]}`,
			want: `{"canpublish:check":["publish"]}`},
		{name: "resources wildcard matching 3", key: capSandboxKey3, requested: `{"cansubscribe:*":["subscribe"]}`,
			want: `{"cansubscribe:*":["subscribe"]}`},

		// More rules from §5.5.
		{name: "key star ops", key: `{"a":["*"],"b":["history"]}`, requested: `{"a":["subscribe","publish"]}`,
			want: `{"a":["publish","subscribe"]}`},
		{name: "both star", key: `{"*":["*"],"b":["history"]}`, requested: `{"a":["*"]}`, want: `{"a":["*"]}`},
		{name: "more specific key resource kept", key: `{"chat:room1":["publish"]}`, requested: `{"chat:*":["*"],"x":["publish"]}`,
			want: `{"chat:room1":["publish"]}`},
		{name: "pairs merge", key: `{"a:*":["publish"],"*":["subscribe"],"z":["history"]}`, requested: `{"a:b":["*"]}`,
			want: `{"a:b":["publish","subscribe"]}`},
		{name: "requested params spelling kept", key: `{"*":["subscribe"]}`, requested: `{"[?rewind=1]chat":["*"]}`,
			want: `{"[?rewind=1]chat":["subscribe"]}`},

		// Qualifiers.
		{name: "[*]* key gives meta", key: `{"[*]*":["*"]}`, requested: `{"[meta]*":["subscribe"],"[queue]q":["subscribe"]}`,
			want: `{"[meta]*":["subscribe"],"[queue]q":["subscribe"]}`},
		{name: "[*]* request on a plain key", key: `{"*":["subscribe"],"[meta]log":["subscribe"]}`, requested: `{"[*]*":["subscribe","publish"],"x":["history"]}`,
			want: `{"*":["subscribe"],"[meta]log":["subscribe"]}`},
		{name: "[*]* request against star key narrows to plain", key: `{"*":["subscribe"],"[queue]q":["publish"]}`, requested: `{"[*]*":["subscribe"]}`,
			want: `{"*":["subscribe"]}`},
		{name: "[*]x meets [meta]*", key: `{"[meta]*":["subscribe"]}`, requested: `{"[*]x:*":["subscribe"],"y":["subscribe"]}`,
			want: `{"[meta]x:*":["subscribe"]}`},

		// Partly overlapping wildcards: the segment-wise meet (decisions).
		{name: "partial overlap", key: `{"foo:*":["publish"]}`, requested: `{"*:bar":["publish"]}`, want: `{"foo:bar":["publish"]}`},
		{name: "partial overlap trailing", key: `{"foo:*":["publish"]}`, requested: `{"*:bar:*":["publish"]}`,
			want: `{"foo:bar:*":["publish"]}`},
		{name: "partial overlap middle", key: `{"a:*:c":["publish"]}`, requested: `{"*:b:*":["publish"]}`,
			want: `{"a:b:c":["publish"]}`},
		{name: "partial overlap fixed against trailing", key: `{"*:b:c:d":["publish"]}`, requested: `{"a:*":["publish"]}`,
			want: `{"a:b:c:d":["publish"]}`},
		{name: "partial overlap of [*] and plain", key: `{"[*]a:*":["publish"]}`, requested: `{"*:b":["publish"]}`,
			want: `{"a:b":["publish"]}`},
		{name: "overlap plus covering pair", key: `{"foo:*":["publish"],"x":["publish"]}`, requested: `{"*:bar":["publish"],"foo:baz":["publish"]}`,
			want: `{"foo:bar":["publish"],"foo:baz":["publish"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := mustCap(t, tt.key)
			var req *auth.Capability
			if tt.requested != "" {
				req = mustCap(t, tt.requested)
			}
			got, err := auth.Intersect(key, req)
			if err != nil {
				t.Fatal(err)
			}
			if got.Raw() != tt.want {
				t.Errorf("Intersect() = %s\nwant        %s", got.Raw(), tt.want)
			}
		})
	}
}

func TestIntersect_Empty(t *testing.T) {
	tests := []struct {
		name, key, requested string
	}{
		{"empty ops intersection", capSandboxKey1, `{"canpublish:test":["subscribe"]}`},
		{"empty paths intersection", capSandboxKey2, `{"channelx":["publish"]}`},
		{"disjoint literals", `{"foo:*":["publish"]}`, `{"*:bar:baz:*":["subscribe"],"bar:*":["publish"]}`},
		{"fixed lengths differ", `{"a:*:c":["publish"]}`, `{"a:*:d":["publish"],"*:b":["publish"]}`},
		{"plain and meta", `{"*":["*"]}`, `{"[meta]*":["subscribe"],"[queue]q":["publish"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := auth.Intersect(mustCap(t, tt.key), mustCap(t, tt.requested))
			if got != nil {
				t.Errorf("Intersect returned %s", got.Raw())
			}
			wantCapErr(t, err, herald.CodeCapabilityDenied, 401, "capability intersection is empty")
		})
	}
	_, err := auth.Intersect(nil, mustCap(t, `{"a":["publish"]}`))
	wantCapErr(t, err, herald.CodeCapabilityDenied, 401)
}

func TestIntersect_TooLarge(t *testing.T) {
	var key, req strings.Builder
	key.WriteString("{")
	req.WriteString("{")
	for i := range 40 {
		if i > 0 {
			key.WriteString(",")
			req.WriteString(",")
		}
		key.WriteString(`"k` + strconv.Itoa(i) + `:*":["publish"]`)
		req.WriteString(`"*:r` + strconv.Itoa(i) + `":["publish"]`)
	}
	key.WriteString("}")
	req.WriteString("}")
	_, err := auth.Intersect(mustCap(t, key.String()), mustCap(t, req.String()))
	wantCapErr(t, err, herald.CodeBadRequest, 400, "more than 1000 resources")
}

// capRand generates capabilities and channels from a small alphabet, so that
// random pairs often overlap, cover each other or share segments.
type capRand struct{ *rand.Rand }

func newCapRand(seed uint64) capRand { return capRand{rand.New(rand.NewPCG(seed, seed^0x5deece66d))} }

var (
	capResQualifiers = []string{"", "", "", "", "[meta]", "[queue]", "[*]", "[*]", "[?rewind=1]", "[meta?x=1]"}
	capResSegments   = []string{"a", "b", "c", "*", "*"}
	capChQualifiers  = []string{"", "", "", "[meta]", "[queue]", "[?p=1]", "[meta?q]"}
	capChSegments    = []string{"a", "b", "c", "d", "", "*"}
	capRandOps       = []string{"publish", "subscribe", "presence", "history"}
	capCheckOps      = []auth.Op{auth.OpPublish, auth.OpSubscribe, auth.OpPresence, auth.OpHistory, auth.OpStats}
)

func (r capRand) pick(from []string) string { return from[r.IntN(len(from))] }

func (r capRand) resource() string {
	segs := make([]string, 1+r.IntN(3))
	for i := range segs {
		segs[i] = r.pick(capResSegments)
	}
	return r.pick(capResQualifiers) + strings.Join(segs, ":")
}

func (r capRand) channel() string {
	segs := make([]string, 1+r.IntN(4))
	for i := range segs {
		segs[i] = r.pick(capChSegments)
		if i == 0 && segs[0] == "" {
			segs[0] = "a"
		}
	}
	return r.pick(capChQualifiers) + strings.Join(segs, ":")
}

func (r capRand) capability() map[string][]string {
	m := make(map[string][]string)
	for range 1 + r.IntN(4) {
		var ops []string
		if r.IntN(4) == 0 {
			ops = []string{"*"}
		} else {
			for _, op := range capRandOps {
				if r.IntN(2) == 0 {
					ops = append(ops, op)
				}
			}
			if len(ops) == 0 {
				ops = []string{r.pick(capRandOps)}
			}
		}
		m[r.resource()] = ops
	}
	return m
}

// capSampleChannels returns channels that exercise resources: each with its
// wildcards filled in several ways and under several qualifiers, plus extra.
func capSampleChannels(resources []string, extra ...string) []string {
	out := append([]string{"a", "a:b", "[meta]a", "[queue]a:b"}, extra...)
	for _, res := range resources {
		qual, name := "", res
		if strings.HasPrefix(res, "[") {
			if i := strings.IndexByte(res, ']'); i >= 0 {
				qual, name = res[:i+1], res[i+1:]
			}
		}
		quals := []string{qual, "", "[meta]"}
		if strings.HasPrefix(qual, "[*") {
			quals = append(quals, "[queue]", "[?x=1]")
		}
		for _, fill := range []string{"x", "a", ""} {
			filled := strings.ReplaceAll(":"+name+":", ":*:", ":"+fill+":")
			filled = strings.ReplaceAll(filled, ":*:", ":"+fill+":") // adjacent wildcards
			filled = filled[1 : len(filled)-1]
			if filled == "" || filled[0] == ':' {
				filled = "a" + filled
			}
			for _, q := range quals {
				out = append(out, q+filled, q+filled+":y", q+name)
			}
		}
	}
	return out
}

// TestIntersect_Property checks, on random key/request pairs, that the
// result never grants what the key or the request does not (the security
// property) and, since the meet is exact, that it grants everything both do.
func TestIntersect_Property(t *testing.T) {
	r := newCapRand(1)
	nonEmpty, narrowed := 0, 0
	for iter := range 5000 {
		key, err := auth.CapabilityFromMap(r.capability())
		if err != nil {
			t.Fatal(err)
		}
		req, err := auth.CapabilityFromMap(r.capability())
		if err != nil {
			t.Fatal(err)
		}
		got, err := auth.Intersect(key, req)
		var he *herald.Error
		if err != nil && (!errors.As(err, &he) || he.Code != herald.CodeCapabilityDenied) {
			t.Fatalf("key %s req %s: %v", key.Raw(), req.Raw(), err)
		}
		if got != nil {
			nonEmpty++
		}
		if got != nil && got.Raw() != key.Raw() {
			narrowed++
			if again := mustCap(t, got.Raw()); again.Canonical() != got.Canonical() || got.Raw() != got.Canonical() {
				t.Fatalf("result %s is not canonical (%s)", got.Raw(), again.Canonical())
			}
		}
		channels := capSampleChannels(append(key.Resources(), req.Resources()...))
		for range 20 {
			channels = append(channels, r.channel())
		}
		// The general path must agree with the shortcut Intersect may take.
		meet, _ := auth.MeetForTest(key, req)
		for _, ch := range channels {
			if meet.Modes(ch) != got.Modes(ch) {
				t.Fatalf("pairwise meet %v and Intersect %v differ on %q", meet, got, ch)
			}
		}
		for _, ch := range channels {
			for _, op := range capCheckOps {
				want := key.Allows(ch, op) && req.Allows(ch, op)
				res := got.Allows(ch, op) // nil-safe: an error grants nothing
				if res && !want {
					t.Fatalf("iteration %d: key %s ∩ req %s = %s grants %v on %q; key %v, request %v",
						iter, key.Raw(), req.Raw(), got.Raw(), op, ch, key.Allows(ch, op), req.Allows(ch, op))
				}
				if want && !res {
					t.Fatalf("iteration %d: key %s ∩ req %s = %v loses %v on %q", iter, key.Raw(), req.Raw(), got, op, ch)
				}
				if got.Modes(ch).Has(op) != res {
					t.Fatalf("Modes and Allows disagree for %s on %q %v", got.Raw(), ch, op)
				}
			}
		}
	}
	// Guard against a generator that only ever produces trivial cases.
	if nonEmpty < 1000 || narrowed < 1000 || 5000-nonEmpty < 500 {
		t.Errorf("weak sample: %d non-empty results, %d narrowed, %d empty", nonEmpty, narrowed, 5000-nonEmpty)
	}
	t.Logf("%d non-empty results, %d narrowed, %d empty", nonEmpty, narrowed, 5000-nonEmpty)
}
