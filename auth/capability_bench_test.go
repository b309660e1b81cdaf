package auth_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/heraldrt/herald/auth"
)

// benchCapability returns a capability of n resources whose last one is
// target; the others are a realistic mix of exact names, namespace
// wildcards and a few leading-wildcard patterns (one in ten), which every
// lookup has to scan.
func benchCapability(tb testing.TB, n int, target string) *auth.Capability {
	tb.Helper()
	var b strings.Builder
	b.WriteByte('{')
	for i := range n - 1 {
		var res string
		switch {
		case i%10 == 9:
			res = "*:filler" + strconv.Itoa(i)
		case i%2 == 0:
			res = "ns" + strconv.Itoa(i) + ":room" + strconv.Itoa(i)
		default:
			res = "ns" + strconv.Itoa(i) + ":*"
		}
		fmt.Fprintf(&b, "%q:[\"publish\",\"subscribe\"],", res)
	}
	fmt.Fprintf(&b, "%q:[\"subscribe\",\"presence\"]}", target)
	return mustCap(tb, b.String())
}

var capAllowsCases = []struct {
	name, target, channel string
	want                  bool
}{
	{"exact", "chat:room1", "chat:room1", true},
	{"wildcard", "chat:*", "chat:room1", true},
	{"miss", "chat:*", "other:room1", false},
}

func BenchmarkCapabilityAllows(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		for _, tc := range capAllowsCases {
			b.Run(fmt.Sprintf("%d/%s", n, tc.name), func(b *testing.B) {
				c := benchCapability(b, n, tc.target)
				b.ReportAllocs()
				for b.Loop() {
					if c.Allows(tc.channel, auth.OpSubscribe) != tc.want {
						b.Fatal("wrong answer")
					}
				}
			})
		}
	}
}

func BenchmarkCapabilityModes(b *testing.B) {
	for _, n := range []int{10, 100} {
		for _, tc := range capAllowsCases {
			b.Run(fmt.Sprintf("%d/%s", n, tc.name), func(b *testing.B) {
				c := benchCapability(b, n, tc.target)
				b.ReportAllocs()
				for b.Loop() {
					if (c.Modes(tc.channel) != 0) != tc.want {
						b.Fatal("wrong answer")
					}
				}
			})
		}
	}
}

const capBench10 = `{"chat:*":["publish","subscribe","presence"],"notifications":["subscribe","history"],` +
	`"alerts":["subscribe"],"[meta]*":["subscribe"],"users:*:inbox":["subscribe","publish"],` +
	`"support:tickets":["*"],"[?rewind=1]news":["subscribe","history"],"*":["channel-metadata"],` +
	`"admin:*":["push-admin","privileged-headers"],"rooms:lobby":["presence","subscribe"]}`

func BenchmarkCapabilityParse(b *testing.B) {
	b.Run("10", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(capBench10)))
		for b.Loop() {
			if _, err := auth.ParseCapability(capBench10); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCapabilityCompile measures building from the decoded form, i.e.
// validation and compilation without the JSON token walk.
func BenchmarkCapabilityCompile(b *testing.B) {
	m := map[string][]string{}
	for _, r := range mustCap(b, capBench10).Resources() {
		m[r] = []string{"publish", "subscribe"}
	}
	b.Run("10", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := auth.CapabilityFromMap(m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCapabilityIntersect(b *testing.B) {
	cases := []struct{ name, key, req string }{
		{"worked-example",
			`{"your-namespace:*":["publish","subscribe","presence"],"notifications":["subscribe","history"],"alerts":["subscribe"]}`,
			`{"your-namespace:user-123":["subscribe"],"notifications":["*"],"private":["publish","subscribe"]}`},
		{"10x3", capBench10, `{"chat:room1":["publish"],"users:*:*":["*"],"*:tickets":["subscribe"]}`},
		{"covered-10", capBench10, `{"[*]*":["*"]}`},
	}
	for _, tc := range cases {
		key, req := mustCap(b, tc.key), mustCap(b, tc.req)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := auth.Intersect(key, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCapabilityPatternSet(b *testing.B) {
	ps, err := auth.NewPatternSet([]string{"*", "chat:*", "chat:room1", "[*]*", "users:*:inbox", "support:*", "*:vip"})
	if err != nil {
		b.Fatal(err)
	}
	for _, ch := range []string{"chat:room1", "chat:room2", "users:u1:inbox", "other"} {
		b.Run(ch, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := ps.Match(ch); !ok {
					b.Fatal("no match")
				}
			}
		})
	}
}

func BenchmarkCapabilityExplain(b *testing.B) {
	c := mustCap(b, capBench10)
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Explain("chat:room1", auth.OpHistory).Message()
	}
}

// TestCapability_HotPathDoesNotAllocate pins the zero-allocation promise of
// Allows, Modes and PatternSet.Match that the benchmarks measure.
func TestCapability_HotPathDoesNotAllocate(t *testing.T) {
	c := benchCapability(t, 100, "chat:*")
	ps, err := auth.NewPatternSet(c.Resources())
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range []string{"chat:room1", "ns1:x", "ns8:room8", "x:filler9", "other", "[meta]x", "[bad]x"} {
		allocs := testing.AllocsPerRun(100, func() {
			c.Allows(ch, auth.OpSubscribe)
			c.Modes(ch)
			ps.Match(ch)
		})
		if allocs != 0 {
			t.Errorf("%q: %v allocations per run, want 0", ch, allocs)
		}
	}
}
