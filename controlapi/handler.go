// Package controlapi serves Herald's Control API under /v1, shaped like
// Ably's (ably-auth §9; Ably's control-v1.yaml): account access tokens sent
// as "Authorization: Bearer", apps, API keys with revocation, plus Herald's
// extensions: key restrictions, key rotation and the audit log. It is the one
// way a dashboard changes anything (docs/decisions.md).
//
// Handlers return errors; writeError alone writes them, in the Control API
// error shape {message, code, statusCode, href, details}.
package controlapi

import (
	"context"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

// Config configures the Control API.
type Config struct {
	// AccountID is the installation's account: the only one /v1/accounts
	// knows. Required.
	AccountID string
	// AccountName is shown by GET /v1/me. Default "Herald".
	AccountName string
}

// Store is what the Control API reads and writes.
type Store interface {
	herald.AppStore
	herald.KeyStore
	herald.ProvisionStore
	herald.AccessTokenStore
	herald.AuditStore
}

// KeyCache is reloaded after every app or key write, so that the change
// applies at once: a revoked key's tokens stop working and its live
// connections are closed (auth.KeyCache; the server wires the reload to the
// realtime endpoint's key recheck).
type KeyCache interface {
	Invalidate(ctx context.Context) error
}

// Auditor records audit entries. Record writes one entry (changes); AuthFailed
// counts a refused access token (aggregated per minute by the recorder). Both
// must not fail the request: they log their own errors.
type Auditor interface {
	Record(ctx context.Context, e *herald.AuditEntry)
	AuthFailed(f auth.Failure)
}

// Deps are the Control API's collaborators.
type Deps struct {
	Store Store
	Keys  KeyCache
	// Audit records every change (nil: none).
	Audit Auditor
	// OnAppDeleted, if set, runs after an app is deleted (the server drops
	// the app's channels and stats counters).
	OnAppDeleted func(appID string)
	Clock        herald.Clock
	Logger       *slog.Logger
}

// Handler is the Control API.
type Handler struct {
	cfg    Config
	deps   Deps
	logger *slog.Logger
	mux    *http.ServeMux
}

// New returns the Control API handler.
func New(cfg Config, deps Deps) *Handler {
	if cfg.AccountName == "" {
		cfg.AccountName = "Herald"
	}
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

// authedFunc is a handler that runs once the access token is verified and
// holds the route's capability.
type authedFunc func(w http.ResponseWriter, r *http.Request, tok *herald.AccessToken) error

// route is one method of a path: the capability it needs ("" = any valid
// token) and its handler.
type route struct {
	capability string
	fn         authedFunc
}

type methods map[string]route

func (h *Handler) routes() {
	h.handle("/v1/me", methods{"GET": {"", h.me}})
	h.handle("/v1/accounts/{accountID}/apps", methods{
		"GET": {herald.CapReadApp, h.listApps}, "POST": {herald.CapWriteApp, h.createApp}})
	h.handle("/v1/accounts/{accountID}/audit", methods{"GET": {herald.CapReadAudit, h.accountAudit}})
	h.handle("/v1/apps/{appID}", methods{
		"PATCH": {herald.CapWriteApp, h.updateApp}, "DELETE": {herald.CapWriteApp, h.deleteApp}})
	h.handle("/v1/apps/{appID}/keys", methods{
		"GET": {herald.CapReadKey, h.listKeys}, "POST": {herald.CapWriteKey, h.createKey}})
	h.handle("/v1/apps/{appID}/keys/{keyID}", methods{
		"GET": {herald.CapReadKey, h.getKey}, "PATCH": {herald.CapWriteKey, h.updateKey}})
	h.handle("/v1/apps/{appID}/keys/{keyID}/revoke", methods{"POST": {herald.CapWriteKey, h.revokeKey}})
	h.handle("/v1/apps/{appID}/keys/{keyID}/rotate", methods{"POST": {herald.CapWriteKey, h.rotateKey}})
	h.handle("/v1/apps/{appID}/audit", methods{"GET": {herald.CapReadAudit, h.appAudit}})
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.writeError(w, r, herald.Errorf(herald.CodeNotFound, "No such Control API endpoint: %s %s", r.Method, r.URL.Path))
	})
}

// handle registers pattern: a method it lacks gets a 405 with an Allow
// header; every other request is authenticated, checked for the route's
// capability and passed on.
func (h *Handler) handle(pattern string, m methods) {
	allowed := make([]string, 0, len(m))
	for k := range m {
		allowed = append(allowed, k)
	}
	sort.Strings(allowed)
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		rt, ok := m[r.Method]
		if !ok {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			h.writeError(w, r, herald.Errorf(herald.CodeMethodNotAllow, "Method %s is not allowed on %s", r.Method, r.URL.Path))
			return
		}
		tok, err := h.authenticate(r)
		if err == nil {
			err = requireCapability(tok, rt.capability)
		}
		if err == nil {
			err = rt.fn(w, r, tok)
		}
		if err != nil {
			h.writeError(w, r, err)
		}
	})
}

