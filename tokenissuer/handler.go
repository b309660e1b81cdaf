package tokenissuer

import (
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldrt/herald"
	"golang.org/x/time/rate"
)

// Defaults of HandlerConfig.
const (
	// DefaultRatePerSecond and DefaultBurst bound the token requests of
	// one caller: a page load needs one, a renewal one per TTL.
	DefaultRatePerSecond = 1.0
	DefaultBurst         = 10
	// DefaultCORSMaxAge is how long browsers may cache a preflight answer.
	DefaultCORSMaxAge = 10 * time.Minute

	maxFormBytes = 16 << 10
	maxLimiters  = 10000 // per limiter set, before idle entries are dropped
)

// HandlerConfig configures NewHandler.
type HandlerConfig struct {
	// Issuer signs the tokens. Required.
	Issuer *Issuer
	// Policy says what each caller gets. Required; its TTL may not exceed
	// Issuer.MaxTTL.
	Policy *Policy
	// Authenticator identifies callers. Required.
	Authenticator Authenticator
	// RatePerSecond and Burst limit the requests of each caller (by
	// Identity.User), and separately the failed authentications of each
	// client IP address. Zero means DefaultRatePerSecond and DefaultBurst;
	// a negative RatePerSecond disables limiting.
	RatePerSecond float64
	Burst         int
	// CORS lets browser apps on other origins call the handler.
	CORS CORS
	// Logger receives one line per request: user, format, outcome. Secrets,
	// tokens and Authorization headers are never logged. Nil discards.
	Logger *slog.Logger
}

// CORS is the cross-origin policy for browser callers. With no
// AllowedOrigins no CORS headers are sent, so browsers let only
// same-origin pages read tokens.
type CORS struct {
	// AllowedOrigins lists origins ("https://app.example.com") whose pages
	// may read responses, or "*" for any (not with AllowCredentials).
	AllowedOrigins []string
	// AllowCredentials lets browsers send cookies, for a HeaderAuth proxy
	// or an AuthenticatorFunc that reads a session cookie.
	AllowCredentials bool
	// MaxAge is how long a preflight answer may be cached; zero means
	// DefaultCORSMaxAge.
	MaxAge time.Duration
}

// NewHandler returns the HTTP handler of an auth server, the endpoint an
// SDK's authUrl (or an authCallback's fetch) calls (ably-auth §3.5,
// §4.1). It serves, for GET and POST (form-encoded, as ably-js's
// authMethod POST sends):
//
//	/token          the Policy's format
//	/jwt            a JWT
//	/token-request  a signed TokenRequest (refused, 403, for a policy with
//	                JWT-only claims, which a TokenRequest would drop)
//	/healthz        "ok"
//
// A JWT is sent as application/jwt, or as TokenDetails JSON when the
// Accept header asks for application/json and neither application/jwt,
// text/plain nor */*; a TokenRequest as application/json. Requests are
// authenticated, rate-limited and expanded through the Policy. Two
// parameters SDKs send are honoured: clientId (RSA8c2; it must equal the
// policy's clientId, else 403) and ttl in ms (it may shorten the policy's
// TTL, never lengthen it). A requested capability is ignored: the policy
// is the grant. Errors are Ably ErrorInfo JSON; 401 and 429 make SDKs
// retry later, 403 makes them stop (RSA4d).
func NewHandler(cfg HandlerConfig) (http.Handler, error) {
	switch {
	case cfg.Issuer == nil:
		return nil, herald.NewError(herald.CodeBadRequest, "tokenissuer: HandlerConfig.Issuer is required")
	case cfg.Policy == nil:
		return nil, herald.NewError(herald.CodeBadRequest, "tokenissuer: HandlerConfig.Policy is required")
	case cfg.Authenticator == nil:
		return nil, herald.NewError(herald.CodeBadRequest, "tokenissuer: HandlerConfig.Authenticator is required")
	}
	if err := cfg.Policy.Validate(); err != nil {
		return nil, err
	}
	if cfg.Policy.TTL > cfg.Issuer.MaxTTL() {
		return nil, policyError("ttl %s exceeds the key's maximum of %s", cfg.Policy.TTL, cfg.Issuer.MaxTTL())
	}
	h := &handler{cfg: cfg, log: cfg.Logger, origins: map[string]bool{}}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	for _, o := range cfg.CORS.AllowedOrigins {
		if o == "*" {
			if cfg.CORS.AllowCredentials {
				return nil, herald.NewError(herald.CodeBadRequest, "tokenissuer: CORS origin \"*\" cannot be combined with AllowCredentials")
			}
			h.anyOrigin = true
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
			return nil, herald.Errorf(herald.CodeBadRequest, "tokenissuer: CORS origin %s is not of the form https://host[:port]", quote(o))
		}
		h.origins[o] = true
	}
	if h.cfg.CORS.MaxAge == 0 {
		h.cfg.CORS.MaxAge = DefaultCORSMaxAge
	}
	r, burst := cfg.RatePerSecond, cfg.Burst
	if r == 0 {
		r = DefaultRatePerSecond
	}
	if burst <= 0 {
		burst = DefaultBurst
	}
	if r > 0 {
		h.users = newLimiters(rate.Limit(r), burst)
		h.failures = newLimiters(rate.Limit(r), burst)
	}
	return h, nil
}

