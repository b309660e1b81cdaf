// Package metrics exposes Herald's counters to Prometheus. It adapts the
// small event interfaces of realtime and httpapi to client_golang
// collectors registered on a registry passed in (never the global one).
package metrics

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds Herald's collectors.
type Metrics struct {
	reg         *prometheus.Registry
	connections prometheus.Gauge
	opened      prometheus.Counter
	attaches    prometheus.Counter
	messagesIn  prometheus.Counter
	messagesOut prometheus.Counter
	authFailed  *prometheus.CounterVec
}

// New registers Herald's collectors (and the Go/process ones) on a new
// registry.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		connections: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "herald", Name: "connections",
			Help: "Realtime connections currently open."}),
		opened: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "herald", Name: "connections_opened_total",
			Help: "Realtime connections opened."}),
		attaches: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "herald", Name: "attaches_total",
			Help: "Channel attaches granted."}),
		messagesIn: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "herald", Name: "messages_in_total",
			Help: "Messages received from realtime clients."}),
		messagesOut: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "herald", Name: "messages_out_total",
			Help: "Messages delivered to realtime clients."}),
		authFailed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "herald", Name: "auth_failures_total",
			Help: "Authentication failures by Ably error code."}, []string{"code"}),
	}
	reg.MustRegister(m.connections, m.opened, m.attaches, m.messagesIn, m.messagesOut, m.authFailed,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// ConnectionOpened counts a new connection.
func (m *Metrics) ConnectionOpened() { m.connections.Inc(); m.opened.Inc() }

// ConnectionClosed counts a connection that ended.
func (m *Metrics) ConnectionClosed() { m.connections.Dec() }

// AuthFailed counts an authentication failure.
func (m *Metrics) AuthFailed(code int) { m.authFailed.WithLabelValues(strconv.Itoa(code)).Inc() }

// Attached counts a granted attach.
func (m *Metrics) Attached() { m.attaches.Inc() }

// MessagesIn counts messages received.
func (m *Metrics) MessagesIn(n int) { m.messagesIn.Add(float64(n)) }

// MessagesOut counts messages delivered.
func (m *Metrics) MessagesOut(n int) { m.messagesOut.Add(float64(n)) }
