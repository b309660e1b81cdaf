package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldrt/herald/metrics"
)

func TestMetrics_Exposed(t *testing.T) {
	m := metrics.New()
	m.ConnectionOpened()
	m.ConnectionOpened()
	m.ConnectionClosed()
	m.AuthFailed(40101)
	m.AuthFailed(40101)
	m.MessagesIn(3)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{"herald_connections 1", "herald_connections_opened_total 2", `herald_auth_failures_total{code="40101"} 2`, "herald_messages_in_total 3"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
