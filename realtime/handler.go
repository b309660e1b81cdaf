// Package realtime serves Ably's realtime protocol over WebSocket: connect
// with any credential, channels, publish/subscribe, presence, token expiry
// and in-band re-auth, and connection resume (ably-protocol.md §A). Each
// connection has a reader goroutine and a bounded send queue whose frames
// are written in batches by the handler's flushers (transport.go); auth
// decisions come from package auth and channel state from hub.
package realtime

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/hub"
	"github.com/heraldrt/herald/protocol"
)

// Config configures the realtime endpoint. Zero values mean defaults.
type Config struct {
	// ConnectionStateTTL is how long a dropped connection's state
	// (channels, presence, undelivered messages) is kept for a resume.
	// Default 2 minutes (Ably's connectionStateTtl).
	ConnectionStateTTL time.Duration
	// MaxIdleInterval is the longest the server stays silent; a HEARTBEAT
	// is sent when nothing else was. Default 15 s.
	MaxIdleInterval time.Duration
	// AuthLeadTime is how long before a token expires the server sends AUTH
	// asking the client to renew (RTN22). Default 30 s, as Ably.
	AuthLeadTime time.Duration
	// SendQueue is the number of frames queued per connection before the
	// connection counts as a slow consumer and is disconnected. Default 512.
	SendQueue int
	// ResumeBuffer bounds the frames kept for a disconnected connection;
	// past it a resume fails rather than lose messages silently. Default 1000.
	ResumeBuffer int
	// MaxMessageSize is announced in connectionDetails. Default 65536.
	MaxMessageSize int
	// ServerID names this node in connectionDetails.
	ServerID string
	// TrustedProxies decide whether a plain connection came through a TLS
	// terminating proxy (X-Forwarded-Proto).
	TrustedProxies []netip.Prefix
	// WriteTimeout bounds one write to a socket. Default 10 s.
	WriteTimeout time.Duration
	// Compression accepts permessage-deflate when a client offers it.
	// Off by default: each subscriber's copy of a delivery would be
	// compressed on its own, undoing encode-once fan-out, for frames that
	// are mostly a few hundred bytes (docs/decisions.md).
	Compression bool
}

func (c Config) withDefaults() Config {
	if c.ConnectionStateTTL <= 0 {
		c.ConnectionStateTTL = 2 * time.Minute
	}
	if c.MaxIdleInterval <= 0 {
		c.MaxIdleInterval = 15 * time.Second
	}
	if c.AuthLeadTime <= 0 {
		c.AuthLeadTime = 30 * time.Second
	}
	if c.SendQueue <= 0 {
		c.SendQueue = 512
	}
	if c.ResumeBuffer <= 0 {
		c.ResumeBuffer = 1000
	}
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = 65536
	}
	if c.ServerID == "" {
		c.ServerID = "herald-1"
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	return c
}

// Metrics receives connection events (a Prometheus adapter implements it).
type Metrics interface {
	ConnectionOpened()
	ConnectionClosed()
	AuthFailed(code int)
	Attached()
	MessagesIn(n int)
	MessagesOut(n int)
}

// Deps are the handler's collaborators.
type Deps struct {
	Auth    *auth.Authenticator
	Hub     *hub.Hub
	Clock   herald.Clock
	Logger  *slog.Logger
	Metrics Metrics
	// Stats counts connections per app.
	Stats hub.StatsSink
}

// readBufferSize is gorilla's per-connection read buffer.
const readBufferSize = 1024

// Handler is the WebSocket endpoint.
type Handler struct {
	cfg      Config
	deps     Deps
	logger   *slog.Logger
	upgrader websocket.Upgrader

	flush *flushers
	// heartbeat is the encoded HEARTBEAT per format (shared by every
	// connection).
	heartbeat [2][]byte

	mu     sync.Mutex
	conns  map[string]*Connection // by connectionKey
	closed bool
}

