package protocol

import (
	"errors"
	"fmt"

	"github.com/heraldrt/herald"
)

// ProtocolMessage is one realtime frame (spec TR4). Zero fields are omitted
// on the wire; Action is always written, and MsgSerial and Count are always
// written on ACK and NACK because 0 is a meaningful value there (TR4, RTN7).
type ProtocolMessage struct {
	Action    Action
	ID        string // HEARTBEAT ping id (RTN13) or "<connectionId>:<msgSerial>" on deliveries
	Timestamp int64  // ms since the epoch
	Count     int    // ACK/NACK: how many msgSerials from MsgSerial on (TR4j)
	Error     *herald.Error
	// ConnectionID is read by ably-js from the top level on CONNECTED,
	// not from ConnectionDetails (protocol.md §A.4).
	ConnectionID string
	// ConnectionKey is the deprecated top-level copy of
	// ConnectionDetails.ConnectionKey; still sent for older clients.
	ConnectionKey     string
	ConnectionDetails *ConnectionDetails
	Channel           string
	ChannelSerial     string
	// MsgSerial numbers a client's ack-required frames from 0 (RTN7b). An
	// absent msgSerial decodes as 0; ably-go always sends it.
	MsgSerial int64
	Messages  []*herald.Message
	Presence  []*herald.PresenceMessage
	Auth      *AuthDetails
	Flags     Flag
	Params    map[string]string
	Res       []PublishResult // ACK: one per acknowledged frame (TR4s)
}

// HasFlag reports whether every bit of f is set in pm.Flags.
func (pm *ProtocolMessage) HasFlag(f Flag) bool { return pm.Flags&f == f }

// ConnectionDetails is sent on CONNECTED (spec CD2). Durations are in ms;
// zero fields are omitted, which the SDKs read as "use your default"
// (a zero MaxIdleInterval means no idle promise either way, CD2h).
type ConnectionDetails struct {
	ClientID           string // omitted for anonymous clients, "*" for wildcard tokens
	ConnectionKey      string // required by ably-js to set connection.key
	ConnectionStateTTL int64
	MaxIdleInterval    int64
	MaxMessageSize     int
	MaxFrameSize       int
	MaxInboundRate     int
	ServerID           string
	SiteCode           string
}

// AuthDetails carries a token on an in-band AUTH frame (RTC8, RTN22).
type AuthDetails struct {
	AccessToken string
}

// PublishResult is one entry of an ACK's res array (TR4s): one serial per
// message of the acknowledged frame. A serial may be null on the wire (a
// message the server discarded, e.g. as a duplicate); Herald represents
// null as "", which no real serial ever is, and writes "" back as null.
type PublishResult struct {
	Serials []string
}

// Limits applied by the decoders.
const (
	// MaxFrameSize bounds the input of every decoder. Transports cap
	// frames far lower; this only keeps a decoder's work bounded when a
	// caller forgets to.
	MaxFrameSize = 16 << 20
	// MaxDepth bounds the nesting of data, extras and skipped unknown
	// values (an object or array at the top of a value is depth 1).
	MaxDepth = 64
)

// Decode errors. Every decode error wraps exactly one of them.
var (
	// ErrMalformed reports input that is not a valid frame or body.
	ErrMalformed = errors.New("protocol: malformed input")
	// ErrFrameTooLarge reports input longer than MaxFrameSize.
	ErrFrameTooLarge = errors.New("protocol: frame too large")
)

// decodeError is a decode failure at path (e.g. "messages[1].data").
type decodeError struct {
	format Format
	path   string
	msg    string
}

func (e *decodeError) Error() string {
	s := "protocol: malformed " + e.format.String()
	if e.path != "" {
		s += ": " + e.path
	}
	return s + ": " + e.msg
}

func (e *decodeError) Unwrap() error { return ErrMalformed }

// atField prefixes the path of a decodeError with a field name; other
// errors pass through. It runs only on the error path.
func atField(err error, field string) error {
	var de *decodeError
	if errors.As(err, &de) {
		if de.path == "" || de.path[0] == '[' {
			de.path = field + de.path
		} else {
			de.path = field + "." + de.path
		}
	}
	return err
}

