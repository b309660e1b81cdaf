// Package hub is Herald's node-local channel registry: attach and detach,
// the publish pipeline (identity, claims, limits, ids, serials) and fan-out
// to attached subscribers, and presence. It knows nothing of transports:
// realtime and httpapi call it with an auth.Principal, and it reaches
// connections only through the Subscriber interface it defines.
//
// Lock order: Hub.mu, then channel.mu; never the other way round. A
// Subscriber's Deliver is called with channel.mu read-locked and must not
// block or call back into the hub.
package hub

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldrt/herald"
)

// Config configures a Hub.
type Config struct {
	// MaxMessageSize bounds the payload of one publish (40009). Default
	// 65536, Ably's default (connectionDetails.maxMessageSize).
	MaxMessageSize int
	Logger         *slog.Logger
	History        HistoryConfig
}

// Subscriber receives deliveries for the channels it is attached to. The
// realtime connection implements it.
type Subscriber interface {
	// ConnectionID identifies the subscriber (echo suppression, presence).
	ConnectionID() string
	// Deliver hands d over without blocking: a subscriber that cannot keep
	// up must drop itself (disconnect), never stall the publisher.
	Deliver(d *Delivery)
	// Echo reports whether the subscriber wants its own messages back.
	Echo() bool
}

// Hub is the channel registry of one node.
type Hub struct {
	cfg    Config
	clock  herald.Clock
	logger *slog.Logger

	mu       sync.RWMutex
	channels map[chanKey]*channel

	stats   StatsSink
	history *historyWriter
	serial  atomic.Uint64
}

// StatsSink receives counters (the stats recorder implements it).
type StatsSink interface {
	Incr(appID, name string, n int64)
}

type chanKey struct{ app, name string }

// New returns an empty hub. store, when not nil, keeps channel history
// (written by a background writer that Start starts).
func New(cfg Config, clock herald.Clock, stats StatsSink, store HistoryDeps) *Hub {
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = 65536
	}
	if clock == nil {
		clock = herald.SystemClock{}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &Hub{cfg: cfg, clock: clock, logger: logger, channels: map[chanKey]*channel{}, stats: stats}
	if store != nil {
		h.history = &historyWriter{store: store, cfg: cfg.History.withDefaults(), clock: clock, hub: h,
			kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	}
	return h
}

// MaxMessageSize is the publish size limit.
func (h *Hub) MaxMessageSize() int { return h.cfg.MaxMessageSize }

// channel is one active channel of one app.
type channel struct {
	app, name string

	serial *atomic.Uint64 // the hub's counter, shared by every channel

	mu       sync.RWMutex
	attached map[*Attachment]struct{}
	members  map[memberKey]*herald.PresenceMessage
	// recent holds the last deliveries, oldest first, so that a client
	// re-attaching with the channelSerial it last saw (RTL4c1) gets what
	// it missed while its connection was down.
	recent []*Delivery
	last   string // serial of the newest delivery
}

// recentMax bounds the per-channel replay buffer.
const recentMax = 256

// remember adds d to the replay buffer; c.mu must be held for writing.
func (c *channel) remember(d *Delivery) {
	if len(c.recent) >= recentMax {
		copy(c.recent, c.recent[1:])
		c.recent = c.recent[:len(c.recent)-1]
	}
	c.recent = append(c.recent, d)
	c.last = d.ChannelSerial
}

type memberKey struct{ conn, client string }

func (h *Hub) channel(app, name string, create bool) *channel {
	k := chanKey{app, name}
	h.mu.RLock()
	c := h.channels[k]
	h.mu.RUnlock()
	if c != nil || !create {
		return c
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if c = h.channels[k]; c == nil {
		c = &channel{app: app, name: name, serial: &h.serial, attached: map[*Attachment]struct{}{}, members: map[memberKey]*herald.PresenceMessage{}}
		h.channels[k] = c
	}
	return c
}

// release drops an idle channel (no attachments, no members).
func (h *Hub) release(c *channel) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c.mu.RLock()
	idle := len(c.attached) == 0 && len(c.members) == 0
	c.mu.RUnlock()
	if idle && h.channels[chanKey{c.app, c.name}] == c {
		delete(h.channels, chanKey{c.app, c.name})
	}
}

// nextSerial returns the next serial: 16 hex digits of (unix ms << 20 |
// sequence), from one counter for the whole hub. Serials thus sort in
// publish order as strings, never repeat when an idle channel is released
// and created again, and keep increasing across restarts (history is
// ordered by them) unless the clock steps back by more than the gap.
func (c *channel) nextSerial(now time.Time) string {
	floor := uint64(now.UnixMilli()) << 20
	for {
		last := c.serial.Load()
		n := last + 1
		if n < floor {
			n = floor
		}
		if c.serial.CompareAndSwap(last, n) {
			return formatSerial(n)
		}
	}
}

func formatSerial(n uint64) string {
	var b [16]byte
	const hex = "0123456789abcdef"
	for i := 15; i >= 0; i-- {
		b[i] = hex[n&15]
		n >>= 4
	}
	return string(b[:])
}

// Occupancy is a channel's occupancy metrics (CHM2).
type Occupancy struct {
	Connections, Publishers, Subscribers, PresenceConnections, PresenceMembers, PresenceSubscribers int
}

// Occupancy reports app's channel occupancy; ok is false when the channel
// is not active on this node.
func (h *Hub) Occupancy(app, name string) (Occupancy, bool) {
	c := h.channel(app, name, false)
	if c == nil {
		return Occupancy{}, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	var o Occupancy
	for a := range c.attached {
		o.Connections++
		modes := a.Modes()
		if modes.Has(ModePublish) {
			o.Publishers++
		}
		if modes.Has(ModeSubscribe) {
			o.Subscribers++
		}
		if modes.Has(ModePresenceSubscribe) {
			o.PresenceSubscribers++
		}
		if modes.Has(ModePresence) {
			o.PresenceConnections++
		}
	}
	o.PresenceMembers = len(c.members)
	return o, true
}

// Channels lists the active channels of app (for enumeration).
func (h *Hub) Channels(app string) []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []string
	for k := range h.channels {
		if k.app == app {
			out = append(out, k.name)
		}
	}
	return out
}
