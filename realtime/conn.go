package realtime

import (
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/hub"
	"github.com/heraldrt/herald/protocol"
)

// Connection is one Ably connection. It outlives its transport: after the
// socket drops it keeps its channels, presence and undelivered frames for
// ConnectionStateTTL so that the client can resume (RTN15).
type Connection struct {
	h      *Handler
	id     string
	key    string // connectionKey: id + "!" + random secret (resume proof)
	format protocol.Format
	echo   bool

	mu          sync.Mutex
	principal   *auth.Principal
	requested   auth.Credentials // what the client asked for at connect
	remoteAddr  string           // the client's address at connect (audit of refused re-auth)
	attachments map[string]*hub.Attachment
	t           *transport // nil while disconnected
	pending     [][]byte   // frames held while disconnected
	overflow    bool       // pending overflowed: a resume must fail
	destroyed   bool
	stateTimer  *time.Timer
	authTimer   *time.Timer
	expiryTimer *time.Timer
}

// ConnectionID implements hub.Subscriber.
func (c *Connection) ConnectionID() string { return c.id }

// Echo implements hub.Subscriber.
func (c *Connection) Echo() bool { return c.echo }

// Principal returns the connection's current identity.
func (c *Connection) Principal() *auth.Principal {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.principal
}

// Deliver implements hub.Subscriber: encode once per format (shared by
// every subscriber of that format) and queue without blocking.
func (c *Connection) Deliver(d *hub.Delivery) {
	b, err := d.Frame(int(c.format), encodeDelivery(c.format))
	if err != nil {
		c.h.logger.Error("encode delivery", "err", err)
		return
	}
	c.h.deps.Metrics.MessagesOut(len(d.Messages))
	c.enqueueFrame(b, true)
}

func encodeDelivery(f protocol.Format) func(d *hub.Delivery) ([]byte, error) {
	return func(d *hub.Delivery) ([]byte, error) {
		pm := &protocol.ProtocolMessage{
			Action: protocol.ActionMessage, Channel: d.Channel, ChannelSerial: d.ChannelSerial,
			ID: d.ID, ConnectionID: d.Origin, Timestamp: d.Timestamp, Messages: d.Messages,
		}
		if len(d.Presence) > 0 {
			pm.Action, pm.Messages, pm.Presence = protocol.ActionPresence, nil, d.Presence
		}
		return protocol.Encode(f, pm)
	}
}

// send encodes and queues a protocol message for this connection.
func (c *Connection) send(pm *protocol.ProtocolMessage) {
	b, err := protocol.Encode(c.format, pm)
	if err != nil {
		c.h.logger.Error("encode frame", "action", pm.Action, "err", err)
		return
	}
	c.enqueue(b)
}

// enqueue hands a control frame to the writer, or holds it while
// disconnected.
func (c *Connection) enqueue(b []byte) { c.enqueueFrame(b, false) }

// enqueueFrame hands a frame to the writer. While disconnected, control
// frames are held for the resume, but channel deliveries are not: the
// client re-attaches with the channelSerial it last saw and the channel's
// replay buffer sends what it missed (RTL4c1), which also covers frames
// that were written to a socket that had already died. A full send queue
// means the client is not reading fast enough: the transport is dropped
// (the client may resume) instead of stalling fan-out.
func (c *Connection) enqueueFrame(b []byte, delivery bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.destroyed {
		return
	}
	if c.t == nil {
		if !delivery {
			c.hold(b)
		}
		return
	}
	if !c.t.push(b) {
		c.h.logger.Warn("slow consumer: send queue full, dropping transport", "conn", c.id)
		t := c.t
		c.detachTransportLocked(t)
		t.abort(websocket.CloseTryAgainLater, "send queue full (slow consumer)")
	}
}

// hold keeps a frame for a later resume; c.mu must be held.
func (c *Connection) hold(b []byte) {
	if len(c.pending) >= c.h.cfg.ResumeBuffer {
		c.overflow = true
		return
	}
	c.pending = append(c.pending, b)
}

// detachTransportLocked forgets t (if current) and starts the state TTL.
func (c *Connection) detachTransportLocked(t *transport) {
	if c.t != t || t == nil {
		return
	}
	c.t = nil
	t.close()
	if c.stateTimer != nil {
		c.stateTimer.Stop()
	}
	c.stateTimer = time.AfterFunc(c.h.cfg.ConnectionStateTTL, func() {
		c.destroy(nil)
	})
}

// reader reads and dispatches frames until the transport ends.
func (c *Connection) reader(t *transport) {
	t.ws.SetReadLimit(int64(protocol.MaxFrameSize))
	for {
		_, b, err := t.ws.ReadMessage()
		if err != nil {
			c.transportFailed(t)
			return
		}
		pm, err := protocol.Decode(c.format, b)
		if err != nil {
			// A frame we cannot read is the client's bug, not a reason to
			// drop its connection; say so and go on.
			c.send(&protocol.ProtocolMessage{Action: protocol.ActionError,
				Error: herald.Errorf(herald.CodeBadRequest, "Unreadable %s frame: %v", c.format, err)})
			continue
		}
		if t.ended.Load() {
			return
		}
		c.dispatch(t, pm)
	}
}

// transportFailed handles a dropped socket: keep the connection for resume.
func (c *Connection) transportFailed(t *transport) {
	c.mu.Lock()
	c.detachTransportLocked(t)
	c.mu.Unlock()
	// Send what is framed (the echo of a client's close frame) and close.
	t.close()
}

// endTransport sends final frames then closes the transport, keeping the
// connection's state (DISCONNECTED, token expiry) for a resume.
func (c *Connection) endTransport(final *protocol.ProtocolMessage) {
	c.mu.Lock()
	t := c.t
	c.mu.Unlock()
	if t == nil {
		return
	}
	if final != nil {
		if b, err := protocol.Encode(c.format, final); err == nil {
			t.push(b)
		}
	}
	c.mu.Lock()
	if c.t == t {
		c.t = nil
		if c.stateTimer != nil {
			c.stateTimer.Stop()
		}
		c.stateTimer = time.AfterFunc(c.h.cfg.ConnectionStateTTL, func() { c.destroy(nil) })
	}
	c.mu.Unlock()
	t.close()
}

// destroy ends the connection for good: detach every channel (members
// leave), stop timers, forget it. final, if set, is sent as an ERROR first.
func (c *Connection) destroy(final *herald.Error) {
	c.mu.Lock()
	if c.destroyed {
		c.mu.Unlock()
		return
	}
	t := c.t
	if final != nil && t != nil {
		if b, err := protocol.Encode(c.format, &protocol.ProtocolMessage{Action: protocol.ActionError, Error: final}); err == nil {
			t.push(b)
		}
	}
	c.destroyed = true
	c.t = nil
	atts := c.attachments
	c.attachments = map[string]*hub.Attachment{}
	for _, tm := range []*time.Timer{c.stateTimer, c.authTimer, c.expiryTimer} {
		if tm != nil {
			tm.Stop()
		}
	}
	c.pending = nil
	c.mu.Unlock()
	if t != nil {
		t.close()
	}
	for _, a := range atts {
		a.Detach()
	}
	c.h.forget(c)
	c.h.deps.Metrics.ConnectionClosed()
}
