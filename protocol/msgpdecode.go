package protocol

import (
	"fmt"

	"github.com/heraldrt/herald"
)

// DecodeMsgpack decodes one MessagePack binary frame (one map). As in
// DecodeJSON, unknown keys are skipped, a missing action is HEARTBEAT and
// nil reads as absent. Payloads: bin → DataBinary with the encoding
// untouched, str → DataString, any other value → DataJSON (protocol.md
// §F). A str whose encoding ends in "base64" is decoded to DataBinary as
// in DecodeJSON (see unbase64).
func DecodeMsgpack(b []byte) (*ProtocolMessage, error) {
	if len(b) > MaxFrameSize {
		return nil, tooLarge(Msgpack, len(b))
	}
	r := mpReader{b: b}
	pm := &ProtocolMessage{}
	if err := r.frame(pm); err != nil {
		return nil, err
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return pm, nil
}

// DecodeMessagesMsgpack decodes a REST publish body (RSL1): one message map
// or an array of them.
func DecodeMessagesMsgpack(b []byte) ([]*herald.Message, error) {
	if len(b) > MaxFrameSize {
		return nil, tooLarge(Msgpack, len(b))
	}
	r := mpReader{b: b}
	var msgs []*herald.Message
	var err error
	switch c := r.code(); {
	case (c >= 0x80 && c <= 0x8f) || c == mpMap16 || c == mpMap32:
		m := &herald.Message{}
		err = r.message(m)
		msgs = []*herald.Message{m}
	case (c >= 0x90 && c <= 0x9f) || c == mpArray16 || c == mpArray32:
		msgs, err = r.messages()
	default:
		err = r.errf("expected a message map or an array, found %s", r.kind())
	}
	if err == nil {
		err = r.end()
	}
	if err != nil {
		return nil, err
	}
	return msgs, nil
}

// DecodeMessages decodes a REST publish body in format f.
func DecodeMessages(f Format, b []byte) ([]*herald.Message, error) {
	if f == Msgpack {
		return DecodeMessagesMsgpack(b)
	}
	return DecodeMessagesJSON(b)
}

func (r *mpReader) frame(pm *ProtocolMessage) error {
	n, err := r.mapLen()
	if err != nil {
		return err
	}
	for ; n > 0; n-- {
		key, err := r.key()
		if err != nil {
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
			err = r.skip(0)
		}
		if err != nil {
			if field == "" {
				return err
			}
			return atField(err, field)
		}
	}
	return nil
}

// object reads a map into obj: obj maps each key to a field (fields.go)
// and the field's type says how its value is read.
func (r *mpReader) object(obj fieldSet) error {
	n, err := r.mapLen()
	if err != nil {
		return err
	}
	for ; n > 0; n-- {
		key, err := r.key()
		if err != nil {
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
			err = fmt.Errorf("protocol: no MessagePack reader for %T (a bug in fields.go)", dst) // refuse the frame, never crash
		}
		if err != nil {
			if name == "" {
				return err
			}
			return atField(err, name)
		}
	}
	return nil
}

func (r *mpReader) messages() ([]*herald.Message, error) {
	if r.null() {
		return nil, nil
	}
	n, err := r.arrayLen()
	if err != nil || n == 0 {
		return nil, err
	}
	// Capacity is capped: a declared length is only a claim until the
	// elements have been read.
	msgs := make([]*herald.Message, 0, min(n, maxPrealloc))
	for i := range n {
		m := &herald.Message{}
		if err := r.message(m); err != nil {
			return nil, atIndex(err, i)
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

func (r *mpReader) message(m *herald.Message) error {
	if err := r.object((*messageFields)(m)); err != nil {
		return err
	}
	if err := unbase64(Msgpack, &m.Data, &m.Encoding); err != nil {
		return err
	}
	m.Size = MessageSize(m)
	return nil
}

func (r *mpReader) presence() ([]*herald.PresenceMessage, error) {
	if r.null() {
		return nil, nil
	}
	n, err := r.arrayLen()
	if err != nil || n == 0 {
		return nil, err
	}
	ps := make([]*herald.PresenceMessage, 0, min(n, maxPrealloc))
	for i := range n {
		p := &herald.PresenceMessage{}
		if err := r.presenceMessage(p); err != nil {
			return nil, atIndex(err, i)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

func (r *mpReader) presenceMessage(p *herald.PresenceMessage) error {
	if err := r.object((*presenceFields)(p)); err != nil {
		return err
	}
	return unbase64(Msgpack, &p.Data, &p.Encoding)
}

// data reads a payload. bin keeps its encoding as the client sent it:
// MessagePack carries binary natively, with no base64 step (RSL4c).
func (r *mpReader) data() (herald.Data, error) {
	c := r.code()
	switch {
	case c == mpNil:
		r.i++
		return herald.Data{}, nil
	case (c >= 0xa0 && c <= 0xbf) || (c >= mpStr8 && c <= mpStr32):
		b, _, err := r.raw()
		return herald.Data{Kind: herald.DataString, Bytes: append([]byte{}, b...)}, err
	case c >= mpBin8 && c <= mpBin32:
		b, _, err := r.raw()
		return herald.Data{Kind: herald.DataBinary, Bytes: append([]byte{}, b...)}, err
	}
	b, err := r.toJSON(nil, 0)
	if err != nil {
		return herald.Data{}, err
	}
	return herald.Data{Kind: herald.DataJSON, Bytes: b}, nil
}

func (r *mpReader) extras() (map[string]any, error) {
	if r.null() {
		return nil, nil
	}
	if c := r.code(); !((c >= 0x80 && c <= 0x8f) || c == mpMap16 || c == mpMap32) {
		return nil, r.errf("expected a map, found %s", r.kind())
	}
	v, err := r.value(0)
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

func (r *mpReader) errorInfo() (*herald.Error, error) {
	if r.null() {
		return nil, nil
	}
	e := &herald.Error{}
	if err := r.object((*errorFields)(e)); err != nil {
		return nil, err
	}
	return e, nil
}

func (r *mpReader) connectionDetails() (*ConnectionDetails, error) {
	if r.null() {
		return nil, nil
	}
	n, err := r.mapLen()
	if err != nil {
		return nil, err
	}
	cd := &ConnectionDetails{}
	for ; n > 0; n-- {
		key, err := r.key()
		if err != nil {
			return nil, err
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
			err = r.skip(0)
		}
		if err != nil {
			return nil, err
		}
	}
	return cd, nil
}

func (r *mpReader) auth() (*AuthDetails, error) {
	if r.null() {
		return nil, nil
	}
	a := &AuthDetails{}
	if err := r.object((*authFields)(a)); err != nil {
		return nil, err
	}
	return a, nil
}

// params reads channel params; as in JSON, numbers and booleans are kept
// as their text and nils are dropped.
func (r *mpReader) params() (map[string]string, error) {
	if r.null() {
		return nil, nil
	}
	n, err := r.mapLen()
	if err != nil {
		return nil, err
	}
	p := make(map[string]string, min(n, maxPrealloc))
	for ; n > 0; n-- {
		k, err := r.stringKey()
		if err != nil {
			return nil, err
		}
		c := r.code()
		switch {
		case c == mpNil:
			r.i++
		case c == mpTrue || c == mpFalse:
			r.i++
			p[k] = "false"
			if c == mpTrue {
				p[k] = "true"
			}
		case (c >= 0xa0 && c <= 0xbf) || (c >= mpStr8 && c <= mpStr32) || (c >= mpBin8 && c <= mpBin32):
			p[k], err = r.str()
		default:
			var text []byte
			if text, err = r.toJSON(nil, MaxDepth); err != nil {
				return nil, r.errf("param %q must be a string", k)
			}
			p[k] = string(text)
		}
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (r *mpReader) res() ([]PublishResult, error) {
	if r.null() {
		return nil, nil
	}
	n, err := r.arrayLen()
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]PublishResult, 0, min(n, maxPrealloc))
	for i := range n {
		pr, err := r.publishResult()
		if err != nil {
			return nil, atIndex(err, i)
		}
		out = append(out, pr)
	}
	return out, nil
}

func (r *mpReader) publishResult() (PublishResult, error) {
	var pr PublishResult
	if r.null() {
		return pr, nil
	}
	n, err := r.mapLen()
	if err != nil {
		return pr, err
	}
	for ; n > 0; n-- {
		key, err := r.key()
		if err != nil {
			return pr, err
		}
		if string(key) != "serials" {
			if err := r.skip(0); err != nil {
				return pr, err
			}
			continue
		}
		if r.null() {
			continue
		}
		cnt, err := r.arrayLen()
		if err != nil {
			return pr, atField(err, "serials")
		}
		pr.Serials = make([]string, 0, min(cnt, maxPrealloc))
		for i := range cnt {
			s, err := r.str() // nil → "" (see PublishResult)
			if err != nil {
				return pr, atField(atIndex(err, i), "serials")
			}
			pr.Serials = append(pr.Serials, s)
		}
	}
	return pr, nil
}
