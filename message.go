package herald

// DataKind says what a message payload is, so that it can be re-encoded for
// each reader's format (protocol.md §F): binary payloads are msgpack bin for
// binary readers and base64 text (encoding + "base64") for JSON readers.
type DataKind uint8

// Payload kinds.
const (
	DataNone   DataKind = iota // no data
	DataString                 // UTF-8 text
	DataBinary                 // raw bytes
	DataJSON                   // a JSON value other than a string (object, array, number, bool), kept as its text
)

// Data is a message payload in a format-neutral form.
type Data struct {
	Kind  DataKind
	Bytes []byte
}

// Message is one pub/sub message (TM1-TM5). Encoding is the client's
// encoding chain minus any trailing base64 step that only existed to carry
// binary data through JSON.
type Message struct {
	ID           string
	ClientID     string
	ConnectionID string
	Name         string
	Data         Data
	Encoding     string
	// Extras is the message's extras object (push, headers, userClaim,
	// privileged, ...), decoded generically.
	Extras    map[string]any
	Timestamp int64 // ms
	// Serial is the server-assigned serial (channel order).
	Serial string
	// Action is the message action (0 = message.create).
	Action int
	// Size is the payload size used for limits and stats.
	Size int
}

// PresenceAction is a presence event (TP2).
type PresenceAction int

// Presence actions.
const (
	PresenceAbsent PresenceAction = iota
	PresencePresent
	PresenceEnter
	PresenceLeave
	PresenceUpdate
)

// PresenceMessage is a presence event or member state (TP3).
type PresenceMessage struct {
	ID           string
	Action       PresenceAction
	ClientID     string
	ConnectionID string
	Data         Data
	Encoding     string
	Extras       map[string]any
	Timestamp    int64
}
