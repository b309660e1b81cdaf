package protocol

import (
	"fmt"

	"github.com/heraldrt/herald"
)

// EncodeMessages encodes messages as a REST body in format f: an array,
// [] when there are none, with payloads transcoded for f as in frames
// (history, RSL2; protocol.md §F).
func EncodeMessages(f Format, msgs []*herald.Message) ([]byte, error) {
	var b []byte
	var err error
	if f == Msgpack {
		b, err = appendMpMessages(nil, msgs)
	} else {
		b, err = appendJSONMessages(nil, msgs)
	}
	if err != nil {
		return nil, fmt.Errorf("protocol: encode %s: messages%w", f, err)
	}
	return b, nil
}

// EncodePresence encodes presence messages as a REST body in format f:
// an array with numeric actions (RSP3, RSP4).
func EncodePresence(f Format, ps []*herald.PresenceMessage) ([]byte, error) {
	var b []byte
	var err error
	if f == Msgpack {
		b, err = appendMpPresence(nil, ps)
	} else {
		b, err = appendJSONPresence(nil, ps)
	}
	if err != nil {
		return nil, fmt.Errorf("protocol: encode %s: presence%w", f, err)
	}
	return b, nil
}