// ServeHTTP serves the Control API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store") // responses carry key secrets
	h.mux.ServeHTTP(w, r)
}

// touchInterval is how stale an access token's LastUsed may get: updating it
// on every request would turn every read into a write.
const touchInterval = time.Minute

// authenticate verifies the request's bearer access token. Refusals are
// 401 (40101) and reported to the audit log without the token.
func (h *Handler) authenticate(r *http.Request) (*herald.AccessToken, error) {
	ctx := r.Context()
	header := r.Header.Get("Authorization")
	scheme, token, _ := strings.Cut(header, " ")
	token = strings.TrimSpace(token)
	var err error
	var tok *herald.AccessToken
	switch {
	case header == "":
		err = herald.NewError(herald.CodeInvalidCredentials,
			"The Control API needs an account access token: send Authorization: Bearer <token>")
	case !strings.EqualFold(scheme, "Bearer") || token == "":
		err = herald.NewError(herald.CodeInvalidCredentials,
			"The Control API accepts only Authorization: Bearer <access token> (API keys and Ably tokens are for the REST and realtime APIs)")
	default:
		tok, err = auth.VerifyAccessToken(ctx, h.deps.Store, token, h.deps.Clock.Now())
	}
	if err != nil {
		if h.deps.Audit != nil && herald.AsError(err).Code != herald.CodeInternal {
			// Only the public id is recorded, and only when the string has
			// an access token's shape: a pasted secret must not be logged.
			id, _, _ := strings.Cut(token, ".")
			if !auth.IsAccessTokenID(id) {
				id = ""
			}
			h.deps.Audit.AuthFailed(auth.Failure{KeyName: id, Method: "accessToken",
				Code: herald.AsError(err).Code, RemoteAddr: r.RemoteAddr})
		}
		return nil, err
	}
	if now := h.deps.Clock.Now(); now.Sub(tok.LastUsed) >= touchInterval {
		if err := h.deps.Store.TouchAccessToken(ctx, tok.ID, now); err != nil {
			h.logger.Warn("control API: recording access-token use failed", "token", tok.ID, "err", err)
		}
		tok.LastUsed = now
	}
	return tok, nil
}

// requireCapability refuses a token without capability c: 403 (40300),
// since the token itself is valid.
func requireCapability(tok *herald.AccessToken, c string) error {
	if c == "" || tok.Can(c) {
		return nil
	}
	return herald.Errorf(herald.CodeForbidden,
		"Access token %q lacks the %q capability this operation needs (it has: %s)", tok.ID, c, strings.Join(tok.Capabilities, ", "))
}

// actor names the token in audit entries.
func actor(tok *herald.AccessToken) string { return "accessToken:" + tok.ID }

// record writes an audit entry for a change made with tok.
func (h *Handler) record(r *http.Request, tok *herald.AccessToken, e *herald.AuditEntry) {
	if h.deps.Audit == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = h.deps.Clock.Now()
	}
	e.Actor, e.Address = actor(tok), r.RemoteAddr
	h.deps.Audit.Record(r.Context(), e)
}

// invalidate reloads the key cache after a write.
func (h *Handler) invalidate(ctx context.Context) error {
	if h.deps.Keys == nil {
		return nil
	}
	return h.deps.Keys.Invalidate(ctx)
}

// meResponse is GET /v1/me (ably-auth §9.1). Herald has no users, so there
// is no "user" member.
type meResponse struct {
	Token struct {
		ID           string   `json:"id"`
		Name         string   `json:"name"`
		Capabilities []string `json:"capabilities"`
		ExpiresAt    *int64   `json:"expires_at"`
		LastUsedAt   *int64   `json:"last_used_at"`
	} `json:"token"`
	Account struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"account"`
}

func (h *Handler) me(w http.ResponseWriter, r *http.Request, tok *herald.AccessToken) error {
	var resp meResponse
	resp.Token.ID, resp.Token.Name, resp.Token.Capabilities = tok.ID, tok.Name, tok.Capabilities
	resp.Token.ExpiresAt, resp.Token.LastUsedAt = optMillis(tok.Expires), optMillis(tok.LastUsed)
	resp.Account.ID, resp.Account.Name = tok.AccountID, h.cfg.AccountName
	return writeJSON(w, http.StatusOK, resp)
}

// optMillis returns t in ms, or nil (JSON null) for the zero time.
func optMillis(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	ms := t.UnixMilli()
	return &ms
}
