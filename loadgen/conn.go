package loadgen

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/protocol"
)

// Dialer opens realtime connections to one server.
type Dialer struct {
	url    string // ws://host:port/
	format protocol.Format
	ws     *websocket.Dialer
	srcIPs int
	next   atomic.Uint32
}

// NewDialer returns a dialer for the server at base (http://host:port) that
// speaks format. With sourceIPs > 1 the connections come from 127.0.0.2,
// 127.0.0.3, ... in turn, so that more than one ephemeral port range's
// worth of sockets (and their TIME_WAIT remains) fit on loopback.
func NewDialer(base string, format protocol.Format, sourceIPs int) *Dialer {
	d := &Dialer{url: "ws" + strings.TrimPrefix(base, "http") + "/", format: format, srcIPs: sourceIPs}
	d.ws = &websocket.Dialer{
		Proxy:            nil, // loopback only, never through a proxy
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   2048,
		WriteBufferSize:  1024,
		NetDialContext:   d.dialContext,
	}
	return d
}

func (d *Dialer) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := &net.Dialer{Timeout: 10 * time.Second}
	if d.srcIPs > 1 {
		i := d.next.Add(1) % uint32(d.srcIPs)
		nd.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, byte(i>>8), byte(2+i&0xff))}
	}
	return nd.DialContext(ctx, network, addr)
}

// Conn is one realtime connection as a raw client sees it.
type Conn struct {
	ws      *websocket.Conn
	format  protocol.Format
	ID      string        // connectionId from CONNECTED
	MaxIdle time.Duration // connectionDetails.maxIdleInterval
	buf     []byte
	closing atomic.Bool
	rdl     time.Time // read deadline last set
}

// Dial opens a WebSocket with q (credentials; format and v are added) and
// waits until CONNECTED. A refused connection returns the server's
// *herald.Error (e.g. 40141 for a revoked token).
func (d *Dialer) Dial(ctx context.Context, q url.Values) (*Conn, error) {
	q.Set("format", d.format.String())
	q.Set("v", "6")
	q.Set("heartbeats", "true")
	ws, resp, err := d.ws.DialContext(ctx, d.url+"?"+q.Encode(), http.Header{})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("%w: HTTP %d", errDial, resp.StatusCode)
		}
		return nil, fmt.Errorf("%w: %v", errDial, err)
	}
	c := &Conn{ws: ws, format: d.format, buf: make([]byte, 0, 512)}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(10 * time.Second)
	}
	pm, err := c.Expect(deadline, protocol.ActionConnected)
	if err != nil {
		ws.Close()
		return nil, err
	}
	c.ID = pm.ConnectionID
	if pm.ConnectionDetails != nil {
		c.MaxIdle = time.Duration(pm.ConnectionDetails.MaxIdleInterval) * time.Millisecond
	}
	return c, nil
}

// Send encodes and writes one frame. Only one goroutine may send at a time.
func (c *Conn) Send(pm *protocol.ProtocolMessage) error {
	b, err := protocol.Encode(c.format, pm)
	if err != nil {
		return err
	}
	return c.WriteRaw(b)
}

// WriteRaw writes one already encoded frame.
func (c *Conn) WriteRaw(b []byte) error {
	mt := websocket.TextMessage
	if c.format == protocol.Msgpack {
		mt = websocket.BinaryMessage
	}
	c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.ws.WriteMessage(mt, b)
}

// ReadRaw reads the next frame into the connection's buffer; the slice is
// valid until the next read. A zero deadline means none.
func (c *Conn) ReadRaw(deadline time.Time) ([]byte, error) {
	// Moving the deadline is a runtime timer update; readers pass "now +
	// a long time" on every frame, so only move it when it is earlier or
	// a second later than the one set (3.5% of the generator's CPU in a
	// paced fan-out otherwise).
	if deadline.IsZero() != c.rdl.IsZero() || deadline.Before(c.rdl) || deadline.Sub(c.rdl) > time.Second {
		c.ws.SetReadDeadline(deadline)
		c.rdl = deadline
	}
	_, r, err := c.ws.NextReader()
	if err != nil {
		return nil, err
	}
	c.buf = c.buf[:0]
	for {
		if len(c.buf) == cap(c.buf) {
			c.buf = append(c.buf, 0)[:len(c.buf)]
		}
		n, err := r.Read(c.buf[len(c.buf):cap(c.buf)])
		c.buf = c.buf[:len(c.buf)+n]
		if err == io.EOF {
			return c.buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// Read reads and decodes the next frame.
func (c *Conn) Read(deadline time.Time) (*protocol.ProtocolMessage, error) {
	b, err := c.ReadRaw(deadline)
	if err != nil {
		return nil, err
	}
	return protocol.Decode(c.format, b)
}

// Expect reads frames until one with action want, skipping heartbeats. An
// ERROR or DISCONNECTED frame instead returns its error.
func (c *Conn) Expect(deadline time.Time, want protocol.Action) (*protocol.ProtocolMessage, error) {
	for {
		pm, err := c.Read(deadline)
		if err != nil {
			return nil, err
		}
		switch pm.Action {
		case want:
			return pm, nil
		case protocol.ActionHeartbeat:
			continue
		case protocol.ActionError, protocol.ActionDisconnected:
			if pm.Error != nil {
				return nil, pm.Error
			}
			return nil, fmt.Errorf("loadgen: %s without error while waiting for %s", pm.Action, want)
		}
	}
}

// Attach sends ATTACH for channel with the requested mode flags (0 = the
// server's default modes) and waits for ATTACHED; a refusal returns the
// channel ERROR's *herald.Error.
func (c *Conn) Attach(deadline time.Time, channel string, modes protocol.Flag) error {
	if err := c.Send(&protocol.ProtocolMessage{Action: protocol.ActionAttach, Channel: channel, Flags: modes}); err != nil {
		return err
	}
	pm, err := c.Expect(deadline, protocol.ActionAttached)
	if err != nil {
		return err
	}
	if pm.Channel != channel {
		return &herald.Error{Code: 0, Message: "ATTACHED for another channel " + pm.Channel}
	}
	return nil
}

// Close asks the server to close the connection (CLOSE, so that it forgets
// the connection at once instead of keeping it for a resume), waits up to
// a second for CLOSED and closes the socket. Use it only when no other
// goroutine reads the connection; otherwise use RequestClose.
func (c *Conn) Close() {
	if c.RequestClose() == nil {
		_, _ = c.Expect(time.Now().Add(time.Second), protocol.ActionClosed)
	}
	c.ws.Close()
}

// RequestClose sends CLOSE and marks the connection as closing; the
// goroutine that reads it closes the socket when CLOSED (or any error)
// arrives.
func (c *Conn) RequestClose() error {
	c.closing.Store(true)
	return c.Send(&protocol.ProtocolMessage{Action: protocol.ActionClose})
}

// Closing reports whether a close was requested: a read error after it is
// not a failure.
func (c *Conn) Closing() bool { return c.closing.Load() }

// Abort closes the socket at once.
func (c *Conn) Abort() { c.ws.Close() }
