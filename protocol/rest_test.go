package protocol_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/protocol"
)

func TestDecodeMessages(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []*herald.Message
	}{
		{"single object", `{"name":"greet","data":"hi","id":"idem:0"}`,
			[]*herald.Message{withSize(&herald.Message{Name: "greet", Data: str("hi"), ID: "idem:0"})}},
		{"array", `[{"name":"a","data":{"x":1}},{"name":"b","clientId":"c","extras":{"headers":{"h":"v"}}}]`,
			[]*herald.Message{
				withSize(&herald.Message{Name: "a", Data: jsonData(`{"x":1}`)}),
				withSize(&herald.Message{Name: "b", ClientID: "c", Extras: map[string]any{"headers": map[string]any{"h": "v"}}}),
			}},
		{"empty array", `[]`, nil},
	}
	for _, f := range formats {
		for _, tt := range tests {
			t.Run(f.name+"/"+tt.name, func(t *testing.T) {
				format, _ := protocol.ParseFormat(f.name)
				got, err := protocol.DecodeMessages(format, f.in(t, tt.in))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got, cmpOpts...); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestDecodeMessagesJSON_Binary(t *testing.T) {
	got, err := protocol.DecodeMessagesJSON([]byte(`[{"data":"3q2+7w==","encoding":"base64"}]`))
	if err != nil {
		t.Fatal(err)
	}
	want := []*herald.Message{withSize(&herald.Message{Data: bin(0xde, 0xad, 0xbe, 0xef)})}
	if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDecodeMessages_Errors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"string", `"x"`, "expected a message object or an array"},
		{"array of non-objects", `[{},1]`, "[1]: expected a"},
		{"bad base64", `[{},{"data":"!","encoding":"base64"}]`, "[1].data: invalid base64"},
		{"trailing", `{} {}`, "after the top-level value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := protocol.DecodeMessagesJSON([]byte(tt.in))
			if err == nil || !errors.Is(err, protocol.ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	for _, in := range [][]byte{{0xa1, 'x'}, {0xc0}, nil} {
		if _, err := protocol.DecodeMessagesMsgpack(in); err == nil || !strings.Contains(err.Error(), "expected a message map or an array") {
			t.Errorf("msgpack body % x: %v", in, err)
		}
	}
}

func TestEncodeMessages(t *testing.T) {
	msgs := []*herald.Message{
		{ID: "a:0", Name: "n", Data: bin(0xde, 0xad, 0xbe, 0xef), Timestamp: 5},
		{ID: "a:1", Data: str("s"), Encoding: "utf-8", Extras: map[string]any{"ref": map[string]any{"type": "t"}}},
	}
	tests := []struct {
		format protocol.Format
		want   []any
	}{
		{protocol.JSON, []any{
			map[string]any{"id": "a:0", "name": "n", "data": "3q2+7w==", "encoding": "base64", "timestamp": int64(5)},
			map[string]any{"id": "a:1", "data": "s", "encoding": "utf-8", "extras": map[string]any{"ref": map[string]any{"type": "t"}}},
		}},
		{protocol.Msgpack, []any{
			map[string]any{"id": "a:0", "name": "n", "data": []byte{0xde, 0xad, 0xbe, 0xef}, "timestamp": int64(5)},
			map[string]any{"id": "a:1", "data": "s", "encoding": "utf-8", "extras": map[string]any{"ref": map[string]any{"type": "t"}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.format.String(), func(t *testing.T) {
			b, err := protocol.EncodeMessages(tt.format, msgs)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, wire(t, tt.format.String(), b)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			back, err := protocol.DecodeMessages(tt.format, b)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				withSize(m)
			}
			if diff := cmp.Diff(msgs, back, cmpOpts...); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			empty, err := protocol.EncodeMessages(tt.format, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]any{}, wire(t, tt.format.String(), empty)); diff != "" {
				t.Errorf("empty page is not []: %s", empty)
			}
		})
	}
	if _, err := protocol.EncodeMessages(protocol.JSON, []*herald.Message{nil}); err == nil {
		t.Error("nil message encoded")
	}
}

func TestEncodePresence(t *testing.T) {
	ps := []*herald.PresenceMessage{
		{ID: "c1:0:0", Action: herald.PresencePresent, ClientID: "a", ConnectionID: "c1", Data: str("x"), Timestamp: 1},
		{Action: herald.PresenceAbsent, ClientID: "b", Data: bin(1)},
		{Action: herald.PresenceLeave, ClientID: "c", Data: jsonData(`{"k":[1]}`)},
	}
	want := map[protocol.Format][]any{
		protocol.JSON: {
			map[string]any{"id": "c1:0:0", "action": int64(1), "clientId": "a", "connectionId": "c1", "data": "x", "timestamp": int64(1)},
			map[string]any{"action": int64(0), "clientId": "b", "data": "AQ==", "encoding": "base64"},
			map[string]any{"action": int64(3), "clientId": "c", "data": map[string]any{"k": []any{int64(1)}}},
		},
		protocol.Msgpack: {
			map[string]any{"id": "c1:0:0", "action": int64(1), "clientId": "a", "connectionId": "c1", "data": "x", "timestamp": int64(1)},
			map[string]any{"action": int64(0), "clientId": "b", "data": []byte{1}},
			map[string]any{"action": int64(3), "clientId": "c", "data": map[string]any{"k": []any{int64(1)}}},
		},
	}
	for f, w := range want {
		t.Run(f.String(), func(t *testing.T) {
			b, err := protocol.EncodePresence(f, ps)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(w, wire(t, f.String(), b)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, err := protocol.EncodePresence(protocol.Msgpack, []*herald.PresenceMessage{nil}); err == nil {
		t.Error("nil presence message encoded")
	}
}
