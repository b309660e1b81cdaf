package hub

import (
	"sort"
	"strconv"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/stats"
)

// Presence applies presence events from the attachment's connection (RTP8,
// RTP9, RTP10, RTP15 enterClient). Each needs the presence capability
// (40160), the PRESENCE mode when modes were requested (40165), and a
// clientId: the connection's, or an explicit one when the credentials may
// act for any clientId (enterClient); none at all is 91000.
func (a *Attachment) Presence(pms []*herald.PresenceMessage, opts PublishOptions) error {
	p := a.Principal()
	name := a.ch.name
	if !p.Capability.Allows(name, auth.OpPresence) {
		return deny(p, name, auth.OpPresence)
	}
	if req := a.requestedModes(); req != 0 && !req.Has(ModePresence) {
		return herald.Errorf(herald.CodeModeNotRequested,
			"Presence on %q needs the PRESENCE channel mode, which was not requested at attach", name)
	}
	claim, hasClaim := p.ChannelClaims.Lookup(name)
	now := a.hub.clock.Now().UnixMilli()
	for i, pm := range pms {
		switch {
		case pm.ClientID == "" && p.ClientID != "":
			pm.ClientID = p.ClientID
		case pm.ClientID == "":
			return herald.Errorf(herald.CodePresenceNoID,
				"Unable to enter presence channel %q: no clientId in the presence message or the connection", name)
		case p.ClientID != "" && pm.ClientID != p.ClientID:
			return herald.Errorf(herald.CodeInvalidClientID,
				"Presence message %d has clientId %q but the connection is identified as %q", i, pm.ClientID, p.ClientID)
		case p.ClientID == "" && !p.AnyClientID:
			return herald.Errorf(herald.CodeInvalidClientID,
				"Presence message %d has clientId %q but the credentials are anonymous", i, pm.ClientID)
		}
		switch pm.Action {
		case herald.PresenceEnter, herald.PresenceUpdate, herald.PresenceLeave, herald.PresencePresent:
		default:
			return herald.Errorf(herald.CodeBadRequest, "Presence message %d has invalid action %d", i, pm.Action)
		}
		if pm.Extras != nil {
			delete(pm.Extras, "userClaim")
		}
		if hasClaim {
			if pm.Extras == nil {
				pm.Extras = map[string]any{}
			}
			pm.Extras["userClaim"] = claim
		}
		pm.ConnectionID = opts.ConnectionID
		if pm.ID == "" {
			pm.ID = opts.ConnectionID + ":" + strconv.FormatInt(opts.MsgSerial, 10) + ":" + strconv.Itoa(i)
		}
		pm.Timestamp = now
	}
	a.hub.applyPresence(a.ch, pms, opts.ConnectionID)
	return nil
}

// applyPresence updates the member set and broadcasts the events.
func (h *Hub) applyPresence(c *channel, pms []*herald.PresenceMessage, origin string) {
	c.mu.Lock()
	out := make([]*herald.PresenceMessage, 0, len(pms))
	for _, pm := range pms {
		k := memberKey{pm.ConnectionID, pm.ClientID}
		_, present := c.members[k]
		switch pm.Action {
		case herald.PresenceLeave:
			if !present {
				continue // leaving when not present is a no-op
			}
			delete(c.members, k)
		case herald.PresenceUpdate, herald.PresencePresent:
			if !present {
				pm.Action = herald.PresenceEnter // update of a non-member enters (RTP9)
			}
			member := *pm
			member.Action = herald.PresencePresent
			c.members[k] = &member
		default: // enter
			if present {
				pm.Action = herald.PresenceUpdate
			}
			member := *pm
			member.Action = herald.PresencePresent
			c.members[k] = &member
		}
		out = append(out, pm)
	}
	c.mu.Unlock()
	if len(out) == 0 {
		return
	}
	d := &Delivery{App: c.app, Channel: c.name, Origin: origin, Presence: out, Timestamp: h.clock.Now().UnixMilli()}
	d.ChannelSerial = c.nextSerial(h.clock.Now())
	if h.history != nil {
		h.history.add(histItem{app: c.app, channel: c.name, serial: d.ChannelSerial, presence: out})
	}
	h.fanout(c, d)
	if h.stats != nil {
		h.stats.Incr(c.app, stats.PresencePublished, int64(len(out)))
	}
}

// leaveConnection removes every member the connection entered on c and
// broadcasts their LEAVE (RTP5a: members leave when their connection goes).
func (h *Hub) leaveConnection(c *channel, connID string) {
	c.mu.RLock()
	var leaves []*herald.PresenceMessage
	for k, m := range c.members {
		if k.conn == connID {
			l := *m
			l.Action = herald.PresenceLeave
			l.ID = ""
			leaves = append(leaves, &l)
		}
	}
	c.mu.RUnlock()
	if len(leaves) == 0 {
		return
	}
	now := h.clock.Now().UnixMilli()
	for _, l := range leaves {
		l.Timestamp = now
	}
	h.applyPresence(c, leaves, connID)
}

// Members returns the current presence set of a channel, ordered by
// clientId then connectionId (the SYNC and REST presence.get order).
func (h *Hub) Members(app, name string) []*herald.PresenceMessage {
	c := h.channel(app, name, false)
	if c == nil {
		return nil
	}
	c.mu.RLock()
	out := make([]*herald.PresenceMessage, 0, len(c.members))
	for _, m := range c.members {
		cp := *m
		out = append(out, &cp)
	}
	c.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].ClientID != out[j].ClientID {
			return out[i].ClientID < out[j].ClientID
		}
		return out[i].ConnectionID < out[j].ConnectionID
	})
	return out
}

// fixtureConn is the connectionId of provisioned presence members.
const fixtureConn = "fixture"

// AddFixtures makes members present on a channel with no connection behind
// them: the presence fixtures of /apps provisioning (ably-protocol §C).
// They stay until the app is deleted or the server restarts (the server
// loads them again from the store at start).
func (h *Hub) AddFixtures(app, name string, members []*herald.PresenceMessage) {
	c := h.channel(app, name, true)
	now := h.clock.Now().UnixMilli()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, m := range members {
		cp := *m
		cp.Action = herald.PresencePresent
		cp.ConnectionID = fixtureConn
		if cp.ID == "" {
			cp.ID = fixtureConn + ":" + strconv.Itoa(i) + ":0"
		}
		if cp.Timestamp == 0 {
			cp.Timestamp = now
		}
		c.members[memberKey{fixtureConn, cp.ClientID}] = &cp
	}
}

// DropApp forgets every channel of app (the app was deleted).
func (h *Hub) DropApp(app string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k := range h.channels {
		if k.app == app {
			delete(h.channels, k)
		}
	}
}
