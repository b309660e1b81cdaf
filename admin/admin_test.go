package admin_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldrt/herald/admin"
)

func get(t *testing.T, h http.Handler, method, path string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newHandler(t *testing.T, cfg admin.Config) http.Handler {
	t.Helper()
	h, err := admin.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHandler_Routes(t *testing.T) {
	h := newHandler(t, admin.Config{})
	tests := []struct {
		name, method, path string
		status             int
		ctype, contains    string
	}{
		{"bare prefix redirects", "GET", "/dashboard", http.StatusMovedPermanently, "", ""},
		{"page", "GET", "/dashboard/", 200, "text/html; charset=utf-8", `data-control-api="/v1"`},
		{"page by name", "GET", "/dashboard/index.html", 200, "text/html; charset=utf-8", "Create a new API key"},
		{"script", "GET", "/dashboard/static/app.js", 200, "text/javascript; charset=utf-8", "sessionStorage"},
		{"module", "GET", "/dashboard/static/keys.js", 200, "text/javascript; charset=utf-8", "restriction"},
		{"style", "GET", "/dashboard/static/dashboard.css", 200, "text/css; charset=utf-8", "system-ui"},
		{"head", "HEAD", "/dashboard/static/api.js", 200, "text/javascript; charset=utf-8", ""},
		{"missing file", "GET", "/dashboard/static/nope.js", 404, "", ""},
		{"template not served raw", "GET", "/dashboard/static/../index.html", 404, "", ""},
		{"other path under prefix", "GET", "/dashboard/keys", 404, "", ""},
		{"outside the prefix", "GET", "/dashboardx", 404, "", ""},
		{"write method", "POST", "/dashboard/", 405, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(t, h, tt.method, tt.path)
			if resp.StatusCode != tt.status {
				t.Fatalf("%s %s: status %d, want %d", tt.method, tt.path, resp.StatusCode, tt.status)
			}
			if tt.ctype != "" && resp.Header.Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tt.ctype)
			}
			if b := body(t, resp); tt.contains != "" && !strings.Contains(b, tt.contains) {
				t.Errorf("body lacks %q", tt.contains)
			}
			if tt.status == http.StatusMovedPermanently && resp.Header.Get("Location") != "/dashboard/" {
				t.Errorf("Location %q, want /dashboard/", resp.Header.Get("Location"))
			}
		})
	}
}

// TestHandler_SecurityHeaders checks that the page loads nothing from
// elsewhere and runs no inline script.
func TestHandler_SecurityHeaders(t *testing.T) {
	h := newHandler(t, admin.Config{})
	resp := get(t, h, "GET", "/dashboard/")
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self';", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	page := body(t, resp)
	for _, bad := range []string{"http://", "https://", "<script>", "style="} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q: it must load nothing external and have no inline script or style", bad)
		}
	}
}

func TestHandler_ETag(t *testing.T) {
	h := newHandler(t, admin.Config{})
	first := get(t, h, "GET", "/dashboard/static/app.js")
	etag := first.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if resp := get(t, h, "GET", "/dashboard/static/app.js", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: status %d, want 304", resp.StatusCode)
	}
}

func TestNew_Config(t *testing.T) {
	h := newHandler(t, admin.Config{Prefix: "/admin/", ControlAPI: "https://control.example:9443/v1/", Title: "Ops <console>"})
	resp := get(t, h, "GET", "/admin/")
	page := body(t, resp)
	for _, want := range []string{`href="/admin/static/dashboard.css"`, `src="/admin/static/app.js"`,
		`data-control-api="https://control.example:9443/v1"`, "<title>Ops &lt;console&gt;</title>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' https://control.example:9443;") {
		t.Errorf("CSP %q does not allow the Control API's origin", csp)
	}
	if resp := get(t, h, "GET", "/dashboard/"); resp.StatusCode != 404 {
		t.Errorf("default prefix still served: %d", resp.StatusCode)
	}
}
