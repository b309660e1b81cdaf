// Package httpapi serves Herald's REST API on net/http: /time, /stats,
// /apps provisioning, token requests and the channel endpoints. Handlers
// return errors; one adapter (writeError) turns them into Ably error bodies in
// the format the client asked for.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/hub"
	"github.com/heraldrt/herald/stats"
)

// Config configures the REST API.
type Config struct {
	// Provisioning enables POST /apps and DELETE /apps/{id} (sandbox style).
	Provisioning bool
	// ProvisioningToken, when set, must be sent as "Authorization: Bearer
	// TOKEN" on POST /apps.
	ProvisioningToken string
	// TrustedProxies are the peer addresses whose X-Forwarded-Proto is
	// believed when deciding whether a request came over TLS.
	TrustedProxies []netip.Prefix
	// AccountID is the account new apps belong to.
	AccountID string
}

// Deps are the collaborators the REST API needs.
type Deps struct {
	Store  herald.Store
	Auth   *auth.Authenticator
	Hub    *hub.Hub
	Stats  *stats.Recorder
	Clock  herald.Clock
	Logger *slog.Logger
	// Metrics counts authentication failures (nil: not counted).
	Metrics interface{ AuthFailed(code int) }
	// Revoker pushes revocations to live connections (nil: none).
	Revoker Revoker
	// Audit records revokeTokens calls and provisioned or deleted apps in
	// the audit log (nil: none).
	Audit Auditor
	// Fallback serves requests no REST route matches (the realtime
	// WebSocket endpoint at "/"); nil means 404.
	Fallback http.Handler
}

// Handler is the REST API.
type Handler struct {
	cfg    Config
	deps   Deps
	logger *slog.Logger
	mux    *http.ServeMux
}

// New returns the REST handler.
func New(cfg Config, deps Deps) *Handler {
	if deps.Clock == nil {
		deps.Clock = herald.SystemClock{}
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, deps: deps, logger: logger, mux: http.NewServeMux()}
	h.routes()
	return h
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// methods routes by method inside one path pattern so that a wrong method
// gets an Ably 40500 body rather than net/http's plain-text 405.
type methods map[string]handlerFunc

func (h *Handler) routes() {
	h.handle("/time", methods{"GET": h.getTime})
	h.handle("/healthz", methods{"GET": h.healthz})
	h.handle("/stats", methods{"GET": h.getStats})
	h.handle("/apps", methods{"POST": h.postApps})
	h.handle("/apps/{appID}", methods{"DELETE": h.deleteApp})
	h.handle("/keys/{keyName}/requestToken", methods{"POST": h.requestToken})
	h.handle("/keys/{keyName}/revokeTokens", methods{"POST": h.revokeTokens})
	h.handle("/channels", methods{"GET": h.listChannels})
	h.handle("/channels/{channel}", methods{"GET": h.getChannel})
	h.handle("/channels/{channel}/messages", methods{"GET": h.getHistory, "POST": h.postMessages})
	h.handle("/channels/{channel}/presence", methods{"GET": h.getPresence})
	h.handle("/channels/{channel}/presence/history", methods{"GET": h.getPresenceHistory})
	h.handle("/messages", methods{"POST": h.postBatch})
	h.handle("/presence", methods{"GET": h.getBatchPresence})
	h.mux.HandleFunc("/", h.fallback)
}

func (h *Handler) handle(pattern string, m methods) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		fn, ok := m[r.Method]
		if !ok && r.Method == http.MethodHead {
			fn, ok = m[http.MethodGet]
		}
		if !ok {
			allow := ""
			for k := range m {
				if allow != "" {
					allow += ", "
				}
				allow += k
			}
			w.Header().Set("Allow", allow)
			writeError(w, r, h.logger, herald.Errorf(herald.CodeMethodNotAllow,
				"Method %s is not allowed on %s", r.Method, r.URL.Path))
			return
		}
		if err := fn(w, r); err != nil {
			writeError(w, r, h.logger, err)
		}
	})
}

// ServeHTTP counts the request in the app's stats once it is done.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &reqInfo{}
	sw := &statusWriter{ResponseWriter: w}
	ctx := auth.WithRemoteAddr(context.WithValue(r.Context(), reqInfoKey{}, rec), r.RemoteAddr)
	h.mux.ServeHTTP(sw, r.WithContext(ctx))
	if rec.appID != "" && h.deps.Stats != nil && !rec.noCount {
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		if rec.tokenRequest {
			countTokenRequest(h.deps.Stats, rec.appID, status)
		}
		switch {
		case status < 400:
			h.deps.Stats.Incr(rec.appID, stats.APIRequestsSucceeded, 1)
		case status == 401 || status == 403 || status == 429:
			h.deps.Stats.Incr(rec.appID, stats.APIRequestsRefused, 1)
		default:
			h.deps.Stats.Incr(rec.appID, stats.APIRequestsFailed, 1)
		}
	}
}

func (h *Handler) fallback(w http.ResponseWriter, r *http.Request) {
	if h.deps.Fallback != nil && r.URL.Path == "/" {
		h.deps.Fallback.ServeHTTP(w, r)
		return
	}
	writeError(w, r, h.logger, herald.Errorf(herald.CodeNotFound, "No such endpoint: %s %s", r.Method, r.URL.Path))
}

type reqInfoKey struct{}

// reqInfo lets handlers tell the stats middleware which app a request
// belongs to (known only after authentication).
type reqInfo struct {
	appID        string
	noCount      bool
	tokenRequest bool
}

func setApp(r *http.Request, appID string) {
	if ri, ok := r.Context().Value(reqInfoKey{}).(*reqInfo); ok {
		ri.appID = appID
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer (needed
// for hijacking the connection on WebSocket upgrades).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) error {
	return write(w, r, http.StatusOK, map[string]string{"status": "ok"})
}

// getTime answers GET /time with [ms] and no authentication (RSC16).
func (h *Handler) getTime(w http.ResponseWriter, r *http.Request) error {
	return write(w, r, http.StatusOK, []int64{h.deps.Clock.Now().UnixMilli()})
}
