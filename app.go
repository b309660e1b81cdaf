package herald

import "time"

// AppStatus is an app's state. Only enabled apps authenticate anything.
type AppStatus string

// App statuses.
const (
	AppEnabled  AppStatus = "enabled"
	AppDisabled AppStatus = "disabled"
)

// App is an Ably application: the unit that owns keys, channels and stats.
// Its ID is the first segment of every key name ("appId.keyId").
type App struct {
	ID        string
	AccountID string
	Name      string
	Status    AppStatus
	// TLSOnly refuses token connections over plain transports (40311).
	TLSOnly bool
	// RevokeByChannel enables revokeTokens "channel:" targets, which Ably
	// enables per account on request (40121 otherwise).
	RevokeByChannel bool
	Created         time.Time
	Modified        time.Time
}

// Namespace is a channel namespace's settings (the part of a channel name
// before the first ':'), as provisioned through /apps or the Control API.
type Namespace struct {
	AppID string
	ID    string
	// Persisted keeps history for the namespace's channels beyond the default.
	Persisted       bool
	PushEnabled     bool
	MutableMessages bool
	// Raw is the namespace object as it was provisioned (JSON), so that fields
	// Herald does not interpret yet survive and can be echoed back.
	Raw []byte
}

// ChannelFixture is a channel provisioned with initial state through /apps
// (the sandbox's presence fixtures). Raw holds the channel object as JSON.
type ChannelFixture struct {
	AppID string
	Name  string
	Raw   []byte
}