type handler struct {
	cfg       HandlerConfig
	log       *slog.Logger
	origins   map[string]bool
	anyOrigin bool
	users     *limiters // nil = no limit
	failures  *limiters
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var format Format
	switch r.URL.Path {
	case "/token":
		format = h.cfg.Policy.format()
	case "/jwt":
		format = FormatJWT
	case "/token-request":
		format = FormatTokenRequest
	case "/healthz":
		w.Header().Set("Content-Type", ContentTypeText)
		w.Write([]byte("ok\n"))
		return
	default:
		WriteError(w, herald.Errorf(herald.CodeNotFound, "no such endpoint %s; use /token, /jwt or /token-request", quote(r.URL.Path)))
		return
	}
	if !h.cors(w, r) {
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		WriteError(w, herald.NewError(herald.CodeMethodNotAllow, "use GET or POST"))
		return
	}
	start := h.cfg.Issuer.now()
	user, err := h.serve(w, r, format, start)
	if err != nil {
		e := herald.AsError(err)
		h.log.Warn("token refused", "path", r.URL.Path, "user", user, "remote", remoteIP(r),
			"status", e.StatusCode, "code", e.Code, "reason", e.Message)
		WriteError(w, e)
		return
	}
	h.log.Info("token issued", "path", r.URL.Path, "user", user, "format", string(format),
		"duration", h.cfg.Issuer.now().Sub(start))
}

// serve authenticates, limits and issues; it returns the caller's user
// (for the log) and an error to send.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, format Format, now time.Time) (string, error) {
	ip := remoteIP(r)
	if h.failures != nil && !h.failures.ok(ip, now) {
		return "", tooMany(w, "too many failed authentications from this address")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return "", herald.NewError(herald.CodeInvalidRequestBody, "the request's parameters cannot be parsed")
	}
	id, err := h.cfg.Authenticator.Authenticate(r)
	if err == nil && id.User == "" {
		err = unauthorized("the caller has no user identity")
	}
	if err != nil {
		if h.failures != nil {
			h.failures.take(ip, now)
		}
		return "", err
	}
	if h.users != nil && !h.users.take(id.User, now) {
		return id.User, tooMany(w, "too many token requests for this user")
	}
	p, err := h.cfg.Policy.Params(id)
	if err != nil {
		return id.User, err
	}
	if err := applyRequest(r, &p); err != nil {
		return id.User, err
	}
	switch {
	case format == FormatTokenRequest:
		tr, err := h.cfg.Issuer.CreateTokenRequest(p)
		if err != nil {
			return id.User, final(err)
		}
		return id.User, TokenRequestResponse(tr).Write(w)
	default:
		td, err := h.cfg.Issuer.MintJWT(p)
		if err != nil {
			return id.User, final(err)
		}
		if wantsJSON(r.Header.Get("Accept")) {
			return id.User, TokenDetailsResponse(td).Write(w)
		}
		return id.User, JWTResponse(td.Token).Write(w)
	}
}

// final turns a refusal to sign into a 403: the same request would be
// refused again, so the SDK should stop rather than retry (RSA4d).
func final(err error) error {
	e := herald.AsError(err)
	if e.StatusCode >= 400 && e.StatusCode < 500 {
		return e.WithStatus(http.StatusForbidden)
	}
	return e
}

