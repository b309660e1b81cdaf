package hub

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"golang.org/x/time/rate"
)

// Attachment is one subscriber's attachment to one channel. Its principal
// and modes change when the connection re-authenticates.
type Attachment struct {
	hub *Hub
	ch  *channel
	sub Subscriber

	// Read on every delivery without the lock: the subscriber's id and
	// echo flag never change, and modes (granted = requested ∩ what the
	// capability allows) is atomic.
	connID string
	echo   bool
	modes  atomic.Uint32

	mu        sync.Mutex
	principal *auth.Principal
	requested Modes // modes asked for at attach; 0 = all
	limiter   *rate.Limiter
	detached  bool
	base      string // the channel's serial when attached: replay floor
}

// Channel is the attachment's channel name.
func (a *Attachment) Channel() string { return a.ch.name }

// Modes is the set of channel modes granted (ATTACHED flags).
func (a *Attachment) Modes() Modes { return Modes(a.modes.Load()) }

// Principal is the identity the attachment acts as.
func (a *Attachment) Principal() *auth.Principal {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.principal
}

// Attach attaches sub to channel for principal p. It is allowed when the
// capability grants any operation on the channel (ably-auth §5.2); the
// granted modes are the requested ones (0 = all) intersected with what the
// capability grants (§A.7). Attaching again returns the existing
// attachment, re-evaluated (ATTACH is idempotent, RTN15c).
func (h *Hub) Attach(p *auth.Principal, sub Subscriber, name string, requested Modes) (*Attachment, error) {
	if err := auth.ValidateChannelName(name); err != nil {
		return nil, err
	}
	if p.Capability == nil || p.Capability.Modes(name) == 0 {
		return nil, deny(p, name, auth.OpSubscribe)
	}
	c := h.channel(p.AppID, name, true)
	a := &Attachment{hub: h, ch: c, sub: sub, connID: sub.ConnectionID(), echo: sub.Echo()}
	a.update(p, requested)
	c.mu.Lock()
	c.attached[a] = struct{}{}
	a.base = c.last
	c.mu.Unlock()
	return a, nil
}

// deny builds the 40160 error with the capability engine's explanation.
func deny(p *auth.Principal, channel string, op auth.Op) error {
	if p.Capability == nil {
		return herald.Errorf(herald.CodeCapabilityDenied, "%s denied on %q: the credential has no capability", op, channel)
	}
	return p.Capability.DeniedError(channel, op)
}

// Update applies a new principal (in-band re-auth, RTC8a1). It reports
// false when the channel is no longer allowed at all; the caller then
// detaches with a 40160 channel error.
func (a *Attachment) Update(p *auth.Principal) bool {
	if p.Capability == nil || p.Capability.Modes(a.ch.name) == 0 {
		return false
	}
	a.update(p, a.requestedModes())
	return true
}

func (a *Attachment) requestedModes() Modes {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requested
}

func (a *Attachment) update(p *auth.Principal, requested Modes) {
	modes := ModesFor(p.Capability.Modes(a.ch.name))
	if requested != 0 {
		modes &= requested
	}
	var lim *rate.Limiter
	if r, ok := p.RateLimits.Lookup(a.ch.name); ok && r > 0 {
		burst := int(math.Ceil(r))
		if burst < 1 {
			burst = 1
		}
		lim = rate.NewLimiter(rate.Limit(r), burst)
	}
	a.mu.Lock()
	a.principal, a.requested = p, requested
	a.modes.Store(uint32(modes))
	if lim == nil || a.limiter == nil || a.limiter.Limit() != lim.Limit() {
		a.limiter = lim
	}
	a.mu.Unlock()
}

// Detach removes the attachment and leaves presence for its connection on
// the channel. It is idempotent.
func (a *Attachment) Detach() {
	a.mu.Lock()
	if a.detached {
		a.mu.Unlock()
		return
	}
	a.detached = true
	a.mu.Unlock()
	c := a.ch
	c.mu.Lock()
	delete(c.attached, a)
	c.mu.Unlock()
	a.hub.leaveConnection(c, a.sub.ConnectionID())
	a.hub.release(c)
}

// allowRate takes n messages' worth from the attachment's publish rate
// limit (the claim's unit is messages per second). A batch larger than the
// bucket needs a full bucket, so it is not refused for ever.
func (a *Attachment) allowRate(n int) bool {
	a.mu.Lock()
	lim := a.limiter
	a.mu.Unlock()
	if lim == nil {
		return true
	}
	return lim.AllowN(time.Now(), min(n, lim.Burst()))
}
