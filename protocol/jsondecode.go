package protocol

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/heraldrt/herald"
)

// DecodeJSON decodes one JSON text frame. Unknown fields are skipped, a
// missing action is HEARTBEAT (ably-go omits action 0, protocol.md §A.3)
// and null reads as an absent field. Binary payloads sent as base64 with an
// encoding ending in "base64" come back as herald.DataBinary with that
// step removed (RSL6, protocol.md §F).
func DecodeJSON(b []byte) (*ProtocolMessage, error) {
	if len(b) > MaxFrameSize {
		return nil, tooLarge(JSON, len(b))
	}
	r := jsonReader{b: b}
	pm := &ProtocolMessage{}
	if err := r.frame(pm); err != nil {
		return nil, err
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return pm, nil
}

// DecodeMessagesJSON decodes a REST publish body (RSL1): one message object
// or an array of them.
func DecodeMessagesJSON(b []byte) ([]*herald.Message, error) {
	if len(b) > MaxFrameSize {
		return nil, tooLarge(JSON, len(b))
	}
	r := jsonReader{b: b}
	var msgs []*herald.Message
	var err error
	switch r.peek() {
	case '{':
		m := &herald.Message{}
		err = r.message(m)
		msgs = []*herald.Message{m}
	case '[':
		msgs, err = r.messages()
	default:
		err = r.errf("expected a message object or an array, found %s", r.kind())
	}
	if err == nil {
		err = r.end()
	}
	if err != nil {
		return nil, err
	}
	return msgs, nil
}

func (r *jsonReader) frame(pm *ProtocolMessage) error {
	if err := r.objectStart(); err != nil {
		return err
	}
	for n := 0; ; n++ {
		key, ok, err := r.objectKey(n)
		if err != nil || !ok {
			return err
		}
		var field string
		switch string(key) {
		case "action":
			field = "action"
			var v int64
			if v, err = r.int64(); err == nil && (v < 0 || v > maxAction) {
				err = r.errf("action %d out of range", v)
			}
			pm.Action = Action(v)
		case "id":
			field = "id"
			pm.ID, err = r.str()
		case "timestamp":
			field = "timestamp"
			pm.Timestamp, err = r.int64()
		case "count":
			field = "count"
			var v int64
			v, err = r.int64()
			pm.Count = int(v)
		case "error":
			field = "error"
			pm.Error, err = r.errorInfo()
		case "connectionId":
			field = "connectionId"
			pm.ConnectionID, err = r.str()
		case "connectionKey":
			field = "connectionKey"
			pm.ConnectionKey, err = r.str()
		case "connectionDetails":
			field = "connectionDetails"
			pm.ConnectionDetails, err = r.connectionDetails()
		case "channel":
			field = "channel"
			pm.Channel, err = r.str()
		case "channelSerial":
			field = "channelSerial"
			pm.ChannelSerial, err = r.str()
		case "msgSerial":
			field = "msgSerial"
			pm.MsgSerial, err = r.int64()
		case "messages":
			field = "messages"
			pm.Messages, err = r.messages()
		case "presence":
			field = "presence"
			pm.Presence, err = r.presence()
		case "auth":
			field = "auth"
			pm.Auth, err = r.auth()
		case "flags":
			field = "flags"
			pm.Flags, err = r.int64()
		case "params":
			field = "params"
			pm.Params, err = r.params()
		case "res":
			field = "res"
			pm.Res, err = r.res()
		default:
			err = r.skip(0) // annotations, state, connectionSerial, ...
		}
		if err != nil {
			if field == "" {
				return err
			}
			return atField(err, field)
		}
	}
}

// object reads an object into obj: obj maps each key to a field (fields.go)
// and the field's type says how its value is read.
func (r *jsonReader) object(obj fieldSet) error {
	if err := r.objectStart(); err != nil {
		return err
	}
	for n := 0; ; n++ {
		key, ok, err := r.objectKey(n)
		if err != nil || !ok {
			return err
		}
		name, dst := obj.field(key)
		switch p := dst.(type) {
		case nil:
			err = r.skip(0)
		case *string:
			*p, err = r.str()
		case *int64:
			*p, err = r.int64()
		case *int:
			var v int64
			v, err = r.int64()
			*p = int(v)
		case actionField:
			var v int64
			if v, err = r.int64(); err == nil && (v < 0 || v > maxAction) {
				err = r.errf("action %d out of range", v)
			}
			*p = int(v)
		case *herald.Data:
			*p, err = r.data()
		case *map[string]any:
			*p, err = r.extras()
		default:
			err = fmt.Errorf("protocol: no JSON reader for %T (a bug in fields.go)", dst) // refuse the frame, never crash
		}
		if err != nil {
			if name == "" {
				return err
			}
			return atField(err, name)
		}
	}
}

func (r *jsonReader) messages() ([]*herald.Message, error) {
	if isNull, err := r.null(); isNull || err != nil {
		return nil, err
	}
	if err := r.arrayStart(); err != nil {
		return nil, err
	}
	var msgs []*herald.Message
	for n := 0; ; n++ {
		ok, err := r.arrayNext(n)
		if err != nil || !ok {
			return msgs, err
		}
		m := &herald.Message{}
		if err := r.message(m); err != nil {
			return nil, atIndex(err, n)
		}
		msgs = append(msgs, m)
	}
}

func (r *jsonReader) message(m *herald.Message) error {
	if err := r.object((*messageFields)(m)); err != nil {
		return err
	}
	if err := unbase64(JSON, &m.Data, &m.Encoding); err != nil {
		return err
	}
	m.Size = MessageSize(m)
	return nil
}

func (r *jsonReader) presence() ([]*herald.PresenceMessage, error) {
	if isNull, err := r.null(); isNull || err != nil {
		return nil, err
	}
	if err := r.arrayStart(); err != nil {
		return nil, err
	}
	var ps []*herald.PresenceMessage
	for n := 0; ; n++ {
		ok, err := r.arrayNext(n)
		if err != nil || !ok {
			return ps, err
		}
		p := &herald.PresenceMessage{}
		if err := r.presenceMessage(p); err != nil {
			return nil, atIndex(err, n)
		}
		ps = append(ps, p)
	}
}

func (r *jsonReader) presenceMessage(p *herald.PresenceMessage) error {
	if err := r.object((*presenceFields)(p)); err != nil {
		return err
	}
	return unbase64(JSON, &p.Data, &p.Encoding)
}

// data reads a payload: a string is DataString (until unbase64 looks at
// the encoding), null is DataNone, anything else is DataJSON kept as
// compact JSON text.
func (r *jsonReader) data() (herald.Data, error) {
	switch r.peek() {
	case 'n':
		return herald.Data{}, r.literal("null")
	case '"':
		b, err := r.stringBytes()
		if err != nil {
			return herald.Data{}, err
		}
		return herald.Data{Kind: herald.DataString, Bytes: append([]byte{}, b...)}, nil
	}
	b, err := r.compact(nil, 0)
	if err != nil {
		return herald.Data{}, err
	}
	return herald.Data{Kind: herald.DataJSON, Bytes: b}, nil
}

// unbase64 turns string data whose encoding chain ends in "base64" into
// bytes and drops that step (RSL6a: the chain is undone from its end), so
// that MessagePack readers get bin and JSON readers get the same base64
// text back. Earlier steps (utf-8, json, cipher+...) are the client's and
// stay (protocol.md §F). Both decoders do this, so a payload is stored the
// same way whichever format carried it, and whatever one decoder accepts
// the other accepts once re-encoded.
func unbase64(f Format, d *herald.Data, encoding *string) error {
	if d.Kind != herald.DataString {
		return nil
	}
	rest, last := cutLastStep(*encoding)
	if last != "base64" {
		return nil
	}
	raw, err := decodeBase64(d.Bytes)
	if err != nil {
		return &decodeError{format: f, path: "data", msg: "invalid base64 for encoding " + *encoding}
	}
	*d = herald.Data{Kind: herald.DataBinary, Bytes: raw}
	*encoding = rest
	return nil
}

// cutLastStep splits an encoding chain "a/b/c" into "a/b" and "c".
func cutLastStep(encoding string) (rest, last string) {
	if i := strings.LastIndexByte(encoding, '/'); i >= 0 {
		return encoding[:i], encoding[i+1:]
	}
	return "", encoding
}

// decodeBase64 accepts standard base64 with or without padding.
func decodeBase64(src []byte) ([]byte, error) {
	// RawStdEncoding needs the larger buffer (no padding to discount).
	dst := make([]byte, base64.RawStdEncoding.DecodedLen(len(src)))
	n, err := base64.StdEncoding.Decode(dst, src)
	if err != nil {
		n, err = base64.RawStdEncoding.Decode(dst, src)
	}
	return dst[:n], err
}

func (r *jsonReader) extras() (map[string]any, error) {
	if isNull, err := r.null(); isNull || err != nil {
		return nil, err
	}
	if r.peek() != '{' {
		return nil, r.errf("expected an object, found %s", r.kind())
	}
	v, err := r.value(0)
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

func (r *jsonReader) errorInfo() (*herald.Error, error) {
	if isNull, err := r.null(); isNull || err != nil {
		return nil, err
	}
	e := &herald.Error{}
	if err := r.object((*errorFields)(e)); err != nil {
		return nil, err
	}
	return e, nil
}

func (r *jsonReader) connectionDetails() (*ConnectionDetails, error) {
	if isNull, err := r.null(); isNull || err != nil {
		return nil, err
	}
	if err := r.objectStart(); err != nil {
		return nil, err
	}
	cd := &ConnectionDetails{}
	for n := 0; ; n++ {
		key, ok, err := r.objectKey(n)
		if err != nil || !ok {
			return cd, err
		}
		var v int64
		switch string(key) {
		case "clientId":
			cd.ClientID, err = r.str()
		case "connectionKey":
			cd.ConnectionKey, err = r.str()
		case "connectionStateTtl":
			cd.ConnectionStateTTL, err = r.int64()
		case "maxIdleInterval":
			cd.MaxIdleInterval, err = r.int64()
		case "maxMessageSize":
			v, err = r.int64()
			cd.MaxMessageSize = int(v)
		case "maxFrameSize":
			v, err = r.int64()
			cd.MaxFrameSize = int(v)
		case "maxInboundRate":
			v, err = r.int64()
			cd.MaxInboundRate = int(v)
		case "serverId":
			cd.ServerID, err = r.str()
		case "siteCode":
			cd.SiteCode, err = r.str()
		default:
			err = r.skip(0) // objectsGCGracePeriod, ...
		}
		if err != nil {
			return nil, err
		}
	}
}

func (r *jsonReader) auth() (*AuthDetails, error) {
	if isNull, err := r.null(); isNull || err != nil {
		return nil, err
	}
	a := &AuthDetails{}
	if err := r.object((*authFields)(a)); err != nil {
		return nil, err
	}
	return a, nil
}

// params reads channel params. Values should be strings (TB2c); numbers
// and booleans are kept as their text, since rewind=1 and delta=vcdiff
// mean the same either way, and nulls are dropped.
func (r *jsonReader) params() (map[string]string, error) {
	if isNull, err := r.null(); isNull || err != nil {
		return nil, err
	}
	if err := r.objectStart(); err != nil {
		return nil, err
	}
	p := map[string]string{}
	for n := 0; ; n++ {
		key, ok, err := r.objectKey(n)
		if err != nil || !ok {
			return p, err
		}
		k := string(key)
		switch r.peek() {
		case '"':
			p[k], err = r.str()
		case 'n':
			err = r.literal("null")
		case 't':
			p[k], err = "true", r.literal("true")
		case 'f':
			p[k], err = "false", r.literal("false")
		case '{', '[':
			err = r.errf("param %q must be a string", k)
		default:
			var tok []byte
			tok, _, err = r.number()
			p[k] = string(tok)
		}
		if err != nil {
			return nil, err
		}
	}
}

func (r *jsonReader) res() ([]PublishResult, error) {
	if isNull, err := r.null(); isNull || err != nil {
		return nil, err
	}
	if err := r.arrayStart(); err != nil {
		return nil, err
	}
	var out []PublishResult
	for n := 0; ; n++ {
		ok, err := r.arrayNext(n)
		if err != nil || !ok {
			return out, err
		}
		var pr PublishResult
		if pr, err = r.publishResult(); err != nil {
			return nil, atIndex(err, n)
		}
		out = append(out, pr)
	}
}

func (r *jsonReader) publishResult() (PublishResult, error) {
	var pr PublishResult
	if isNull, err := r.null(); isNull || err != nil {
		return pr, err
	}
	if err := r.objectStart(); err != nil {
		return pr, err
	}
	for n := 0; ; n++ {
		key, ok, err := r.objectKey(n)
		if err != nil || !ok {
			return pr, err
		}
		if string(key) != "serials" {
			if err := r.skip(0); err != nil {
				return pr, err
			}
			continue
		}
		if isNull, err := r.null(); err != nil {
			return pr, err
		} else if isNull {
			continue
		}
		if err := r.arrayStart(); err != nil {
			return pr, atField(err, "serials")
		}
		pr.Serials = pr.Serials[:0]
		for i := 0; ; i++ {
			ok, err := r.arrayNext(i)
			if err != nil {
				return pr, err
			}
			if !ok {
				break
			}
			s, err := r.str() // null → "" (see PublishResult)
			if err != nil {
				return pr, atField(atIndex(err, i), "serials")
			}
			pr.Serials = append(pr.Serials, s)
		}
	}
}
