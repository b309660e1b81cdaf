package loadgen

import (
	"fmt"
	"io"
)

// Goal is a performance target from the benchmark issue, checked against
// the median of a labelled scenario.
type Goal struct {
	Text   string
	Metric string
	Limit  float64
	// Strict requires the median to be below Limit; otherwise at or below.
	Strict bool
	// Applies reports whether a summary is a run the goal is about.
	Applies func(s *Summary) bool
}

// Goals are the targets of the load benchmarks (docs/benchmarks.md "Load").
var Goals = []Goal{
	{Text: "server CPU per connect + auth + attach ≤ 50 µs", Metric: "server_cpu_per_conn", Limit: 50,
		Applies: func(s *Summary) bool { return s.Scenario == "connect" }},
	{Text: "RSS per idle connection ≤ 20 KiB", Metric: "rss_per_conn", Limit: 20,
		Applies: func(s *Summary) bool { return s.Scenario == "idle" }},
	{Text: "server CPU per delivery, flat out ≤ 1.8 µs", Metric: "server_cpu_per_delivery", Limit: 1.8,
		Applies: func(s *Summary) bool { return s.Scenario == "fanout" && s.Params["rate"] == "flat" }},
	{Text: "p99 latency at 100 msg/s to 1,000 subscribers ≤ 10 ms", Metric: "latency_p99", Limit: 10,
		Applies: func(s *Summary) bool {
			return s.Scenario == "fanout" && s.Params["rate"] == "100/s" && s.Params["subscribers"] == "1000"
		}},
	{Text: "every revoked connection DISCONNECTED (40141) in < 1 s", Metric: "all_disconnected", Limit: 1000, Strict: true,
		Applies: func(s *Summary) bool { return s.Scenario == "revoke" }},
}

// Met reports whether the median meets the goal.
func (g Goal) Met(median float64) bool {
	if g.Strict {
		return median < g.Limit
	}
	return median <= g.Limit
}

// WriteGoals writes a Markdown table: each goal against each run it
// applies to, with the median, the range and whether the goal is met.
func WriteGoals(w io.Writer, sums []*Summary) {
	fmt.Fprintln(w, "| goal | run | median | min–max | met |")
	fmt.Fprintln(w, "|---|---|---:|---:|---|")
	for _, g := range Goals {
		for _, s := range sums {
			if !g.Applies(s) {
				continue
			}
			for _, m := range s.Metrics {
				if m.Name != g.Metric {
					continue
				}
				met := "**no**"
				if g.Met(m.Median) {
					met = "yes"
				}
				fmt.Fprintf(w, "| %s | %s | %s %s | %s–%s | %s |\n", g.Text, s.Label,
					formatValue(m.Median), m.Unit, formatValue(m.Min), formatValue(m.Max), met)
			}
		}
	}
	fmt.Fprintln(w)
}
