// Package admin serves Herald's web dashboard: a login page that takes a
// Control API access token, then apps, API keys, token revocation, the audit
// log and live counts. The dashboard is static HTML, CSS and JavaScript
// embedded in the binary (no build step, no CDN, no external fonts); the
// browser does everything through the Control API (/v1) and, for token
// revocation and stats, through the Ably REST API with the key's own
// credentials. This package holds no state and no secrets: the access token
// lives in the browser's sessionStorage.
package admin

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

//go:embed index.html static
var files embed.FS

// Config configures the dashboard.
type Config struct {
	// Prefix is the path the dashboard is mounted at, without a trailing
	// slash. Default "/dashboard".
	Prefix string
	// ControlAPI is the Control API's base path or URL as the browser
	// reaches it. Default "/v1" (same origin). An absolute URL on another
	// origin is allowed by the page's Content-Security-Policy, but that
	// origin must then answer CORS requests.
	ControlAPI string
	// Title is the page title. Default "Herald dashboard".
	Title string
}

func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = "/dashboard"
	}
	c.Prefix = "/" + strings.Trim(c.Prefix, "/")
	if c.ControlAPI == "" {
		c.ControlAPI = "/v1"
	}
	c.ControlAPI = strings.TrimRight(c.ControlAPI, "/")
	if c.Title == "" {
		c.Title = "Herald dashboard"
	}
	return c
}

// asset is one embedded file, ready to serve.
type asset struct {
	data        []byte
	contentType string
	etag        string
}

// Handler serves the dashboard under its prefix.
type Handler struct {
	cfg    Config
	index  asset
	assets map[string]asset // by path below static/
	csp    string
}

// New returns the dashboard handler. It serves cfg.Prefix (redirected to
// cfg.Prefix + "/"), the page itself at cfg.Prefix + "/" and its files under
// cfg.Prefix + "/static/"; anything else under the prefix is a 404.
func New(cfg Config) (*Handler, error) {
	cfg = cfg.withDefaults()
	h := &Handler{cfg: cfg, assets: map[string]asset{}}
	tmpl, err := template.ParseFS(files, "index.html")
	if err != nil {
		return nil, fmt.Errorf("admin: parse index.html: %w", err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, cfg); err != nil {
		return nil, fmt.Errorf("admin: render index.html: %w", err)
	}
	h.index = newAsset(buf.Bytes(), "text/html; charset=utf-8")
	err = fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		h.assets[strings.TrimPrefix(p, "static/")] = newAsset(data, contentType(p))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("admin: read static files: %w", err)
	}
	h.csp = csp(cfg.ControlAPI)
	return h, nil
}

func newAsset(data []byte, ctype string) asset {
	sum := sha256.Sum256(data)
	return asset{data: data, contentType: ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// contentType names the types the dashboard uses; mime.TypeByExtension
// depends on the host's mime tables, which vary.
func contentType(p string) string {
	switch path.Ext(p) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	}
	return "application/octet-stream"
}

// csp is the page's Content-Security-Policy: only the dashboard's own
// files, no inline script or style, and requests only to this origin (plus
// the Control API's origin when it is elsewhere).
func csp(controlAPI string) string {
	connect := "'self'"
	if u, err := url.Parse(controlAPI); err == nil && u.Scheme != "" && u.Host != "" {
		connect += " " + u.Scheme + "://" + u.Host
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src " + connect +
		"; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// ServeHTTP serves the dashboard.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, h.cfg.Prefix)
	switch {
	case !ok:
		http.NotFound(w, r)
	case rest == "":
		http.Redirect(w, r, h.cfg.Prefix+"/", http.StatusMovedPermanently)
	case rest == "/" || rest == "/index.html":
		h.serve(w, r, h.index)
	case strings.HasPrefix(rest, "/static/"):
		a, ok := h.assets[strings.TrimPrefix(rest, "/static/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h.serve(w, r, a)
	default:
		http.NotFound(w, r)
	}
}

// serve writes a with the security headers every dashboard response
// carries. Files are revalidated on each load (no-cache with an ETag), so
// that an upgraded binary's dashboard is picked up at once.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, a asset) {
	hd := w.Header()
	hd.Set("Content-Type", a.contentType)
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", a.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.data))
}
