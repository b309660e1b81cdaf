package hub

import (
	"strconv"
	"sync"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/stats"
)

// Delivery is one published batch as subscribers receive it. Subscribers of
// one format share the encoded frame: Frame encodes once per format, not
// once per subscriber.
type Delivery struct {
	App           string
	Channel       string
	ChannelSerial string
	// Origin is the publishing connection ("" for REST publishes).
	Origin    string
	Messages  []*herald.Message
	Presence  []*herald.PresenceMessage
	Timestamp int64
	// ID is the ProtocolMessage id: "<connectionId>:<msgSerial>" for
	// realtime publishes (SDKs derive missing message ids from it).
	ID string

	frames [2]frame
}

type frame struct {
	once sync.Once
	b    []byte
	err  error
}

// Frame returns the delivery encoded in format (0 or 1), encoding it with
// enc the first time any subscriber of that format asks.
func (d *Delivery) Frame(format int, enc func(*Delivery) ([]byte, error)) ([]byte, error) {
	f := &d.frames[format&1]
	f.once.Do(func() { f.b, f.err = enc(d) })
	return f.b, f.err
}

// PublishOptions identify a realtime publish.
type PublishOptions struct {
	ConnectionID string
	MsgSerial    int64
}

// Publish publishes msgs on the attachment's channel (realtime MESSAGE,
// RTL6). It checks the publish capability (40160), the mode requested at
// attach (40165), the per-attachment rate limit from JWT claims (42911),
// then prepares and fans out the messages. It returns the serials.
func (a *Attachment) Publish(msgs []*herald.Message, opts PublishOptions) ([]string, error) {
	p := a.Principal()
	if !p.Capability.Allows(a.ch.name, auth.OpPublish) {
		return nil, deny(p, a.ch.name, auth.OpPublish)
	}
	if req := a.requestedModes(); req != 0 && !req.Has(ModePublish) {
		return nil, herald.Errorf(herald.CodeModeNotRequested,
			"Publish on %q needs the PUBLISH channel mode, which was not requested at attach", a.ch.name)
	}
	if !a.allowRate(len(msgs)) {
		return nil, herald.Errorf(herald.CodePublishRate,
			"Publish rate limit exceeded on %q (set by the token's ably.limits.publish.perAttachment.maxRate claim)", a.ch.name)
	}
	return a.hub.publish(a.ch, p, msgs, opts)
}

// Publish publishes msgs on a channel without an attachment (REST publish,
// RSL1). The channel need not be active.
func (h *Hub) Publish(p *auth.Principal, name string, msgs []*herald.Message) ([]string, error) {
	return h.PublishAs(p, name, msgs, PublishOptions{})
}

// PublishAs publishes without an attachment on behalf of a connection
// (realtime publish on a channel that is not attached, RTL6c).
func (h *Hub) PublishAs(p *auth.Principal, name string, msgs []*herald.Message, opts PublishOptions) ([]string, error) {
	if err := auth.ValidateChannelName(name); err != nil {
		return nil, err
	}
	if p.Capability == nil || !p.Capability.Allows(name, auth.OpPublish) {
		return nil, deny(p, name, auth.OpPublish)
	}
	c := h.channel(p.AppID, name, true)
	defer h.release(c)
	return h.publish(c, p, msgs, opts)
}

func (h *Hub) publish(c *channel, p *auth.Principal, msgs []*herald.Message, opts PublishOptions) ([]string, error) {
	if err := h.prepare(c.name, p, msgs); err != nil {
		return nil, err
	}
	now := h.clock.Now().UnixMilli()
	d := &Delivery{App: c.app, Channel: c.name, Origin: opts.ConnectionID, Messages: msgs, Timestamp: now}
	if opts.ConnectionID != "" {
		d.ID = opts.ConnectionID + ":" + strconv.FormatInt(opts.MsgSerial, 10)
	} else {
		// A REST publish has no connection: its messages still get ids,
		// "<random>:<index>", as SDK-generated idempotent ids look (RSL1k).
		d.ID = auth.RandomID(12)
	}
	serials := make([]string, len(msgs))
	for i, m := range msgs {
		if m.ID == "" && d.ID != "" {
			m.ID = d.ID + ":" + strconv.Itoa(i)
		}
		if m.Timestamp == 0 {
			m.Timestamp = now
		}
		if m.ConnectionID == "" {
			m.ConnectionID = opts.ConnectionID
		}
		m.Serial = c.nextSerial(h.clock.Now())
		serials[i] = m.Serial
	}
	d.ChannelSerial = serials[len(serials)-1]
	if h.history != nil {
		h.history.add(histItem{app: c.app, channel: c.name, msgs: msgs})
	}
	n := h.fanout(c, d)
	if h.stats != nil {
		h.stats.Incr(c.app, stats.MessagesPublished, int64(len(msgs)))
		h.stats.Incr(c.app, stats.MessagesDelivered, int64(n*len(msgs)))
	}
	return serials, nil
}

