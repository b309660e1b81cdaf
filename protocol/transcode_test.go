package protocol_test

import (
	"encoding/base64"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/protocol"
)

func bin(b ...byte) herald.Data { return herald.Data{Kind: herald.DataBinary, Bytes: b} }

func jsonData(s string) herald.Data { return herald.Data{Kind: herald.DataJSON, Bytes: []byte(s)} }

func oneMessage(tb testing.TB, f protocol.Format, b []byte) *herald.Message {
	tb.Helper()
	pm, err := protocol.Decode(f, b)
	if err != nil {
		tb.Fatalf("Decode %s: %v", f, err)
	}
	if len(pm.Messages) != 1 {
		tb.Fatalf("got %d messages", len(pm.Messages))
	}
	return pm.Messages[0]
}

func wireMessage(tb testing.TB, f protocol.Format, m *herald.Message) map[string]any {
	tb.Helper()
	b, err := protocol.Encode(f, &protocol.ProtocolMessage{Action: protocol.ActionMessage, Messages: []*herald.Message{m}})
	if err != nil {
		tb.Fatalf("Encode %s: %v", f, err)
	}
	return wire(tb, f.String(), b).(map[string]any)["messages"].([]any)[0].(map[string]any)
}

// TestTranscode_BinaryFixture follows ably-js encoding.test.js: the same
// binary fixture from a JSON client and from a MessagePack client must
// look the same to every reader (protocol.md §F).
func TestTranscode_BinaryFixture(t *testing.T) {
	deadbeef := bin(0xde, 0xad, 0xbe, 0xef)

	fromJSON := oneMessage(t, protocol.JSON, []byte(`{"action":15,"messages":[{"data":"3q2+7w==","encoding":"base64"}]}`))
	if diff := cmp.Diff(deadbeef, fromJSON.Data); diff != "" || fromJSON.Encoding != "" {
		t.Fatalf("JSON decode: encoding %q, data diff:\n%s", fromJSON.Encoding, diff)
	}
	if fromJSON.Size != 4 {
		t.Errorf("Size = %d, want 4 (raw bytes, not base64 text)", fromJSON.Size)
	}

	// To a MessagePack reader: bin, and no encoding left.
	mpWire := wireMessage(t, protocol.Msgpack, fromJSON)
	if diff := cmp.Diff(map[string]any{"data": []byte{0xde, 0xad, 0xbe, 0xef}}, mpWire); diff != "" {
		t.Errorf("msgpack wire (-want +got):\n%s", diff)
	}

	// From a MessagePack client: bin in, same message out.
	fromMP := oneMessage(t, protocol.Msgpack, mustMsgpack(t, map[string]any{
		"action": 15, "messages": []any{map[string]any{"data": []byte{0xde, 0xad, 0xbe, 0xef}}},
	}))
	if diff := cmp.Diff(fromJSON, fromMP, cmpOpts...); diff != "" {
		t.Errorf("JSON and msgpack publishers differ (-json +msgpack):\n%s", diff)
	}

	// To a JSON reader: the fixture exactly as the JSON client sent it.
	want := map[string]any{"data": "3q2+7w==", "encoding": "base64"}
	if diff := cmp.Diff(want, wireMessage(t, protocol.JSON, fromMP)); diff != "" {
		t.Errorf("json wire (-want +got):\n%s", diff)
	}
}