// atIndex prefixes the path of a decodeError with an array index.
func atIndex(err error, i int) error {
	var de *decodeError
	if errors.As(err, &de) {
		idx := fmt.Sprintf("[%d]", i)
		if de.path == "" || de.path[0] == '[' {
			de.path = idx + de.path
		} else {
			de.path = idx + "." + de.path
		}
	}
	return err
}

func tooLarge(f Format, n int) error {
	return fmt.Errorf("%w: %s input of %d bytes exceeds %d", ErrFrameTooLarge, f, n, MaxFrameSize)
}

// Format is a wire encoding: JSON text frames or MessagePack binary frames
// (protocol.md §A.2), chosen per connection by the format query parameter
// and per REST request by Accept/Content-Type.
type Format uint8

// Formats.
const (
	JSON Format = iota
	Msgpack
)

// ParseFormat parses the realtime "format" query value ("json" or
// "msgpack"). ok is false for anything else.
func ParseFormat(s string) (f Format, ok bool) {
	switch s {
	case "json":
		return JSON, true
	case "msgpack":
		return Msgpack, true
	}
	return JSON, false
}

// String returns "json" or "msgpack".
func (f Format) String() string {
	if f == Msgpack {
		return "msgpack"
	}
	return "json"
}

// ContentType returns the media type of f exactly as the SDKs compare it
// (no charset parameter; protocol.md §B.4).
func (f Format) ContentType() string {
	if f == Msgpack {
		return "application/x-msgpack"
	}
	return "application/json"
}

// Decode decodes one frame in format f.
func Decode(f Format, b []byte) (*ProtocolMessage, error) {
	if f == Msgpack {
		return DecodeMsgpack(b)
	}
	return DecodeJSON(b)
}

// Encode encodes pm in format f into a new slice.
func Encode(f Format, pm *ProtocolMessage) ([]byte, error) {
	return Append(f, nil, pm)
}

// Append appends the encoding of pm in format f to dst, so that a writer
// can reuse one buffer for every frame.
func Append(f Format, dst []byte, pm *ProtocolMessage) ([]byte, error) {
	if f == Msgpack {
		return AppendMsgpack(dst, pm)
	}
	return AppendJSON(dst, pm)
}

// EncodeJSON encodes pm as a JSON text frame.
func EncodeJSON(pm *ProtocolMessage) ([]byte, error) { return AppendJSON(nil, pm) }

// EncodeMsgpack encodes pm as a MessagePack binary frame.
func EncodeMsgpack(pm *ProtocolMessage) ([]byte, error) { return AppendMsgpack(nil, pm) }

// MessageSize returns the size of m for the maxMessageSize limit (40009):
// the byte lengths of name, clientId and data plus the length of extras as
// JSON (TO3l8a). Binary data counts its raw bytes, not its base64 text, so
// a payload costs the same over either format. The decoders store it in
// Message.Size; call it again after filling in fields such as ClientID.
func MessageSize(m *herald.Message) int {
	return len(m.Name) + len(m.ClientID) + dataSize(m.Data) + extrasSize(m.Extras)
}

// PresenceSize is MessageSize for a presence message (clientId, data and
// extras; presence messages have no name). herald.PresenceMessage has no
// Size field, so callers compute it when they need it.
func PresenceSize(p *herald.PresenceMessage) int {
	return len(p.ClientID) + dataSize(p.Data) + extrasSize(p.Extras)
}

func dataSize(d herald.Data) int {
	if d.Kind == herald.DataNone {
		return 0
	}
	return len(d.Bytes)
}

// extrasSize is the length of extras as compact JSON; extras that cannot
// be encoded count 0 (they fail later, when encoded for delivery).
func extrasSize(x map[string]any) int {
	if len(x) == 0 {
		return 0
	}
	var buf [256]byte
	b, err := appendJSONValue(buf[:0], x, 0)
	if err != nil {
		return 0
	}
	return len(b)
}
