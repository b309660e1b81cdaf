package protocol_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// wire decodes an encoded frame or body into generic Go values with
// independent decoders (encoding/json, vmihailenco/msgpack), so that tests
// check what other implementations see rather than our own reader.
// Integers come back as int64, other numbers as float64, bin as []byte.
func wire(tb testing.TB, format string, b []byte) any {
	tb.Helper()
	if format == "msgpack" {
		dec := msgpack.NewDecoder(bytes.NewReader(b))
		v, err := dec.DecodeInterface()
		if err != nil {
			tb.Fatalf("msgpack output does not decode: %v\n% x", err, b)
		}
		return normalize(v)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		tb.Fatalf("json output does not decode: %v\n%s", err, b)
	}
	if dec.More() {
		tb.Fatalf("json output has trailing data: %s", b)
	}
	return normalize(v)
}

func normalize(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case int8:
		return int64(v)
	case int16:
		return int64(v)
	case int32:
		return int64(v)
	case uint8:
		return int64(v)
	case uint16:
		return int64(v)
	case uint32:
		return int64(v)
	case float32:
		return float64(v)
	case uint64:
		if v <= 1<<63-1 {
			return int64(v)
		}
	case map[string]any:
		for k, e := range v {
			v[k] = normalize(e)
		}
	case []any:
		for i, e := range v {
			v[i] = normalize(e)
		}
	}
	return v
}

// toMsgpack re-encodes a JSON document as MessagePack with the
// independent library, so that one JSON fixture serves both formats.
// Integers stay integers.
func toMsgpack(tb testing.TB, jsonText string) []byte {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(jsonText)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		tb.Fatalf("bad fixture %s: %v", jsonText, err)
	}
	return mustMsgpack(tb, normalize(v))
}

func mustMsgpack(tb testing.TB, v any) []byte {
	tb.Helper()
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(true)
	enc.SetSortMapKeys(true)
	if err := enc.Encode(v); err != nil {
		tb.Fatalf("msgpack fixture: %v", err)
	}
	return buf.Bytes()
}

// formats lists both wire formats with a way to turn a JSON fixture into
// that format's bytes.
var formats = []struct {
	name string
	in   func(testing.TB, string) []byte
}{
	{"json", func(_ testing.TB, s string) []byte { return []byte(s) }},
	{"msgpack", toMsgpack},
}
