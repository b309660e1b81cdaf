package realtime

import (
	"context"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/hub"
	"github.com/heraldrt/herald/protocol"
)

// dispatch handles one client frame. Unknown actions are ignored (RSF1).
func (c *Connection) dispatch(t *transport, pm *protocol.ProtocolMessage) {
	switch pm.Action {
	case protocol.ActionHeartbeat:
		if pm.ID != "" { // connection.ping() waits for its id back (RTN13)
			c.send(&protocol.ProtocolMessage{Action: protocol.ActionHeartbeat, ID: pm.ID})
		}
	case protocol.ActionAttach:
		c.attach(pm)
	case protocol.ActionDetach:
		c.detach(pm.Channel)
		c.send(&protocol.ProtocolMessage{Action: protocol.ActionDetached, Channel: pm.Channel})
	case protocol.ActionMessage:
		c.publish(pm)
	case protocol.ActionPresence:
		c.presence(pm)
	case protocol.ActionAuth:
		c.reauth(pm)
	case protocol.ActionClose:
		c.send(&protocol.ProtocolMessage{Action: protocol.ActionClosed})
		c.destroy(nil)
	case protocol.ActionDisconnect:
		// The client drops this transport only; keep state for a resume.
		c.endTransport(nil)
	}
}

// attach handles ATTACH: ATTACHED with the granted mode flags (and
// HAS_PRESENCE then a SYNC when the channel has members), or a channel
// ERROR (40160 with the capability explanation, 40010 bad name).
func (c *Connection) attach(pm *protocol.ProtocolMessage) {
	p := c.Principal()
	c.mu.Lock()
	existing := c.attachments[pm.Channel]
	c.mu.Unlock()
	requested := hub.Modes(pm.Flags) & hub.AllModes
	var a *hub.Attachment
	var err error
	resumed := false
	if existing != nil {
		a, resumed = existing, true
		if !a.Update(p) {
			c.loseChannel(pm.Channel, a)
			return
		}
	} else {
		a, err = c.h.deps.Hub.Attach(p, c, pm.Channel, requested)
		if err != nil {
			c.send(&protocol.ProtocolMessage{Action: protocol.ActionError, Channel: pm.Channel, Error: herald.AsError(err)})
			return
		}
		c.mu.Lock()
		if c.destroyed {
			c.mu.Unlock()
			a.Detach()
			return
		}
		c.attachments[pm.Channel] = a
		c.mu.Unlock()
		c.h.deps.Metrics.Attached()
	}
	flags := protocol.Flag(a.Modes())
	var replay []*hub.Delivery
	if resumed {
		// Re-attach after a resume: send what was missed since the
		// client's channelSerial; RESUMED only when nothing was lost.
		var complete bool
		replay, complete = a.Since(pm.ChannelSerial)
		if complete {
			flags |= protocol.FlagResumed
		}
	}
	members := c.h.deps.Hub.Members(p.AppID, pm.Channel)
	canSeePresence := a.Modes().Has(hub.ModePresenceSubscribe)
	if canSeePresence && len(members) > 0 {
		flags |= protocol.FlagHasPresence
	}
	serial := a.Serial()
	if len(replay) > 0 {
		serial = replay[len(replay)-1].ChannelSerial
	}
	c.send(&protocol.ProtocolMessage{Action: protocol.ActionAttached, Channel: pm.Channel, Flags: flags, ChannelSerial: serial})
	for _, d := range replay {
		c.Deliver(d)
	}
	if canSeePresence && len(members) > 0 {
		// One-page SYNC: a channelSerial whose cursor part is empty ends it.
		c.send(&protocol.ProtocolMessage{Action: protocol.ActionSync, Channel: pm.Channel,
			ChannelSerial: "sync-" + c.id + ":", Presence: members})
	}
}

func (c *Connection) detach(name string) {
	c.mu.Lock()
	a := c.attachments[name]
	delete(c.attachments, name)
	c.mu.Unlock()
	if a != nil {
		a.Detach()
	}
}

// loseChannel detaches a channel the new capability no longer allows and
// tells the client with a channel ERROR 40160 (RTC8a1).
func (c *Connection) loseChannel(name string, a *hub.Attachment) {
	p := c.Principal()
	c.detach(name)
	var e *herald.Error
	if p.Capability != nil {
		e = p.Capability.DeniedError(name, auth.OpSubscribe)
	} else {
		e = herald.NewError(herald.CodeCapabilityDenied, "")
	}
	c.send(&protocol.ProtocolMessage{Action: protocol.ActionError, Channel: name, Error: e})
}