// applyRequest applies what the SDK sent along (RSA8c2): a clientId must
// match the policy's, a ttl may only shorten the token's life.
func applyRequest(r *http.Request, p *TokenParams) error {
	if cid, ok := r.Form["clientId"]; ok && len(cid) > 0 && cid[0] != p.ClientID && p.ClientID != "*" {
		return herald.Errorf(herald.CodeIncompatibleClientID,
			"the client asked for clientId %s but this caller's tokens are for %s; remove the clientId client option or make it match",
			quote(cid[0]), quote(p.ClientID)).WithStatus(http.StatusForbidden)
	}
	if s := r.Form.Get("ttl"); s != "" {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil || ms <= 0 {
			return herald.Errorf(herald.CodeInvalidParamValue, "ttl %s is not a positive number of milliseconds", quote(s))
		}
		ttl := p.TTL
		if ttl == 0 {
			ttl = DefaultTTL
		}
		if ms < ttl.Milliseconds() {
			p.TTL = time.Duration(ms) * time.Millisecond
		}
	}
	return nil
}

// wantsJSON reports whether an Accept header asks for JSON and not for a
// bare token (ably-js sends "application/json, text/plain", which gets
// the JWT).
func wantsJSON(accept string) bool {
	a := strings.ToLower(accept)
	if !strings.Contains(a, "application/json") {
		return false
	}
	return !strings.Contains(a, "application/jwt") && !strings.Contains(a, "text/plain") && !strings.Contains(a, "*/*")
}

// cors sets the CORS response headers and answers preflights. It reports
// whether the request should go on.
func (h *handler) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	allowed := origin != "" && (h.anyOrigin || h.origins[origin])
	hd := w.Header()
	if len(h.origins) > 0 || h.anyOrigin {
		hd.Add("Vary", "Origin")
	}
	if allowed {
		if h.anyOrigin {
			hd.Set("Access-Control-Allow-Origin", "*")
		} else {
			hd.Set("Access-Control-Allow-Origin", origin)
		}
		if h.cfg.CORS.AllowCredentials {
			hd.Set("Access-Control-Allow-Credentials", "true")
		}
	}
	if r.Method != http.MethodOptions {
		return true
	}
	if !allowed || r.Header.Get("Access-Control-Request-Method") == "" {
		WriteError(w, herald.NewError(herald.CodeForbidden, "cross-origin request from an origin that is not allowed"))
		return false
	}
	hd.Set("Access-Control-Allow-Methods", "GET, POST")
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		hd.Set("Access-Control-Allow-Headers", req)
	}
	hd.Set("Access-Control-Max-Age", strconv.Itoa(int(h.cfg.CORS.MaxAge/time.Second)))
	w.WriteHeader(http.StatusNoContent)
	return false
}

// tooMany returns a 429 and sets Retry-After.
func tooMany(w http.ResponseWriter, msg string) error {
	w.Header().Set("Retry-After", "1")
	return herald.NewError(herald.CodeRateLimit, msg+"; retry later")
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limiters is a set of token buckets keyed by caller. When it holds
// maxLimiters entries, full (idle) buckets are dropped; if none are, the
// set starts over, which can only give callers back their burst.
type limiters struct {
	mu    sync.Mutex
	m     map[string]*rate.Limiter
	r     rate.Limit
	burst int
}

func newLimiters(r rate.Limit, burst int) *limiters {
	return &limiters{m: map[string]*rate.Limiter{}, r: r, burst: burst}
}

func (l *limiters) get(key string, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if lim, ok := l.m[key]; ok {
		return lim
	}
	if len(l.m) >= maxLimiters {
		for k, lim := range l.m {
			if lim.TokensAt(now) >= float64(l.burst) {
				delete(l.m, k)
			}
		}
		if len(l.m) >= maxLimiters {
			clear(l.m)
		}
	}
	lim := rate.NewLimiter(l.r, l.burst)
	l.m[key] = lim
	return lim
}

// take spends one token of key's bucket, reporting whether there was one.
func (l *limiters) take(key string, now time.Time) bool { return l.get(key, now).AllowN(now, 1) }

// ok reports whether key's bucket has a token, without spending it or
// adding a bucket for key.
func (l *limiters) ok(key string, now time.Time) bool {
	l.mu.Lock()
	lim := l.m[key]
	l.mu.Unlock()
	return lim == nil || lim.TokensAt(now) >= 1
}