func TestTranscode_EncodingChains(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name     string
		data     string // JSON data value as sent by a JSON client
		encoding string
		want     herald.Data
		wantEnc  string // encoding kept in the message (and sent to msgpack readers)
	}{
		{"base64 only", `"3q2+7w=="`, "base64", bin(0xde, 0xad, 0xbe, 0xef), ""},
		{"unpadded base64", `"3q2+7w"`, "base64", bin(0xde, 0xad, 0xbe, 0xef), ""},
		{"utf-8 then base64", `"` + b64("héllo") + `"`, "utf-8/base64", bin([]byte("héllo")...), "utf-8"},
		{"cipher", `"` + b64("ciphertext") + `"`, "cipher+aes-128-cbc/base64", bin([]byte("ciphertext")...), "cipher+aes-128-cbc"},
		{"json utf-8 cipher", `"` + b64("ct") + `"`, "json/utf-8/cipher+aes-256-cbc/base64", bin('c', 't'), "json/utf-8/cipher+aes-256-cbc"},
		{"empty binary", `""`, "base64", bin(), ""},
		{"json string", `"{\"a\":1}"`, "json", str(`{"a":1}`), "json"},
		{"base64 not last", `"abc"`, "base64/json", str("abc"), "base64/json"},
		{"not a base64 step", `"abc"`, "xbase64", str("abc"), "xbase64"},
		{"plain string", `"abc"`, "", str("abc"), ""},
		{"object", `{"a":[1,2.5,true,null,"x"],"b":{}}`, "", jsonData(`{"a":[1,2.5,true,null,"x"],"b":{}}`), ""},
		{"object with whitespace", "{ \"a\" : [ 1 ,\n2 ] }", "", jsonData(`{"a":[1,2]}`), ""},
		{"number", `42`, "", jsonData(`42`), ""},
		{"float", `-1.5e-7`, "", jsonData(`-1.5e-7`), ""},
		{"bool", `true`, "", jsonData(`true`), ""},
		{"array", `[]`, "", jsonData(`[]`), ""},
		{"base64 encoding on non-string data", `[1]`, "base64", jsonData(`[1]`), "base64"},
		{"null", `null`, "", herald.Data{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := `{"action":15,"messages":[{"data":` + tt.data
			if tt.encoding != "" {
				in += `,"encoding":"` + tt.encoding + `"`
			}
			in += `}]}`
			m := oneMessage(t, protocol.JSON, []byte(in))
			if diff := cmp.Diff(tt.want, m.Data, cmpOpts...); diff != "" || m.Encoding != tt.wantEnc {
				t.Fatalf("decode: encoding %q (want %q), data (-want +got):\n%s", m.Encoding, tt.wantEnc, diff)
			}

			// A JSON reader gets an equivalent document back.
			jw := wireMessage(t, protocol.JSON, m)
			orig := wire(t, "json", []byte(in)).(map[string]any)["messages"].([]any)[0].(map[string]any)
			if orig["data"] == nil {
				delete(orig, "data") // null is written as absent
			}
			if tt.name == "unpadded base64" {
				orig["data"] = "3q2+7w==" // re-encoded with padding
			}
			if diff := cmp.Diff(orig, jw); diff != "" {
				t.Errorf("json re-encode (-sent +delivered):\n%s", diff)
			}

			// A MessagePack reader gets bin for binary, native values for
			// JSON data, the encoding minus the base64 step; and reading
			// that back gives the same message.
			mw := wireMessage(t, protocol.Msgpack, m)
			if enc, _ := mw["encoding"].(string); enc != tt.wantEnc {
				t.Errorf("msgpack encoding %q, want %q", enc, tt.wantEnc)
			}
			switch tt.want.Kind {
			case herald.DataBinary:
				if _, ok := mw["data"].([]byte); !ok {
					t.Errorf("msgpack data is %T, want bin", mw["data"])
				}
			case herald.DataJSON:
				if diff := cmp.Diff(orig["data"], mw["data"]); diff != "" {
					t.Errorf("msgpack data (-json +msgpack):\n%s", diff)
				}
			}
			mp, err := protocol.EncodeMsgpack(&protocol.ProtocolMessage{Messages: []*herald.Message{m}})
			if err != nil {
				t.Fatal(err)
			}
			back := oneMessage(t, protocol.Msgpack, mp)
			if diff := cmp.Diff(m, back, cmpOpts...); diff != "" {
				t.Errorf("msgpack round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTranscode_MsgpackPayloads(t *testing.T) {
	tests := []struct {
		name    string
		data    any
		enc     string
		want    herald.Data
		wantEnc string
	}{
		{"str", "hello", "", str("hello"), ""},
		{"str with base64 encoding", "3q2+7w==", "base64", bin(0xde, 0xad, 0xbe, 0xef), ""},
		{"str with cipher/base64 encoding", "3q2+7w==", "cipher+aes-128-cbc/base64", bin(0xde, 0xad, 0xbe, 0xef), "cipher+aes-128-cbc"},
		{"bin keeps encoding", []byte("ct"), "cipher+aes-128-cbc", bin('c', 't'), "cipher+aes-128-cbc"},
		{"map", map[string]any{"b": []any{int64(1), 2.5, "x", nil, false}, "a": map[string]any{}}, "", jsonData(`{"a":{},"b":[1,2.5,"x",null,false]}`), ""},
		{"int", int64(-7), "", jsonData(`-7`), ""},
		{"big uint", uint64(1<<64 - 1), "", jsonData(`18446744073709551615`), ""},
		{"whole float", 3.0, "", jsonData(`3.0`), ""},
		{"float32", float32(0.1), "", jsonData(`0.1`), ""},
		{"tiny float", 1e-9, "", jsonData(`1e-9`), ""},
		{"huge float", 1e300, "", jsonData(`1e+300`), ""},
		{"bool", true, "", jsonData(`true`), ""},
		{"nil", nil, "", herald.Data{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := map[string]any{"data": tt.data}
			if tt.enc != "" {
				msg["encoding"] = tt.enc
			}
			m := oneMessage(t, protocol.Msgpack, mustMsgpack(t, map[string]any{"messages": []any{msg}}))
			if diff := cmp.Diff(tt.want, m.Data, cmpOpts...); diff != "" || m.Encoding != tt.wantEnc {
				t.Errorf("encoding %q, data (-want +got):\n%s", m.Encoding, diff)
			}
			// Every decoded payload can be delivered to a JSON reader and
			// comes back the same from it.
			j, err := protocol.EncodeJSON(&protocol.ProtocolMessage{Messages: []*herald.Message{m}})
			if err != nil {
				t.Fatal(err)
			}
			back := oneMessage(t, protocol.JSON, j)
			if diff := cmp.Diff(m, back, cmpOpts...); diff != "" {
				t.Errorf("via JSON (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTranscode_Extras(t *testing.T) {
	extras := `{"headers":{"k":"v","n":1},"push":{"notification":{"title":"t","body":"b"},"data":{"list":[1,-2,3.25,{"deep":{"er":[true,null]}}]}},"ref":{"type":"com.ably.reply","timeserial":"x"},"privileged":{}}`
	want := map[string]any{
		"headers": map[string]any{"k": "v", "n": int64(1)},
		"push": map[string]any{
			"notification": map[string]any{"title": "t", "body": "b"},
			"data": map[string]any{"list": []any{int64(1), int64(-2), 3.25,
				map[string]any{"deep": map[string]any{"er": []any{true, nil}}}}},
		},
		"ref":        map[string]any{"type": "com.ably.reply", "timeserial": "x"},
		"privileged": map[string]any{},
	}
	in := `{"action":15,"messages":[{"name":"n","extras":` + extras + `}]}`
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			format, _ := protocol.ParseFormat(f.name)
			m := oneMessage(t, format, f.in(t, in))
			if diff := cmp.Diff(want, m.Extras); diff != "" {
				t.Fatalf("extras (-want +got):\n%s", diff)
			}
			if m.Size != len("n")+len(`{"headers":{"k":"v","n":1},"privileged":{},"push":{"data":{"list":[1,-2,3.25,{"deep":{"er":[true,null]}}]},"notification":{"body":"b","title":"t"}},"ref":{"timeserial":"x","type":"com.ably.reply"}}`) {
				t.Errorf("Size = %d", m.Size)
			}
			for _, out := range []protocol.Format{protocol.JSON, protocol.Msgpack} {
				b, err := protocol.Encode(out, &protocol.ProtocolMessage{Messages: []*herald.Message{m}})
				if err != nil {
					t.Fatal(err)
				}
				back := oneMessage(t, out, b)
				if diff := cmp.Diff(want, back.Extras); diff != "" {
					t.Errorf("%s round trip (-want +got):\n%s", out, diff)
				}
			}
		})
	}
}

func TestMessageSize(t *testing.T) {
	m := &herald.Message{Name: "n", ClientID: "abc", Data: bin(1, 2, 3, 4), Extras: map[string]any{"a": int64(1)}}
	if got, want := protocol.MessageSize(m), 1+3+4+len(`{"a":1}`); got != want {
		t.Errorf("MessageSize = %d, want %d (TO3l8a)", got, want)
	}
	p := &herald.PresenceMessage{ClientID: "abc", Data: str("here")}
	if got := protocol.PresenceSize(p); got != 7 {
		t.Errorf("PresenceSize = %d, want 7", got)
	}
	if got := protocol.MessageSize(&herald.Message{Data: herald.Data{Kind: herald.DataNone, Bytes: []byte("x")}}); got != 0 {
		t.Errorf("DataNone counted: %d", got)
	}
}
