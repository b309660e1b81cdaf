package protocol

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/heraldrt/herald"
)

// AppendMsgpack appends pm as a MessagePack binary frame to dst: one map,
// strings as str, payload bytes as bin, integers in their smallest form
// (ably-go reads them into int64 whatever the width) and no nil entries
// (ably-js encodes sparsely and ably-go's decoder assumes strings,
// protocol.md §A.2, §F). Like AppendJSON it is hand-written for the
// fan-out path and does not allocate with a reused dst.
func AppendMsgpack(dst []byte, pm *ProtocolMessage) ([]byte, error) {
	if pm == nil {
		return dst, fmt.Errorf("protocol: encode msgpack: nil ProtocolMessage")
	}
	start, n := len(dst), 1
	dst = append(dst, 0x80) // map header, fixed up by finishMap
	dst = appendMpStr(dst, "action")
	dst = appendMpInt(dst, int64(pm.Action))
	dst, n = mpStrField(dst, n, "id", pm.ID)
	dst, n = mpIntField(dst, n, "timestamp", pm.Timestamp)
	ackOrNack := pm.Action == ActionAck || pm.Action == ActionNack
	if pm.Count != 0 || ackOrNack {
		dst = appendMpInt(appendMpStr(dst, "count"), int64(pm.Count))
		n++
	}
	if e := pm.Error; e != nil {
		dst = appendMpError(appendMpStr(dst, "error"), e)
		n++
	}
	dst, n = mpStrField(dst, n, "connectionId", pm.ConnectionID)
	dst, n = mpStrField(dst, n, "connectionKey", pm.ConnectionKey)
	if pm.ConnectionDetails != nil {
		dst = appendMpConnectionDetails(appendMpStr(dst, "connectionDetails"), pm.ConnectionDetails)
		n++
	}
	dst, n = mpStrField(dst, n, "channel", pm.Channel)
	dst, n = mpStrField(dst, n, "channelSerial", pm.ChannelSerial)
	if pm.MsgSerial != 0 || ackOrNack {
		dst = appendMpInt(appendMpStr(dst, "msgSerial"), pm.MsgSerial)
		n++
	}
	var err error
	if len(pm.Messages) > 0 {
		dst = appendMpStr(dst, "messages")
		n++
		if dst, err = appendMpMessages(dst, pm.Messages); err != nil {
			return dst, fmt.Errorf("protocol: encode msgpack: messages%w", err)
		}
	}
	if len(pm.Presence) > 0 {
		dst = appendMpStr(dst, "presence")
		n++
		if dst, err = appendMpPresence(dst, pm.Presence); err != nil {
			return dst, fmt.Errorf("protocol: encode msgpack: presence%w", err)
		}
	}
	if pm.Auth != nil {
		dst = appendMpStr(dst, "auth")
		n++
		as, an := len(dst), 0
		dst = append(dst, 0x80)
		dst, an = mpStrField(dst, an, "accessToken", pm.Auth.AccessToken)
		dst = finishMap(dst, as, an)
	}
	dst, n = mpIntField(dst, n, "flags", pm.Flags)
	if len(pm.Params) > 0 {
		dst = appendMpStr(dst, "params")
		n++
		dst = appendMpHeader(dst, len(pm.Params), 0x80, mpMap16, mpMap32)
		for _, k := range sortedKeys(pm.Params) {
			dst = appendMpStr(appendMpStr(dst, k), pm.Params[k])
		}
	}
	if len(pm.Res) > 0 {
		dst = appendMpStr(dst, "res")
		n++
		dst = appendMpHeader(dst, len(pm.Res), 0x90, mpArray16, mpArray32)
		for _, res := range pm.Res {
			dst = appendMpPublishResult(dst, res)
		}
	}
	return finishMap(dst, start, n), nil
}

func appendMpConnectionDetails(dst []byte, cd *ConnectionDetails) []byte {
	start, n := len(dst), 0
	dst = append(dst, 0x80)
	dst, n = mpStrField(dst, n, "clientId", cd.ClientID)
	dst, n = mpStrField(dst, n, "connectionKey", cd.ConnectionKey)
	dst, n = mpIntField(dst, n, "connectionStateTtl", cd.ConnectionStateTTL)
	dst, n = mpIntField(dst, n, "maxIdleInterval", cd.MaxIdleInterval)
	dst, n = mpIntField(dst, n, "maxMessageSize", int64(cd.MaxMessageSize))
	dst, n = mpIntField(dst, n, "maxFrameSize", int64(cd.MaxFrameSize))
	dst, n = mpIntField(dst, n, "maxInboundRate", int64(cd.MaxInboundRate))
	dst, n = mpStrField(dst, n, "serverId", cd.ServerID)
	dst, n = mpStrField(dst, n, "siteCode", cd.SiteCode)
	return finishMap(dst, start, n)
}

