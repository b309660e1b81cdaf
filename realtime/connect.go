package realtime

import (
	"context"
	"time"

	"github.com/gorilla/websocket"
	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/hub"
	"github.com/heraldrt/herald/protocol"
	"github.com/heraldrt/herald/stats"
)

// connect authenticates a new transport and either resumes the connection
// it names or starts a new one, then reads from it until it ends.
func (h *Handler) connect(t *transport, params connectParams) {
	p, err := h.deps.Auth.Authenticate(auth.WithRemoteAddr(context.Background(), params.remoteAddr), params.creds)
	if err != nil {
		e := herald.AsError(err)
		h.deps.Metrics.AuthFailed(e.Code)
		h.refuse(t, params.format, e)
		return
	}
	var c *Connection
	var resumeErr *herald.Error
	if params.resume != "" {
		c, resumeErr = h.resume(params, p, t)
	}
	if c == nil {
		c = h.newConnection(params, p)
		if !c.adoptTransport(t) {
			t.close()
			t.release()
			return
		}
		h.deps.Metrics.ConnectionOpened()
		if h.deps.Stats != nil {
			h.deps.Stats.Incr(p.AppID, stats.ConnectionsOpened, 1)
		}
		c.sendConnected(resumeErr)
	}
	c.scheduleTokenTimers()
	c.watchRevocation()
	t.startHeartbeats(h.heartbeat[c.format], h.cfg.MaxIdleInterval)
	// Until here this goroutine held the write token: the 101 response and
	// CONNECTED leave in one write.
	t.release()
	c.reader(t)
}

// refuse answers a failed connect: an ERROR then close. Token errors carry
// statusCode 401 and a 4014x code, so SDKs renew once and retry (RTN14b);
// anything else makes them fail (RTN14g). The caller holds the write
// token, so the frames are framed here and sent by the writer with the
// 101 response.
func (h *Handler) refuse(t *transport, f protocol.Format, e *herald.Error) {
	if b, err := protocol.Encode(f, &protocol.ProtocolMessage{Action: protocol.ActionError, Error: e}); err == nil {
		t.appendOut(appendFrame(nil, t.msgType, b))
	}
	t.abort(websocket.CloseNormalClosure, "")
	t.release()
}

func (h *Handler) newConnection(params connectParams, p *auth.Principal) *Connection {
	id := auth.RandomID(10)
	c := &Connection{
		h: h, id: id, key: id + "!" + auth.RandomID(16), format: params.format, echo: params.echo,
		principal: p, requested: params.creds, remoteAddr: params.remoteAddr, attachments: map[string]*hub.Attachment{},
	}
	h.mu.Lock()
	h.conns[c.key] = c
	h.mu.Unlock()
	return c
}

func (h *Handler) forget(c *Connection) {
	h.mu.Lock()
	if h.conns[c.key] == c {
		delete(h.conns, c.key)
	}
	h.mu.Unlock()
}

// adoptTransport makes t the connection's transport, replacing (and
// closing) any previous one; the frames held while disconnected go first.
func (c *Connection) adoptTransport(t *transport) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.destroyed {
		return false
	}
	if old := c.t; old != nil {
		old.close() // superseded by the resuming transport
	}
	if c.stateTimer != nil {
		c.stateTimer.Stop()
		c.stateTimer = nil
	}
	c.t = t
	t.onFail = c.transportFailed
	return true
}

// resume reattaches t to the connection named by its connectionKey (RTN15).
// It fails, and the caller starts a new connection reporting why, when the
// connection is unknown or expired (80008), when the credentials belong to
// another app or identity (80011), or when messages were lost while it was
// disconnected (80008).
func (h *Handler) resume(params connectParams, p *auth.Principal, t *transport) (*Connection, *herald.Error) {
	h.mu.Lock()
	c := h.conns[params.resume]
	h.mu.Unlock()
	if c == nil {
		return nil, herald.NewError(herald.CodeResumeFailed, "Unable to resume: the connection is unknown or has expired")
	}
	c.mu.Lock()
	old := c.principal
	overflow := c.overflow
	c.mu.Unlock()
	if old.AppID != p.AppID || old.ClientID != p.ClientID {
		return nil, herald.NewError(herald.CodeIncompatibleRec, "Unable to resume: the credentials are for another app or clientId")
	}
	if overflow {
		c.destroy(nil)
		return nil, herald.NewError(herald.CodeResumeFailed, "Unable to resume: too many frames were held while disconnected")
	}
	c.mu.Lock()
	c.principal = p
	c.format = params.format
	c.mu.Unlock()
	if !c.adoptTransport(t) {
		return nil, herald.NewError(herald.CodeResumeFailed, "Unable to resume: the connection has ended")
	}
	c.sendConnected(nil)
	c.mu.Lock()
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, b := range pending {
		c.enqueue(b)
	}
	return c, nil
}

// sendConnected sends CONNECTED with the connection's details (CD2).
func (c *Connection) sendConnected(errInfo *herald.Error) {
	p := c.Principal()
	cfg := c.h.cfg
	c.send(&protocol.ProtocolMessage{
		Action: protocol.ActionConnected, ConnectionID: c.id, ConnectionKey: c.key, Error: errInfo,
		ConnectionDetails: &protocol.ConnectionDetails{
			ClientID: p.ConnectionClientID(), ConnectionKey: c.key,
			ConnectionStateTTL: cfg.ConnectionStateTTL.Milliseconds(), MaxIdleInterval: cfg.MaxIdleInterval.Milliseconds(),
			MaxMessageSize: cfg.MaxMessageSize, ServerID: cfg.ServerID, SiteCode: "local",
		},
	})
}

// scheduleTokenTimers arms the AUTH reminder (AuthLeadTime before expiry,
// RTN22) and the expiry (DISCONNECTED 40142, RTN22a). Basic auth never
// expires.
func (c *Connection) scheduleTokenTimers() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, tm := range []*time.Timer{c.authTimer, c.expiryTimer} {
		if tm != nil {
			tm.Stop()
		}
	}
	c.authTimer, c.expiryTimer = nil, nil
	p := c.principal
	if p.Expires.IsZero() {
		return
	}
	now := c.h.deps.Clock.Now()
	untilExpiry := p.Expires.Sub(now)
	// AUTH only when the token outlives the lead time: a token shorter than
	// that is renewed after DISCONNECTED 40142 instead (RTN15h2), which is
	// also what lets a client with no means to renew see 40142 before it
	// fails (ably-js test auth_token_string_expiry_with_token).
	if d := untilExpiry - c.h.cfg.AuthLeadTime; d > 0 {
		c.authTimer = time.AfterFunc(d, func() {
			c.send(&protocol.ProtocolMessage{Action: protocol.ActionAuth})
		})
	}
	expires := p.Expires
	c.expiryTimer = time.AfterFunc(max(untilExpiry, 0), func() {
		c.mu.Lock()
		current := c.principal.Expires.Equal(expires)
		c.mu.Unlock()
		if current {
			c.endTransport(&protocol.ProtocolMessage{Action: protocol.ActionDisconnected,
				Error: herald.NewError(herald.CodeTokenExpired, "Token expired; renew the token and reconnect")})
		}
	})
}
