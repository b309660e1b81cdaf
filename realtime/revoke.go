package realtime

import (
	"context"
	"errors"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/protocol"
)

// ApplyRevocations enforces new revocation rules on live connections of
// app (ably-auth §6.3): a connection whose token a rule covers gets
// DISCONNECTED 40141 at the rule's appliesAt, and, when that is later (the
// reauth margin), an AUTH at once as the hint to switch tokens. The check
// at appliesAt uses the connection's token at that moment, so a client that
// re-authenticated in time keeps its connection.
func (h *Handler) ApplyRevocations(appID string, rules []*herald.Revocation) {
	idx := h.deps.Auth.Revocations()
	now := h.deps.Clock.Now()
	for _, c := range h.Connections() {
		p := c.Principal()
		if p.AppID != appID {
			continue
		}
		at, ok := idx.Match(p)
		if !ok {
			continue
		}
		if d := at.Sub(now); d > 0 {
			c.send(&protocol.ProtocolMessage{Action: protocol.ActionAuth})
			time.AfterFunc(d, func() { c.enforceRevocation() })
			continue
		}
		c.enforceRevocation()
	}
}

// enforceRevocation disconnects the connection if its current token is
// revoked. The connection's state is kept: the SDK renews its token and
// resumes (40141 is a token error, RTN15h2).
func (c *Connection) enforceRevocation() {
	p := c.Principal()
	if err := c.h.deps.Auth.Revocations().Check(p, c.h.deps.Clock.Now()); err != nil {
		c.endTransport(&protocol.ProtocolMessage{Action: protocol.ActionDisconnected, Error: herald.AsError(err)})
	}
}

// RecheckKeys closes connections whose key was revoked (40131) or whose app
// was disabled or deleted since they authenticated; the server calls it
// whenever the key cache reloads. These are not token errors: the SDK goes
// FAILED, as Ably's key revocation terminates connections.
func (h *Handler) RecheckKeys() {
	keys := h.deps.Auth.Keys()
	now := h.deps.Clock.Now()
	for _, c := range h.Connections() {
		p := c.Principal()
		e, err := keys.Lookup(context.Background(), p.KeyName)
		var final *herald.Error
		switch {
		case errors.Is(err, herald.ErrNotFound):
			final = herald.Errorf(herald.CodeKeyRevoked, "Key %q no longer exists", p.KeyName)
		case err != nil:
			continue
		case e.Key.Status == herald.KeyRevoked:
			final = herald.Errorf(herald.CodeKeyRevoked, "Key %q has been revoked", p.KeyName)
		case e.App.Status != herald.AppEnabled:
			final = herald.Errorf(herald.CodeAppDisabled, "Application %q is disabled", p.AppID)
		case p.Method == auth.MethodBasic && !e.BasicSecretValid(p, now):
			// Basic auth with a secret that has since changed (a rotation's
			// old secret counts until its overlap window ends).
			final = herald.Errorf(herald.CodeKeyRevoked, "The secret of key %q has changed", p.KeyName)
		}
		if final != nil {
			c.destroy(final)
		}
	}
}

// watchRevocation arms enforcement for a rule that covers the connection's
// token but is still inside its reauth margin: the connection gets the AUTH
// hint now and is checked again at appliesAt. Connect and in-band re-auth
// call it, so a token covered by a pending rule is enforced however late
// the connection came.
func (c *Connection) watchRevocation() {
	at, ok := c.h.deps.Auth.Revocations().Match(c.Principal())
	if !ok {
		return
	}
	if d := at.Sub(c.h.deps.Clock.Now()); d > 0 {
		c.send(&protocol.ProtocolMessage{Action: protocol.ActionAuth})
		time.AfterFunc(d, c.enforceRevocation)
	}
}