func appendMpError(dst []byte, e *herald.Error) []byte {
	start, n := len(dst), 3
	dst = append(dst, 0x80)
	dst = appendMpInt(appendMpStr(dst, "code"), int64(e.Code))
	dst = appendMpInt(appendMpStr(dst, "statusCode"), int64(e.StatusCode))
	dst = appendMpStr(appendMpStr(dst, "message"), e.Message)
	dst, n = mpStrField(dst, n, "href", e.Href)
	return finishMap(dst, start, n)
}

func appendMpPublishResult(dst []byte, res PublishResult) []byte {
	if len(res.Serials) == 0 {
		return append(dst, 0x80)
	}
	dst = append(dst, 0x81)
	dst = appendMpStr(dst, "serials")
	dst = appendMpHeader(dst, len(res.Serials), 0x90, mpArray16, mpArray32)
	for _, s := range res.Serials {
		if s == "" {
			dst = append(dst, mpNil) // see PublishResult
		} else {
			dst = appendMpStr(dst, s)
		}
	}
	return dst
}

func appendMpMessages(dst []byte, msgs []*herald.Message) ([]byte, error) {
	dst = appendMpHeader(dst, len(msgs), 0x90, mpArray16, mpArray32)
	for i, m := range msgs {
		var err error
		if dst, err = appendMpMessage(dst, m); err != nil {
			return dst, fmt.Errorf("[%d]%w", i, err)
		}
	}
	return dst, nil
}

func appendMpMessage(dst []byte, m *herald.Message) ([]byte, error) {
	if m == nil {
		return dst, fmt.Errorf(": nil message")
	}
	start, n := len(dst), 0
	dst = append(dst, 0x80)
	dst, n = mpStrField(dst, n, "id", m.ID)
	dst, n = mpStrField(dst, n, "clientId", m.ClientID)
	dst, n = mpStrField(dst, n, "connectionId", m.ConnectionID)
	dst, n = mpStrField(dst, n, "name", m.Name)
	dst, n, err := appendMpData(dst, n, m.Data, m.Encoding)
	if err != nil {
		return dst, err
	}
	if len(m.Extras) > 0 {
		dst = appendMpStr(dst, "extras")
		n++
		if dst, err = appendMpValue(dst, m.Extras, 0); err != nil {
			return dst, fmt.Errorf(".extras: %w", err)
		}
	}
	dst, n = mpIntField(dst, n, "timestamp", m.Timestamp)
	dst, n = mpStrField(dst, n, "serial", m.Serial)
	dst, n = mpIntField(dst, n, "action", int64(m.Action))
	return finishMap(dst, start, n), nil
}

func appendMpPresence(dst []byte, ps []*herald.PresenceMessage) ([]byte, error) {
	dst = appendMpHeader(dst, len(ps), 0x90, mpArray16, mpArray32)
	for i, p := range ps {
		if p == nil {
			return dst, fmt.Errorf("[%d]: nil presence message", i)
		}
		start, n := len(dst), 1
		dst = append(dst, 0x80)
		dst = appendMpInt(appendMpStr(dst, "action"), int64(p.Action)) // always: ABSENT is 0
		dst, n = mpStrField(dst, n, "id", p.ID)
		dst, n = mpStrField(dst, n, "clientId", p.ClientID)
		dst, n = mpStrField(dst, n, "connectionId", p.ConnectionID)
		var err error
		if dst, n, err = appendMpData(dst, n, p.Data, p.Encoding); err != nil {
			return dst, fmt.Errorf("[%d]%w", i, err)
		}
		if len(p.Extras) > 0 {
			dst = appendMpStr(dst, "extras")
			n++
			if dst, err = appendMpValue(dst, p.Extras, 0); err != nil {
				return dst, fmt.Errorf("[%d].extras: %w", i, err)
			}
		}
		dst, n = mpIntField(dst, n, "timestamp", p.Timestamp)
		dst = finishMap(dst, start, n)
	}
	return dst, nil
}

