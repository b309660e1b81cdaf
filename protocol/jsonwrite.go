package protocol

import (
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/heraldrt/herald"
)

// AppendJSON appends pm as a JSON text frame to dst. It is hand-written
// with strconv/append because the fan-out path encodes every delivered
// message once per format; with a reused dst it does not allocate for the
// common frames (docs/benchmarks.md).
func AppendJSON(dst []byte, pm *ProtocolMessage) ([]byte, error) {
	if pm == nil {
		return dst, fmt.Errorf("protocol: encode json: nil ProtocolMessage")
	}
	// action is always written: 0 is HEARTBEAT, not "no action" (TR2).
	dst = append(dst, `{"action":`...)
	dst = strconv.AppendInt(dst, int64(pm.Action), 10)
	dst = jsonStrField(dst, "id", pm.ID)
	dst = jsonIntField(dst, "timestamp", pm.Timestamp)
	ackOrNack := pm.Action == ActionAck || pm.Action == ActionNack
	if pm.Count != 0 || ackOrNack {
		dst = append(dst, `,"count":`...)
		dst = strconv.AppendInt(dst, int64(pm.Count), 10)
	}
	if pm.Error != nil {
		dst = append(dst, `,"error":`...)
		dst = appendJSONError(dst, pm.Error)
	}
	dst = jsonStrField(dst, "connectionId", pm.ConnectionID)
	dst = jsonStrField(dst, "connectionKey", pm.ConnectionKey)
	if pm.ConnectionDetails != nil {
		dst = append(dst, `,"connectionDetails":`...)
		dst = appendJSONConnectionDetails(dst, pm.ConnectionDetails)
	}
	dst = jsonStrField(dst, "channel", pm.Channel)
	dst = jsonStrField(dst, "channelSerial", pm.ChannelSerial)
	// msgSerial 0 is meaningful on ACK/NACK (the first publish); elsewhere
	// an absent msgSerial decodes as 0 anyway.
	if pm.MsgSerial != 0 || ackOrNack {
		dst = append(dst, `,"msgSerial":`...)
		dst = strconv.AppendInt(dst, pm.MsgSerial, 10)
	}
	var err error
	if len(pm.Messages) > 0 {
		dst = append(dst, `,"messages":`...)
		if dst, err = appendJSONMessages(dst, pm.Messages); err != nil {
			return dst, fmt.Errorf("protocol: encode json: messages%w", err)
		}
	}
	if len(pm.Presence) > 0 {
		dst = append(dst, `,"presence":`...)
		if dst, err = appendJSONPresence(dst, pm.Presence); err != nil {
			return dst, fmt.Errorf("protocol: encode json: presence%w", err)
		}
	}
	if pm.Auth != nil {
		dst = append(dst, `,"auth":{`...)
		dst = jsonStrField(dst, "accessToken", pm.Auth.AccessToken)
		dst = append(dst, '}')
	}
	dst = jsonIntField(dst, "flags", pm.Flags)
	if len(pm.Params) > 0 {
		dst = append(dst, `,"params":`...)
		dst = appendJSONStringMap(dst, pm.Params)
	}
	if len(pm.Res) > 0 {
		dst = append(dst, `,"res":[`...)
		for i, res := range pm.Res {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONPublishResult(dst, res)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}'), nil
}

func appendJSONConnectionDetails(dst []byte, cd *ConnectionDetails) []byte {
	dst = append(dst, '{')
	dst = jsonStrField(dst, "clientId", cd.ClientID)
	dst = jsonStrField(dst, "connectionKey", cd.ConnectionKey)
	dst = jsonIntField(dst, "connectionStateTtl", cd.ConnectionStateTTL)
	dst = jsonIntField(dst, "maxIdleInterval", cd.MaxIdleInterval)
	dst = jsonIntField(dst, "maxMessageSize", int64(cd.MaxMessageSize))
	dst = jsonIntField(dst, "maxFrameSize", int64(cd.MaxFrameSize))
	dst = jsonIntField(dst, "maxInboundRate", int64(cd.MaxInboundRate))
	dst = jsonStrField(dst, "serverId", cd.ServerID)
	dst = jsonStrField(dst, "siteCode", cd.SiteCode)
	return append(dst, '}')
}

func appendJSONError(dst []byte, e *herald.Error) []byte {
	dst = append(dst, `{"code":`...)
	dst = strconv.AppendInt(dst, int64(e.Code), 10)
	dst = append(dst, `,"statusCode":`...)
	dst = strconv.AppendInt(dst, int64(e.StatusCode), 10)
	dst = append(dst, `,"message":`...)
	dst = appendJSONString(dst, e.Message)
	dst = jsonStrField(dst, "href", e.Href)
	return append(dst, '}')
}

func appendJSONPublishResult(dst []byte, res PublishResult) []byte {
	dst = append(dst, '{')
	if len(res.Serials) > 0 {
		dst = append(dst, `"serials":[`...)
		for i, s := range res.Serials {
			if i > 0 {
				dst = append(dst, ',')
			}
			if s == "" {
				dst = append(dst, "null"...) // see PublishResult
			} else {
				dst = appendJSONString(dst, s)
			}
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

func appendJSONStringMap(dst []byte, m map[string]string) []byte {
	dst = append(dst, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		dst = appendJSONString(dst, m[k])
	}
	return append(dst, '}')
}

// appendJSONMessages appends an array of messages. Errors carry a path
// suffix such as "[2].extras: ..." for the caller to prefix.
func appendJSONMessages(dst []byte, msgs []*herald.Message) ([]byte, error) {
	dst = append(dst, '[')
	for i, m := range msgs {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendJSONMessage(dst, m); err != nil {
			return dst, fmt.Errorf("[%d]%w", i, err)
		}
	}
	return append(dst, ']'), nil
}

func appendJSONMessage(dst []byte, m *herald.Message) ([]byte, error) {
	if m == nil {
		return dst, fmt.Errorf(": nil message")
	}
	dst = append(dst, '{')
	dst = jsonStrField(dst, "id", m.ID)
	dst = jsonStrField(dst, "clientId", m.ClientID)
	dst = jsonStrField(dst, "connectionId", m.ConnectionID)
	dst = jsonStrField(dst, "name", m.Name)
	dst, err := appendJSONData(dst, m.Data, m.Encoding)
	if err != nil {
		return dst, err
	}
	if len(m.Extras) > 0 {
		dst = jsonKey(dst, "extras")
		if dst, err = appendJSONValue(dst, m.Extras, 0); err != nil {
			return dst, fmt.Errorf(".extras: %w", err)
		}
	}
	dst = jsonIntField(dst, "timestamp", m.Timestamp)
	dst = jsonStrField(dst, "serial", m.Serial)
	// A missing message action means message.create (0) to ably-js (TM5).
	dst = jsonIntField(dst, "action", int64(m.Action))
	return append(dst, '}'), nil
}

func appendJSONPresence(dst []byte, ps []*herald.PresenceMessage) ([]byte, error) {
	dst = append(dst, '[')
	for i, p := range ps {
		if i > 0 {
			dst = append(dst, ',')
		}
		if p == nil {
			return dst, fmt.Errorf("[%d]: nil presence message", i)
		}
		dst = append(dst, '{')
		dst = jsonStrField(dst, "id", p.ID)
		// Presence action is always written: ABSENT is 0 (TP2).
		dst = strconv.AppendInt(jsonKey(dst, "action"), int64(p.Action), 10)
		dst = jsonStrField(dst, "clientId", p.ClientID)
		dst = jsonStrField(dst, "connectionId", p.ConnectionID)
		var err error
		if dst, err = appendJSONData(dst, p.Data, p.Encoding); err != nil {
			return dst, fmt.Errorf("[%d]%w", i, err)
		}
		if len(p.Extras) > 0 {
			dst = jsonKey(dst, "extras")
			if dst, err = appendJSONValue(dst, p.Extras, 0); err != nil {
				return dst, fmt.Errorf("[%d].extras: %w", i, err)
			}
		}
		dst = jsonIntField(dst, "timestamp", p.Timestamp)
		dst = append(dst, '}')
	}
	return append(dst, ']'), nil
}

// appendJSONData writes data and encoding. Binary data becomes base64 text
// with "base64" appended to the encoding chain (RSL4b, RSL6), the only way
// JSON can carry it; other encodings pass through untouched.
func appendJSONData(dst []byte, d herald.Data, encoding string) ([]byte, error) {
	switch d.Kind {
	case herald.DataNone:
	case herald.DataString:
		dst = jsonKey(dst, "data")
		dst = appendJSONString(dst, d.Bytes)
	case herald.DataBinary:
		dst = jsonKey(dst, "data")
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, d.Bytes)
		dst = append(dst, '"')
		dst = jsonKey(dst, "encoding")
		dst = append(dst, '"')
		if encoding != "" {
			dst = appendJSONStringBody(dst, encoding)
			dst = append(dst, '/')
		}
		dst = append(dst, `base64"`...)
		return dst, nil
	case herald.DataJSON:
		dst = jsonKey(dst, "data")
		// Re-compacting validates the text: a bad DataJSON must fail here,
		// not corrupt the frame.
		r := jsonReader{b: d.Bytes}
		var err error
		if dst, err = r.compact(dst, 0); err != nil {
			return dst, fmt.Errorf(".data: invalid JSON data: %w", err)
		}
		if err = r.end(); err != nil {
			return dst, fmt.Errorf(".data: invalid JSON data: %w", err)
		}
	default:
		return dst, fmt.Errorf(".data: unknown data kind %d", d.Kind)
	}
	return jsonStrField(dst, "encoding", encoding), nil
}

// jsonKey starts an object member: a separating comma unless the object
// was just opened, then the quoted key and a colon.
func jsonKey(dst []byte, key string) []byte {
	if len(dst) > 0 && dst[len(dst)-1] != '{' {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

func jsonStrField(dst []byte, key, v string) []byte {
	if v == "" {
		return dst
	}
	return appendJSONString(jsonKey(dst, key), v)
}

func jsonIntField(dst []byte, key string, v int64) []byte {
	if v == 0 {
		return dst
	}
	return strconv.AppendInt(jsonKey(dst, key), v, 10)
}

// appendJSONString appends s as a quoted JSON string.
func appendJSONString[S string | []byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	dst = appendJSONStringBody(dst, s)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// jsonSafe marks the bytes a JSON string can carry as they are: printable
// ASCII other than '"' and '\\'.
var jsonSafe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONStringBody escapes s: quotes, backslashes and control
// characters, and each invalid UTF-8 byte becomes U+FFFD so that a text
// frame is always valid UTF-8 (RFC 6455 §5.6) even when a MessagePack
// client sent arbitrary bytes as a str. U+FFFD is written as UTF-8, not as
// \ufffd, so that JSON text made from a repaired string is the same
// whether or not it went through a decoder in between.
func appendJSONStringBody[S string | []byte](dst []byte, s S) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if jsonSafe[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			var rb [utf8.UTFMax]byte
			n := copy(rb[:], s[i:min(i+utf8.UTFMax, len(s))])
			ru, size := utf8.DecodeRune(rb[:n])
			if ru != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...) // as UTF-8, the way the decoder stores it
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	return append(dst, s[start:]...)
}

// appendJSONFloat writes a finite float so that it reads back as a float:
// an integral value gets ".0", otherwise 1.0 would come back as int64(1).
func appendJSONFloat(dst []byte, f float64, bits int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, fmt.Errorf("%v has no JSON form", f)
	}
	start := len(dst)
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// 1.5e-07 → 1.5e-7, as JavaScript prints it.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	for _, c := range dst[start:] {
		if c == '.' || c == 'e' {
			return dst, nil
		}
	}
	return append(dst, '.', '0'), nil
}

// appendJSONValue appends a generic value (extras). Maps are written with
// sorted keys so that output is deterministic.
func appendJSONValue(dst []byte, v any, depth int) ([]byte, error) {
	var err error
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case bool:
		return strconv.AppendBool(dst, v), nil
	case string:
		return appendJSONString(dst, v), nil
	case int64:
		return strconv.AppendInt(dst, v, 10), nil
	case int:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case uint64:
		return strconv.AppendUint(dst, v, 10), nil
	case uint:
		return strconv.AppendUint(dst, uint64(v), 10), nil
	case uint32:
		return strconv.AppendUint(dst, uint64(v), 10), nil
	case float64:
		return appendJSONFloat(dst, v, 64)
	case float32:
		return appendJSONFloat(dst, float64(v), 32)
	case []any:
		if depth >= MaxDepth {
			return dst, errTooDeep
		}
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendJSONValue(dst, e, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case []string:
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, e)
		}
		return append(dst, ']'), nil
	case map[string]any:
		if depth >= MaxDepth {
			return dst, errTooDeep
		}
		dst = append(dst, '{')
		for i, k := range sortedKeys(v) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			if dst, err = appendJSONValue(dst, v[k], depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case map[string]string:
		return appendJSONStringMap(dst, v), nil
	}
	return dst, fmt.Errorf("unsupported value type %T", v)
}

var errTooDeep = fmt.Errorf("nesting deeper than %d", MaxDepth)

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
