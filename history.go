package herald

import (
	"context"
	"time"
)

// HistoryQuery selects stored messages or presence events of one channel
// (RSL2, RSP4).
type HistoryQuery struct {
	AppID   string
	Channel string
	Start   time.Time // inclusive, by timestamp; zero = no lower bound
	End     time.Time // inclusive, by timestamp; zero = no upper bound
	// UntilSerial, when set, keeps only entries with Serial <= UntilSerial
	// (history untilAttach: everything up to the attach point, RTL10b).
	UntilSerial string
	// AfterSerial/BeforeSerial are exclusive cursors used by pagination:
	// forwards pages continue after the last serial seen, backwards pages
	// before it.
	AfterSerial  string
	BeforeSerial string
	Forwards     bool // default newest first
	Limit        int  // <= 0 means no limit
}

// HistoryStore keeps channel history. Serials are unique per channel and
// sort as strings in publish order; queries order by serial.
type HistoryStore interface {
	// AppendMessages stores msgs (each with Serial set) of one channel.
	AppendMessages(ctx context.Context, appID, channel string, msgs []*Message) error
	Messages(ctx context.Context, q HistoryQuery) ([]*Message, error)
	// AppendPresence stores presence events (Serial in PresenceMessage.ID's
	// place is not needed: they are ordered by the serial argument).
	AppendPresence(ctx context.Context, appID, channel string, serial string, events []*PresenceMessage) error
	PresenceHistory(ctx context.Context, q HistoryQuery) ([]*PresenceMessage, error)
	// DeleteHistory removes messages and presence events of appID whose
	// timestamp is before `before`, on channels whose namespace (the part
	// before the first ':') is in namespaces, or on every other channel when
	// namespaces is nil and except is the list of namespaces to skip. It
	// reports how many rows it removed.
	DeleteHistory(ctx context.Context, appID string, before time.Time, scope HistoryScope) (int, error)
}

// HistoryScope selects channels by namespace for DeleteHistory.
type HistoryScope struct {
	// Namespaces, when non-nil, limits deletion to channels in these
	// namespaces. Except skips channels in these namespaces.
	Namespaces []string
	Except     []string
}