// New returns the endpoint; it starts nothing until connections arrive.
func New(cfg Config, deps Deps) *Handler {
	cfg = cfg.withDefaults()
	if deps.Clock == nil {
		deps.Clock = herald.SystemClock{}
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if deps.Metrics == nil {
		deps.Metrics = nopMetrics{}
	}
	h := &Handler{
		flush: startFlushers(0),
		cfg:   cfg, deps: deps, logger: logger, conns: map[string]*Connection{},
		upgrader: websocket.Upgrader{
			// A small read buffer of its own (the 4 KiB one net/http
			// allocated is let go with the request), and a pooled write
			// buffer lent only while a frame is framed, so an idle
			// connection holds 1 KiB (docs/benchmarks.md "Memory per idle
			// connection"). Longer frames are read straight into the
			// message buffer.
			ReadBufferSize: readBufferSize, WriteBufferSize: 0,
			WriteBufferPool: &sync.Pool{},
			// SDKs send no Origin (node) or a page's origin (browsers);
			// credentials, not origins, guard the endpoint.
			CheckOrigin:       func(*http.Request) bool { return true },
			EnableCompression: cfg.Compression,
		},
	}
	for _, f := range []protocol.Format{protocol.JSON, protocol.Msgpack} {
		h.heartbeat[f], _ = protocol.Encode(f, &protocol.ProtocolMessage{Action: protocol.ActionHeartbeat})
	}
	return h
}

// IsUpgrade reports whether r asks for a WebSocket.
func IsUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// ServeHTTP upgrades the request and runs the connection. Auth failures are
// reported after the upgrade as protocol messages (§8.3): an HTTP error
// would look like a network failure to the SDKs.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format := protocol.JSON
	if f, ok := protocol.ParseFormat(q.Get("format")); ok {
		format = f
	}
	t := newTransport(h.cfg.SendQueue, format == protocol.Msgpack, h.cfg.Compression, h.cfg.WriteTimeout, h.flush)
	ws, err := h.upgrader.Upgrade(hijacker{w, t}, r, nil)
	if err != nil {
		return // the upgrader has answered with an HTTP error
	}
	t.ws = ws
	c := auth.Credentials{TLS: r.TLS != nil || auth.ViaTrustedTLSProxy(r.RemoteAddr, r.Header.Get("X-Forwarded-Proto"), h.cfg.TrustedProxies)}
	c.Key = q.Get("key")
	c.Token = q.Get("access_token")
	if c.Token == "" {
		c.Token = q.Get("accessToken")
	}
	if c.Key == "" && c.Token == "" {
		// Not what SDKs do, but free to accept (ably-auth §2.2).
		_ = auth.ParseAuthorization(r.Header.Get("Authorization"), &c)
	}
	if q.Has("clientId") {
		c.ClientID, c.HasClientID = q.Get("clientId"), true
	}
	params := connectParams{
		format: format,
		echo:   q.Get("echo") != "false",
		resume: firstNonEmpty(q.Get("resume"), q.Get("recover")),
		creds:  c,
		// For the audit of refused credentials.
		remoteAddr: r.RemoteAddr,
	}
	// The connection runs on its own goroutine so that this one returns
	// and net/http lets go of the request, its buffers and its deeper
	// stack for the connection's lifetime.
	go h.connect(t, params)
}

type connectParams struct {
	format     protocol.Format
	echo       bool
	resume     string
	creds      auth.Credentials
	remoteAddr string
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Close ends every connection. Idempotent.
func (h *Handler) Close(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	conns := make([]*Connection, 0, len(h.conns))
	for _, c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.destroy(herald.NewError(herald.CodeUnavailable, "Server shutting down"))
	}
	h.flush.stop()
	return nil
}

// ConnectionCount reports the live connections (connected or resumable).
func (h *Handler) ConnectionCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// Connections returns a snapshot of the live connections.
func (h *Handler) Connections() []*Connection {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*Connection, 0, len(h.conns))
	for _, c := range h.conns {
		out = append(out, c)
	}
	return out
}

type nopMetrics struct{}

func (nopMetrics) ConnectionOpened() {}
func (nopMetrics) ConnectionClosed() {}
func (nopMetrics) AuthFailed(int)    {}
func (nopMetrics) Attached()         {}
func (nopMetrics) MessagesIn(int)    {}
func (nopMetrics) MessagesOut(int)   {}