// publish handles MESSAGE: ACK with the serials or NACK with the error.
// Publishing needs no attachment (RTL6c); without one there is no
// per-attachment rate limit to apply.
func (c *Connection) publish(pm *protocol.ProtocolMessage) {
	c.h.deps.Metrics.MessagesIn(len(pm.Messages))
	c.mu.Lock()
	a := c.attachments[pm.Channel]
	p := c.principal
	c.mu.Unlock()
	opts := hub.PublishOptions{ConnectionID: c.id, MsgSerial: pm.MsgSerial}
	var serials []string
	var err error
	if a != nil {
		serials, err = a.Publish(pm.Messages, opts)
	} else {
		serials, err = c.h.deps.Hub.PublishAs(p, pm.Channel, pm.Messages, opts)
	}
	c.ack(pm.MsgSerial, serials, err)
}

func (c *Connection) ack(serial int64, serials []string, err error) {
	if err != nil {
		c.send(&protocol.ProtocolMessage{Action: protocol.ActionNack, MsgSerial: serial, Count: 1, Error: herald.AsError(err)})
		return
	}
	c.send(&protocol.ProtocolMessage{Action: protocol.ActionAck, MsgSerial: serial, Count: 1,
		Res: []protocol.PublishResult{{Serials: serials}}})
}

// presence handles PRESENCE: it needs an attachment (the SDKs attach
// before entering, RTP8d).
func (c *Connection) presence(pm *protocol.ProtocolMessage) {
	c.mu.Lock()
	a := c.attachments[pm.Channel]
	c.mu.Unlock()
	if a == nil {
		c.ack(pm.MsgSerial, nil, herald.Errorf(90001, "Presence on %q needs the channel to be attached", pm.Channel))
		return
	}
	err := a.Presence(pm.Presence, hub.PublishOptions{ConnectionID: c.id, MsgSerial: pm.MsgSerial})
	var serials []string
	if err == nil {
		serials = make([]string, len(pm.Presence))
	}
	c.ack(pm.MsgSerial, serials, err)
}

// reauth handles a client AUTH (RTC8): verify the new token; on success
// send a new CONNECTED with the same connectionId and re-apply the
// capability to every attached channel; a clientId change or another app is
// a fatal connection ERROR (40102, RTC8a2).
func (c *Connection) reauth(pm *protocol.ProtocolMessage) {
	if pm.Auth == nil || pm.Auth.AccessToken == "" {
		c.send(&protocol.ProtocolMessage{Action: protocol.ActionError,
			Error: herald.NewError(herald.CodeInvalidCredential, "AUTH needs auth.accessToken")})
		return
	}
	c.mu.Lock()
	old := c.principal
	creds := c.requested
	c.mu.Unlock()
	creds.Key, creds.Token = "", pm.Auth.AccessToken
	if old.ClientID != "" && !creds.HasClientID {
		creds.ClientID, creds.HasClientID = old.ClientID, true
	}
	p, err := c.h.deps.Auth.Authenticate(auth.WithRemoteAddr(context.Background(), c.remoteAddr), creds)
	if err != nil {
		e := herald.AsError(err)
		c.h.deps.Metrics.AuthFailed(e.Code)
		c.destroy(e)
		return
	}
	if p.AppID != old.AppID {
		c.destroy(herald.NewError(herald.CodeIncompatibleClientID, "Invalid credentials: re-authentication with a key of another app"))
		return
	}
	if p.ConnectionClientID() != old.ConnectionClientID() && old.ConnectionClientID() != "" && old.ConnectionClientID() != "*" {
		c.destroy(herald.Errorf(herald.CodeIncompatibleClientID,
			"Invalid clientId for credentials: the connection is %q and the new token is for %q", old.ConnectionClientID(), p.ConnectionClientID()))
		return
	}
	c.mu.Lock()
	c.principal = p
	atts := make(map[string]*hub.Attachment, len(c.attachments))
	for k, v := range c.attachments {
		atts[k] = v
	}
	c.mu.Unlock()
	c.scheduleTokenTimers()
	c.sendConnected(nil)
	c.watchRevocation()
	for name, a := range atts {
		if !a.Update(p) {
			c.loseChannel(name, a)
		}
	}
}
