package loadgen

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/heraldrt/herald"
)

func TestHistogram_Quantile(t *testing.T) {
	var h Histogram
	var vals []time.Duration
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		v := time.Duration(r.ExpFloat64() * float64(time.Millisecond))
		vals = append(vals, v)
		h.Record(v)
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		want := vals[int(q*float64(len(vals)))-1]
		got := h.Quantile(q)
		if d := float64(got-want) / float64(want); d > 0.01 || d < -0.01 {
			t.Errorf("q%v = %v, want %v ±1%%", q, got, want)
		}
	}
	if h.Max() != vals[len(vals)-1] || h.Count() != uint64(len(vals)) {
		t.Errorf("max %v count %d", h.Max(), h.Count())
	}
	var empty Histogram
	if empty.Quantile(0.99) != 0 || empty.Mean() != 0 {
		t.Error("empty histogram")
	}
}

func TestHistogram_Buckets(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, maxValue} {
		i := bucketOf(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("bucketOf(%d) = %d out of range", v, i)
		}
		if mid := bucketValue(i); float64(mid-v) > float64(v)/100+1 || float64(v-mid) > float64(v)/100+1 {
			t.Errorf("bucket of %d has middle %d", v, mid)
		}
	}
}

func TestMarker(t *testing.T) {
	b := AppendMarker([]byte("prefix"), 42, 123456789, 60)
	if len(b) != len("prefix")+60 {
		t.Fatalf("len %d", len(b))
	}
	frame := append([]byte(`{"action":15,"id":"abc:1","messages":[{"data":"`), b...)
	frame = append(frame, `"}]}`...)
	seq, stamp, ok := ParseMarker(frame)
	if !ok || seq != 42 || stamp != 123456789 {
		t.Fatalf("ParseMarker = %d %d %v", seq, stamp, ok)
	}
	for _, bad := range []string{"", "~B~", "~B~1~", "~B~x~1~", "~B~~1~", "~B~1~2"} {
		if _, _, ok := ParseMarker([]byte(bad)); ok {
			t.Errorf("ParseMarker(%q) ok", bad)
		}
	}
}

func TestParseProc(t *testing.T) {
	stat := []byte("1234 (herald (x) y) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 12 0 100 200 300")
	cpu, sys, err := parseStatCPU(stat)
	if err != nil || cpu != 3*time.Second || sys != 500*time.Millisecond {
		t.Fatalf("cpu %v sys %v, %v", cpu, sys, err)
	}
	status := []byte("Name:\therald\nVmPeak:\t 9999 kB\nVmRSS:\t   2048 kB\nThreads: 4\n")
	rss, err := parseStatusRSS(status)
	if err != nil || rss != 2048<<10 {
		t.Fatalf("rss %d, %v", rss, err)
	}
	if _, err := parseStatusRSS([]byte("Name: x\n")); err == nil {
		t.Fatal("no VmRSS accepted")
	}
}

func TestSummarize(t *testing.T) {
	var rs []*Result
	for i, v := range []float64{5, 1, 3, 2, 4} {
		r := newResult("connect", nil)
		r.Add("rate", v, "conns/s")
		r.Errors = map[string]int64{"40141": int64(i)}
		rs = append(rs, r)
	}
	other := newResult("idle", nil)
	other.Add("rss_per_conn", 10, "KiB")
	rs = append(rs, other)
	sums := Summarize(rs)
	if len(sums) != 2 || sums[0].Label != "connect" || sums[0].Runs != 5 {
		t.Fatalf("%+v", sums)
	}
	m := sums[0].Metrics[0]
	if m.Median != 3 || m.Min != 1 || m.Max != 5 || sums[0].Errors["40141"] != 10 {
		t.Fatalf("%+v %v", m, sums[0].Errors)
	}
	if got := median([]float64{1, 2, 3, 4}); got != 2.5 {
		t.Fatalf("even median %v", got)
	}
}

func TestErrorKind(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{herald.NewError(herald.CodeTokenRevoked, ""), "40141"},
		{fmt.Errorf("wrapped: %w", herald.NewError(40160, "")), "40160"},
		{io.EOF, "closed"},
		{&net.OpError{Op: "read", Err: timeoutErr{}}, "timeout"},
		{fmt.Errorf("%w: refused", errDial), "dial"},
		{errors.New("x"), "other"},
	} {
		if got := ErrorKind(c.err); got != c.want {
			t.Errorf("ErrorKind(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestCheckLoopback(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:80", "http://127.0.0.2:9"} {
		if err := CheckLoopback(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://10.0.0.1:8080", "https://127.0.0.1", "http://example.com", "::"} {
		if err := CheckLoopback(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestSignJWT(t *testing.T) {
	tok, err := SignJWT("app.key:secret", "alice", time.Unix(1000, 0), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(splitDots(tok)); n != 3 {
		t.Fatalf("%d parts in %s", n, tok)
	}
	if _, err := SignJWT("app.key", "", time.Now(), time.Hour); err == nil {
		t.Fatal("key without secret accepted")
	}
}

func splitDots(s string) []string {
	var out []string
	start := 0
	for i := range len(s) {
		if s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
