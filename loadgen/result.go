package loadgen

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/gorilla/websocket"
	"github.com/heraldrt/herald"
)

// Metric is one named figure of a run.
type Metric struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

// Result is what one scenario run reports. Errors counts failures by Ably
// error code ("40141") or by kind ("dial", "timeout", "closed", "lost").
type Result struct {
	Scenario string            `json:"scenario"`
	Label    string            `json:"label"`
	Params   map[string]string `json:"params"`
	Metrics  []Metric          `json:"metrics"`
	Errors   map[string]int64  `json:"errors,omitempty"`
	Started  time.Time         `json:"started"`
}

func newResult(scenario string, params map[string]string) *Result {
	return &Result{Scenario: scenario, Label: scenario, Params: params, Started: time.Now()}
}

// Add appends a metric.
func (r *Result) Add(name string, v float64, unit string) {
	r.Metrics = append(r.Metrics, Metric{Name: name, Value: v, Unit: unit})
}

// addLatency appends p50, p99, p999 and max of h in milliseconds.
func (r *Result) addLatency(prefix string, h *Histogram) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	r.Add(prefix+"_p50", ms(h.Quantile(0.50)), "ms")
	r.Add(prefix+"_p99", ms(h.Quantile(0.99)), "ms")
	r.Add(prefix+"_p999", ms(h.Quantile(0.999)), "ms")
	r.Add(prefix+"_max", ms(h.Max()), "ms")
}

// Get returns the value of the named metric.
func (r *Result) Get(name string) (float64, bool) {
	for _, m := range r.Metrics {
		if m.Name == name {
			return m.Value, true
		}
	}
	return 0, false
}

// ErrorTotal is the number of failures of every kind.
func (r *Result) ErrorTotal() int64 {
	var n int64
	for _, v := range r.Errors {
		n += v
	}
	return n
}

// WriteTable writes results as an aligned text table.
func WriteTable(w io.Writer, results []*Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range results {
		fmt.Fprintf(tw, "== %s\t%s\n", r.Label, formatParams(r.Params))
		for _, m := range r.Metrics {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", m.Name, formatValue(m.Value), m.Unit)
		}
		fmt.Fprintf(tw, "  errors\t%s\t\n", formatErrors(r.Errors))
	}
	return tw.Flush()
}

func formatParams(p map[string]string) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k + "=" + p[k])
	}
	return b.String()
}

func formatErrors(e map[string]int64) string {
	if len(e) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, e[k])
	}
	return strings.Join(parts, " ")
}

func formatValue(v float64) string {
	switch a := math.Abs(v); {
	case v == math.Trunc(v) && a < 1e12:
		return strconv.FormatInt(int64(v), 10)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

// Summary is the median of several runs of one labelled scenario.
type Summary struct {
	Scenario string            `json:"scenario"`
	Label    string            `json:"label"`
	Params   map[string]string `json:"params"`
	Runs     int               `json:"runs"`
	Metrics  []SummaryMetric   `json:"metrics"`
	Errors   map[string]int64  `json:"errors,omitempty"` // summed over the runs
}

// SummaryMetric is a metric's median and range over runs.
type SummaryMetric struct {
	Name   string  `json:"name"`
	Unit   string  `json:"unit"`
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// Summarize groups results by label (in first-seen order) and takes the
// median, minimum and maximum of every metric.
func Summarize(results []*Result) []*Summary {
	var order []string
	groups := map[string][]*Result{}
	for _, r := range results {
		if _, ok := groups[r.Label]; !ok {
			order = append(order, r.Label)
		}
		groups[r.Label] = append(groups[r.Label], r)
	}
	out := make([]*Summary, 0, len(order))
	for _, label := range order {
		runs := groups[label]
		s := &Summary{Scenario: runs[0].Scenario, Label: label, Params: runs[0].Params, Runs: len(runs), Errors: map[string]int64{}}
		for _, m := range runs[0].Metrics {
			var vals []float64
			for _, r := range runs {
				if v, ok := r.Get(m.Name); ok {
					vals = append(vals, v)
				}
			}
			slices.Sort(vals)
			s.Metrics = append(s.Metrics, SummaryMetric{Name: m.Name, Unit: m.Unit,
				Median: median(vals), Min: vals[0], Max: vals[len(vals)-1]})
		}
		for _, r := range runs {
			for k, v := range r.Errors {
				s.Errors[k] += v
			}
		}
		out = append(out, s)
	}
	return out
}

// median of sorted values; the mean of the middle two for an even count.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// WriteMarkdown writes summaries as Markdown tables, one per label.
func WriteMarkdown(w io.Writer, sums []*Summary) {
	for _, s := range sums {
		fmt.Fprintf(w, "#### %s\n\n", s.Label)
		fmt.Fprintf(w, "Parameters: `%s`; %d run(s); errors over all runs: %s.\n\n", formatParams(s.Params), s.Runs, formatErrors(s.Errors))
		fmt.Fprintln(w, "| metric | median | min | max | unit |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---|")
		for _, m := range s.Metrics {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", m.Name, formatValue(m.Median), formatValue(m.Min), formatValue(m.Max), m.Unit)
		}
		fmt.Fprintln(w)
	}
}

// ReadResults reads results written with --json: one JSON array per file,
// or a single object.
func ReadResults(paths ...string) ([]*Result, error) {
	var all []*Result
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var rs []*Result
		if err := json.Unmarshal(b, &rs); err != nil {
			var one Result
			if err2 := json.Unmarshal(b, &one); err2 != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			rs = []*Result{&one}
		}
		all = append(all, rs...)
	}
	return all, nil
}

// ErrorCounts counts failures by kind; safe for concurrent use.
type ErrorCounts struct {
	mu sync.Mutex
	m  map[string]int64
}

// Add counts one failure of kind.
func (e *ErrorCounts) Add(kind string) { e.AddN(kind, 1) }

// AddN counts n failures of kind.
func (e *ErrorCounts) AddN(kind string, n int64) {
	if n == 0 {
		return
	}
	e.mu.Lock()
	if e.m == nil {
		e.m = map[string]int64{}
	}
	e.m[kind] += n
	e.mu.Unlock()
}

// AddErr counts err under its kind (ErrorKind).
func (e *ErrorCounts) AddErr(err error) { e.Add(ErrorKind(err)) }

// Snapshot returns a copy of the counts.
func (e *ErrorCounts) Snapshot() map[string]int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int64, len(e.m))
	for k, v := range e.m {
		out[k] = v
	}
	return out
}

// Total returns the number of failures.
func (e *ErrorCounts) Total() int64 {
	var n int64
	for _, v := range e.Snapshot() {
		n += v
	}
	return n
}

// ErrorKind names an error for the failure table: the Ably code of an
// *herald.Error, else "timeout", "closed" (the peer ended the socket) or
// "dial"/"other".
func ErrorKind(err error) string {
	var he *herald.Error
	var ne net.Error
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &he):
		return strconv.Itoa(he.Code)
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, errTimeout):
		return "timeout"
	case errors.As(err, &ce), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return "closed"
	case errors.Is(err, errDial):
		return "dial"
	}
	return "other"
}

var (
	errTimeout = errors.New("loadgen: timed out")
	errDial    = errors.New("loadgen: dial failed")
)