// prepare enforces the identified-client rules on each message (ably-auth
// §7.4), sets extras.userClaim from JWT channel claims (§4.3) and checks
// privileged extras and the size limit.
func (h *Hub) prepare(channel string, p *auth.Principal, msgs []*herald.Message) error {
	if len(msgs) == 0 {
		return herald.NewError(herald.CodeInvalidPublish, "Publish has no messages")
	}
	claim, hasClaim := p.ChannelClaims.Lookup(channel)
	size := 0
	for i, m := range msgs {
		switch {
		case m.ClientID == "":
			m.ClientID = p.ClientID // identified: stamp; otherwise stays empty
			if m.Size > 0 {
				m.Size += len(p.ClientID) // the stamped id counts too (TO3l8a)
			}
		case p.ClientID != "" && m.ClientID != p.ClientID:
			return herald.Errorf(herald.CodeInvalidClientID,
				"Message %d has clientId %q but the connection is identified as %q", i, m.ClientID, p.ClientID)
		case p.ClientID == "" && !p.AnyClientID:
			return herald.Errorf(herald.CodeInvalidClientID,
				"Message %d has clientId %q but the credentials are anonymous (no clientId)", i, m.ClientID)
		}
		if _, ok := m.Extras["privileged"]; ok && !p.Capability.Allows(channel, auth.OpPrivilegedHeaders) {
			return herald.Errorf(herald.CodeCapabilityDenied,
				"extras.privileged on %q needs the privileged-headers capability: %s", channel, p.Capability.Explain(channel, auth.OpPrivilegedHeaders).Message())
		}
		// Clients cannot set userClaim themselves: it comes from the signed
		// token or not at all.
		if m.Extras != nil {
			delete(m.Extras, "userClaim")
		}
		if hasClaim {
			if m.Extras == nil {
				m.Extras = map[string]any{}
			}
			m.Extras["userClaim"] = claim
		}
		size += messageSize(m)
	}
	if size > h.cfg.MaxMessageSize {
		return herald.Errorf(herald.CodeMessageTooLarge,
			"Message size %d bytes exceeds the maximum of %d bytes", size, h.cfg.MaxMessageSize)
	}
	return nil
}

// messageSize counts what Ably counts towards maxMessageSize: data, name,
// clientId and extras (TO3l8).
func messageSize(m *herald.Message) int {
	if m.Size > 0 {
		return m.Size
	}
	return len(m.Data.Bytes) + len(m.Name) + len(m.ClientID)
}

// fanout delivers d to every attachment allowed to receive it and reports
// how many received it. Holding the write lock keeps serial order and
// delivery order the same for every subscriber.
func (h *Hub) fanout(c *channel, d *Delivery) int {
	n := 0
	c.mu.Lock()
	defer c.mu.Unlock()
	c.remember(d)
	for a := range c.attached {
		if !a.canReceive(d) {
			continue
		}
		a.sub.Deliver(d)
		n++
	}
	return n
}

func (a *Attachment) canReceive(d *Delivery) bool {
	modes := a.Modes()
	if len(d.Presence) > 0 {
		return modes.Has(ModePresenceSubscribe)
	}
	if !a.echo && d.Origin != "" && d.Origin == a.connID {
		return false
	}
	return modes.Has(ModeSubscribe)
}

// Serial is the channel's newest serial, sent on ATTACHED so that the
// client has a point to resume from.
func (a *Attachment) Serial() string {
	a.ch.mu.RLock()
	last := a.ch.last
	a.ch.mu.RUnlock()
	if last != "" {
		return last
	}
	// The channel was idle (or new) on this node: serials come from one
	// hub-wide counter, so its current value is at or after every message
	// the channel has, which is what untilAttach needs (RTL10b).
	return formatSerial(a.ch.serial.Load())
}

// Since returns the deliveries after serial that the attachment may
// receive, oldest first, and reports whether the buffer still reaches back
// to serial (false: some were dropped, continuity is lost).
func (a *Attachment) Since(serial string) ([]*Delivery, bool) {
	a.ch.mu.RLock()
	defer a.ch.mu.RUnlock()
	recent := a.ch.recent
	if serial == "" || serial < a.base {
		serial = a.base // nothing before the attach is owed
	}
	var out []*Delivery
	complete := len(recent) < recentMax || (len(recent) > 0 && recent[0].ChannelSerial <= serial)
	for _, d := range recent {
		if d.ChannelSerial > serial && a.canReceive(d) {
			out = append(out, d)
		}
	}
	return out, complete
}