// appendMpData writes data and encoding: binary as bin with the encoding
// as it is (no base64 step, RSL4c), JSON values as native MessagePack
// maps, arrays and numbers.
func appendMpData(dst []byte, n int, d herald.Data, encoding string) ([]byte, int, error) {
	switch d.Kind {
	case herald.DataNone:
	case herald.DataString:
		dst = appendMpStr(appendMpStr(dst, "data"), d.Bytes)
		n++
	case herald.DataBinary:
		dst = appendMpBin(appendMpStr(dst, "data"), d.Bytes)
		n++
	case herald.DataJSON:
		dst = appendMpStr(dst, "data")
		n++
		r := jsonReader{b: d.Bytes}
		var err error
		if dst, err = r.toMsgpack(dst, 0); err != nil {
			return dst, n, fmt.Errorf(".data: invalid JSON data: %w", err)
		}
		if err = r.end(); err != nil {
			return dst, n, fmt.Errorf(".data: invalid JSON data: %w", err)
		}
	default:
		return dst, n, fmt.Errorf(".data: unknown data kind %d", d.Kind)
	}
	dst, n = mpStrField(dst, n, "encoding", encoding)
	return dst, n, nil
}

func mpStrField(dst []byte, n int, key, v string) ([]byte, int) {
	if v == "" {
		return dst, n
	}
	return appendMpStr(appendMpStr(dst, key), v), n + 1
}

func mpIntField(dst []byte, n int, key string, v int64) ([]byte, int) {
	if v == 0 {
		return dst, n
	}
	return appendMpInt(appendMpStr(dst, key), v), n + 1
}

// finishMap sets the header of a map started with a one-byte placeholder
// at dst[start] now that its n entries are written. Counting as fields
// are written keeps one copy of each "is it empty" rule; the rare map of
// more than 15 entries is shifted to make room for a wider header.
func finishMap(dst []byte, start, n int) []byte {
	return finishHeader(dst, start, n, 0x80, mpMap16, mpMap32)
}

func finishHeader(dst []byte, start, n int, fix, c16, c32 byte) []byte {
	if n <= 15 {
		dst[start] = fix | byte(n)
		return dst
	}
	var hdr [5]byte
	h := appendMpHeader(hdr[:0], n, fix, c16, c32)
	dst = append(dst, h[1:]...) // grow by the extra header bytes
	copy(dst[start+len(h):], dst[start+1:len(dst)-len(h)+1])
	copy(dst[start:], h)
	return dst
}

// appendMpHeader writes a map (fix 0x80) or array (fix 0x90) header.
func appendMpHeader(dst []byte, n int, fix, c16, c32 byte) []byte {
	switch {
	case n <= 15:
		return append(dst, fix|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, c16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(dst, c32), uint32(n))
}

// appendMpStr writes s as a str (never bin: ably-go reads text as str).
func appendMpStr[S string | []byte](dst []byte, s S) []byte {
	switch n := len(s); {
	case n <= 31:
		dst = append(dst, 0xa0|byte(n))
	case n <= math.MaxUint8:
		dst = append(dst, mpStr8, byte(n))
	case n <= math.MaxUint16:
		dst = binary.BigEndian.AppendUint16(append(dst, mpStr16), uint16(n))
	default:
		dst = binary.BigEndian.AppendUint32(append(dst, mpStr32), uint32(n))
	}
	return append(dst, s...)
}

func appendMpBin(dst, b []byte) []byte {
	switch n := len(b); {
	case n <= math.MaxUint8:
		dst = append(dst, mpBin8, byte(n))
	case n <= math.MaxUint16:
		dst = binary.BigEndian.AppendUint16(append(dst, mpBin16), uint16(n))
	default:
		dst = binary.BigEndian.AppendUint32(append(dst, mpBin32), uint32(n))
	}
	return append(dst, b...)
}

// appendMpInt writes v in its smallest form; non-negative values use the
// unsigned types, as @ably/msgpack-js does.
func appendMpInt(dst []byte, v int64) []byte {
	switch {
	case v >= 0:
		return appendMpUint(dst, uint64(v))
	case v >= -32:
		return append(dst, byte(v))
	case v >= math.MinInt8:
		return append(dst, mpInt8, byte(v))
	case v >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(dst, mpInt16), uint16(v))
	case v >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(dst, mpInt32), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(dst, mpInt64), uint64(v))
}

func appendMpUint(dst []byte, v uint64) []byte {
	switch {
	case v <= 0x7f:
		return append(dst, byte(v))
	case v <= math.MaxUint8:
		return append(dst, mpUint8, byte(v))
	case v <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, mpUint16), uint16(v))
	case v <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(dst, mpUint32), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(dst, mpUint64), v)
}

func appendMpFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, fmt.Errorf("%v has no JSON form", f)
	}
	return binary.BigEndian.AppendUint64(append(dst, mpFloat64), math.Float64bits(f)), nil
}

// appendMpValue appends a generic value (extras); the same types as
// appendJSONValue, so that extras encode in both formats or in neither.
func appendMpValue(dst []byte, v any, depth int) ([]byte, error) {
	var err error
	switch v := v.(type) {
	case nil:
		return append(dst, mpNil), nil
	case bool:
		if v {
			return append(dst, mpTrue), nil
		}
		return append(dst, mpFalse), nil
	case string:
		return appendMpStr(dst, v), nil
	case int64:
		return appendMpInt(dst, v), nil
	case int:
		return appendMpInt(dst, int64(v)), nil
	case int32:
		return appendMpInt(dst, int64(v)), nil
	case uint64:
		return appendMpUint(dst, v), nil
	case uint:
		return appendMpUint(dst, uint64(v)), nil
	case uint32:
		return appendMpUint(dst, uint64(v)), nil
	case float64:
		return appendMpFloat(dst, v)
	case float32:
		return appendMpFloat(dst, float64(v))
	case []any:
		if depth >= MaxDepth {
			return dst, errTooDeep
		}
		dst = appendMpHeader(dst, len(v), 0x90, mpArray16, mpArray32)
		for _, e := range v {
			if dst, err = appendMpValue(dst, e, depth+1); err != nil {
				return dst, err
			}
		}
		return dst, nil
	case []string:
		dst = appendMpHeader(dst, len(v), 0x90, mpArray16, mpArray32)
		for _, e := range v {
			dst = appendMpStr(dst, e)
		}
		return dst, nil
	case map[string]any:
		if depth >= MaxDepth {
			return dst, errTooDeep
		}
		dst = appendMpHeader(dst, len(v), 0x80, mpMap16, mpMap32)
		for _, k := range sortedKeys(v) {
			if dst, err = appendMpValue(appendMpStr(dst, k), v[k], depth+1); err != nil {
				return dst, err
			}
		}
		return dst, nil
	case map[string]string:
		dst = appendMpHeader(dst, len(v), 0x80, mpMap16, mpMap32)
		for _, k := range sortedKeys(v) {
			dst = appendMpStr(appendMpStr(dst, k), v[k])
		}
		return dst, nil
	}
	return dst, fmt.Errorf("unsupported value type %T", v)
}

// toMsgpack converts the next JSON value to MessagePack: how a DataJSON
// payload reaches a MessagePack reader. Numbers become int64, uint64 or
// float64 as numberValue decides; objects and arrays are counted as they
// are written and their headers fixed up afterwards.
func (r *jsonReader) toMsgpack(dst []byte, depth int) ([]byte, error) {
	switch c := r.peek(); c {
	case '{':
		if depth >= MaxDepth {
			return dst, r.errf("nesting deeper than %d", MaxDepth)
		}
		r.i++
		start := len(dst)
		dst = append(dst, 0x80)
		for n := 0; ; n++ {
			key, ok, err := r.objectKey(n)
			if err != nil {
				return dst, err
			}
			if !ok {
				return finishMap(dst, start, n), nil
			}
			dst = appendMpStr(dst, key)
			if dst, err = r.toMsgpack(dst, depth+1); err != nil {
				return dst, err
			}
		}
	case '[':
		if depth >= MaxDepth {
			return dst, r.errf("nesting deeper than %d", MaxDepth)
		}
		r.i++
		start := len(dst)
		dst = append(dst, 0x90)
		for n := 0; ; n++ {
			ok, err := r.arrayNext(n)
			if err != nil {
				return dst, err
			}
			if !ok {
				return finishHeader(dst, start, n, 0x90, mpArray16, mpArray32), nil
			}
			if dst, err = r.toMsgpack(dst, depth+1); err != nil {
				return dst, err
			}
		}
	case '"':
		b, err := r.stringBytes()
		return appendMpStr(dst, b), err
	case 't':
		return append(dst, mpTrue), r.literal("true")
	case 'f':
		return append(dst, mpFalse), r.literal("false")
	case 'n':
		return append(dst, mpNil), r.literal("null")
	default:
		tok, isInt, err := r.number()
		if err != nil {
			return dst, err
		}
		v, ok := numberValue(tok, isInt)
		if !ok {
			return dst, r.errf("number out of range")
		}
		return appendMpValue(dst, v, depth)
	}
}
