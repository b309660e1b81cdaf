package protocol_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/protocol"
)

// connected is the CONNECTED frame of protocol.md §A.4.
func connected() *protocol.ProtocolMessage {
	return &protocol.ProtocolMessage{
		Action: protocol.ActionConnected, ConnectionID: "c1", ConnectionKey: "c1!k",
		ConnectionDetails: &protocol.ConnectionDetails{
			ConnectionKey: "c1!k", ClientID: "alice", ConnectionStateTTL: 120000,
			MaxIdleInterval: 15000, MaxMessageSize: 65536, ServerID: "local-1", SiteCode: "local",
		},
	}
}

// everything sets every field, so that the top-level map has more than 15
// entries and the MessagePack header must widen.
func everything() *protocol.ProtocolMessage {
	return &protocol.ProtocolMessage{
		Action: protocol.ActionAck, ID: "id", Timestamp: 1, Count: 2,
		Error:        &herald.Error{Code: 40000, StatusCode: 400, Message: "bad", Href: "h"},
		ConnectionID: "c", ConnectionKey: "k",
		ConnectionDetails: &protocol.ConnectionDetails{ClientID: "a", ConnectionKey: "k", ConnectionStateTTL: 1,
			MaxIdleInterval: 2, MaxMessageSize: 3, MaxFrameSize: 4, MaxInboundRate: 5, ServerID: "s", SiteCode: "x"},
		Channel: "ch", ChannelSerial: "cs", MsgSerial: 7,
		Messages: []*herald.Message{withSize(&herald.Message{ID: "m", ClientID: "a", ConnectionID: "c", Name: "n",
			Data: str("d"), Encoding: "utf-8", Extras: map[string]any{"k": "v"}, Timestamp: 9, Serial: "s", Action: 1})},
		Presence: []*herald.PresenceMessage{{ID: "p", Action: herald.PresenceUpdate, ClientID: "a", ConnectionID: "c",
			Data: str("d"), Encoding: "e", Extras: map[string]any{"k": "v"}, Timestamp: 9}},
		Auth:   &protocol.AuthDetails{AccessToken: "t"},
		Flags:  protocol.FlagHasPresence | protocol.DefaultModes,
		Params: map[string]string{"rewind": "1"},
		Res:    []protocol.PublishResult{{Serials: []string{"s1", ""}}},
	}
}

func TestEncodeJSON_Golden(t *testing.T) {
	tests := []struct {
		name string
		pm   *protocol.ProtocolMessage
		want string
	}{
		{"heartbeat", &protocol.ProtocolMessage{}, `{"action":0}`},
		{"heartbeat with id", &protocol.ProtocolMessage{ID: "ping-1"}, `{"action":0,"id":"ping-1"}`},
		{"ack msgSerial 0", &protocol.ProtocolMessage{Action: protocol.ActionAck, Count: 1,
			Res: []protocol.PublishResult{{Serials: []string{"01"}}}},
			`{"action":1,"count":1,"msgSerial":0,"res":[{"serials":["01"]}]}`},
		{"ack count 0", &protocol.ProtocolMessage{Action: protocol.ActionAck}, `{"action":1,"count":0,"msgSerial":0}`},
		{"nack", &protocol.ProtocolMessage{Action: protocol.ActionNack, MsgSerial: 4, Count: 1,
			Error: herald.NewError(40160, "denied")},
			`{"action":2,"count":1,"error":{"code":40160,"statusCode":401,"message":"denied","href":"https://help.ably.io/error/40160"},"msgSerial":4}`},
		{"connected", connected(),
			`{"action":4,"connectionId":"c1","connectionKey":"c1!k","connectionDetails":{"clientId":"alice","connectionKey":"c1!k","connectionStateTtl":120000,"maxIdleInterval":15000,"maxMessageSize":65536,"serverId":"local-1","siteCode":"local"}}`},
		{"connected without details", &protocol.ProtocolMessage{Action: protocol.ActionConnected, ConnectionDetails: &protocol.ConnectionDetails{}},
			`{"action":4,"connectionDetails":{}}`},
		{"attached", &protocol.ProtocolMessage{Action: protocol.ActionAttached, Channel: "chan", ChannelSerial: "s:0",
			Flags: protocol.DefaultModes, Params: map[string]string{"rewind": "1", "delta": "vcdiff"}},
			`{"action":11,"channel":"chan","channelSerial":"s:0","flags":983040,"params":{"delta":"vcdiff","rewind":"1"}}`},
		{"channel error", &protocol.ProtocolMessage{Action: protocol.ActionError, Channel: "c",
			Error: &herald.Error{Code: 40160, StatusCode: 401, Message: `say "no"`}},
			`{"action":9,"error":{"code":40160,"statusCode":401,"message":"say \"no\""},"channel":"c"}`},
		{"auth", &protocol.ProtocolMessage{Action: protocol.ActionAuth, Auth: &protocol.AuthDetails{}}, `{"action":17,"auth":{}}`},
		{"delivery", &protocol.ProtocolMessage{Action: protocol.ActionMessage, ID: "c1:3", ConnectionID: "c1",
			Timestamp: 1700000000000, Channel: "chan", ChannelSerial: "s:1",
			Messages: []*herald.Message{{ID: "c1:3:0", ClientID: "alice", Name: "greet", Data: str("{\"hello\":\"world\"}\n"),
				Encoding: "json", Timestamp: 1700000000000, Serial: "01"}}},
			`{"action":15,"id":"c1:3","timestamp":1700000000000,"connectionId":"c1","channel":"chan","channelSerial":"s:1","messages":[{"id":"c1:3:0","clientId":"alice","name":"greet","data":"{\"hello\":\"world\"}\n","encoding":"json","timestamp":1700000000000,"serial":"01"}]}`},
		{"presence", &protocol.ProtocolMessage{Action: protocol.ActionPresence, Channel: "c",
			Presence: []*herald.PresenceMessage{{Action: herald.PresenceAbsent, ClientID: "a"}, {Action: herald.PresenceEnter, ClientID: "b", Data: str("here")}}},
			`{"action":14,"channel":"c","presence":[{"action":0,"clientId":"a"},{"action":2,"clientId":"b","data":"here"}]}`},
		{"control characters and invalid UTF-8", &protocol.ProtocolMessage{Channel: "a\x00\t\x1f\xffé\\"},
			`{"action":0,"channel":"a\u0000\t\u001f` + "\uFFFD" + `é\\"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := protocol.EncodeJSON(tt.pm)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("EncodeJSON:\n got %s\nwant %s", got, tt.want)
			}
			if strings.Contains(tt.name, "UTF-8") {
				return // MessagePack carries the bytes as they are
			}
			// The msgpack encoding must carry the same document.
			mp, err := protocol.EncodeMsgpack(tt.pm)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wire(t, "json", got), wire(t, "msgpack", mp)); diff != "" {
				t.Errorf("msgpack and json documents differ (-json +msgpack):\n%s", diff)
			}
		})
	}
}

func TestEncode_AckAlwaysHasMsgSerialAndCount(t *testing.T) {
	for _, f := range []string{"json", "msgpack"} {
		for _, a := range []protocol.Action{protocol.ActionAck, protocol.ActionNack} {
			format, _ := protocol.ParseFormat(f)
			b, err := protocol.Encode(format, &protocol.ProtocolMessage{Action: a})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"action": int64(a), "msgSerial": int64(0), "count": int64(0)}
			if diff := cmp.Diff(want, wire(t, f, b)); diff != "" {
				t.Errorf("%s %v (-want +got):\n%s", f, a, diff)
			}
		}
	}
}

func TestEncode_MsgpackBytes(t *testing.T) {
	// {"action":0}: what a MessagePack heartbeat must look like.
	b, err := protocol.EncodeMsgpack(&protocol.ProtocolMessage{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte("\x81\xa6action\x00"); !bytes.Equal(b, want) {
		t.Errorf("heartbeat = % x, want % x", b, want)
	}
}

func TestEncode_Sparse(t *testing.T) {
	// Empty fields are left out in both formats: no nulls, no empty strings.
	pm := &protocol.ProtocolMessage{Action: protocol.ActionMessage, Messages: []*herald.Message{{}},
		Presence: []*herald.PresenceMessage{{}}, Error: &herald.Error{}, ConnectionDetails: &protocol.ConnectionDetails{},
		Params: map[string]string{}, Res: []protocol.PublishResult{{}}}
	want := map[string]any{
		"action":            int64(15),
		"messages":          []any{map[string]any{}},
		"presence":          []any{map[string]any{"action": int64(0)}},
		"error":             map[string]any{"code": int64(0), "statusCode": int64(0), "message": ""},
		"connectionDetails": map[string]any{},
		"res":               []any{map[string]any{}},
	}
	for _, f := range []protocol.Format{protocol.JSON, protocol.Msgpack} {
		b, err := protocol.Encode(f, pm)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, wire(t, f.String(), b)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", f, diff)
		}
	}
}

func TestEncode_RoundTrip(t *testing.T) {
	manyParams := map[string]string{}
	for i := range 40 {
		manyParams[fmt.Sprint("p", i)] = strings.Repeat("v", i*10)
	}
	bigExtras := map[string]any{}
	for i := range 20 {
		bigExtras[fmt.Sprint("k", i)] = []any{int64(i), float64(i) + 0.5, fmt.Sprint(i), nil, true}
	}
	tests := []struct {
		name string
		pm   *protocol.ProtocolMessage
	}{
		{"connected", connected()},
		{"connected with error", func() *protocol.ProtocolMessage {
			pm := connected()
			pm.Error = herald.NewError(80008, "Unable to recover connection")
			return pm
		}()},
		{"everything", everything()},
		{"many params", &protocol.ProtocolMessage{Action: protocol.ActionAttach, Channel: "c", Params: manyParams}},
		{"big extras", &protocol.ProtocolMessage{Action: protocol.ActionMessage,
			Messages: []*herald.Message{withSize(&herald.Message{Extras: bigExtras, Data: str(strings.Repeat("x", 300))})}}},
		{"long strings", &protocol.ProtocolMessage{Channel: strings.Repeat("c", 300), ID: strings.Repeat("i", 70000)}},
		{"negative numbers", &protocol.ProtocolMessage{Action: protocol.ActionMessage, Timestamp: -5, MsgSerial: -1 << 40, Flags: -1,
			Messages: []*herald.Message{withSize(&herald.Message{Timestamp: -200, Extras: map[string]any{
				"a": int64(-1 << 62), "b": int64(-100), "c": int64(-30000), "d": int64(-1 << 30), "e": uint64(1 << 63), "f": int64(1 << 40)}})}}},
		{"many messages", func() *protocol.ProtocolMessage {
			pm := &protocol.ProtocolMessage{Action: protocol.ActionMessage}
			for i := range 20 {
				pm.Messages = append(pm.Messages, withSize(&herald.Message{Name: fmt.Sprint(i)}))
			}
			return pm
		}()},
	}
	for _, f := range []protocol.Format{protocol.JSON, protocol.Msgpack} {
		for _, tt := range tests {
			t.Run(f.String()+"/"+tt.name, func(t *testing.T) {
				b, err := protocol.Encode(f, tt.pm)
				if err != nil {
					t.Fatal(err)
				}
				got, err := protocol.Decode(f, b)
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if diff := cmp.Diff(tt.pm, got, cmpOpts...); diff != "" {
					t.Errorf("round trip (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestEncode_Append(t *testing.T) {
	buf := []byte("prefix")
	for _, f := range []protocol.Format{protocol.JSON, protocol.Msgpack} {
		out, err := protocol.Append(f, buf, connected())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(out, []byte("prefix")) {
			t.Fatalf("%s: prefix lost", f)
		}
		pm, err := protocol.Decode(f, out[len("prefix"):])
		if err != nil || pm.ConnectionID != "c1" {
			t.Errorf("%s: %+v %v", f, pm, err)
		}
	}
}

func TestEncode_Errors(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	tests := []struct {
		name string
		pm   *protocol.ProtocolMessage
		want string
	}{
		{"nil frame", nil, "nil ProtocolMessage"},
		{"nil message", &protocol.ProtocolMessage{Messages: []*herald.Message{{}, nil}}, "messages[1]: nil message"},
		{"nil presence", &protocol.ProtocolMessage{Presence: []*herald.PresenceMessage{nil}}, "presence[0]: nil presence message"},
		{"unsupported extras", &protocol.ProtocolMessage{Messages: []*herald.Message{{Extras: map[string]any{"t": struct{}{}}}}},
			"messages[0].extras: unsupported value type struct {}"},
		{"cyclic extras", &protocol.ProtocolMessage{Messages: []*herald.Message{{Extras: cyclic}}}, "nesting deeper than 64"},
		{"NaN extras", &protocol.ProtocolMessage{Presence: []*herald.PresenceMessage{{Extras: map[string]any{"n": 0 * -1 / zero()}}}},
			"presence[0].extras: NaN has no JSON form"},
		{"bad JSON data", &protocol.ProtocolMessage{Messages: []*herald.Message{{Data: herald.Data{Kind: herald.DataJSON, Bytes: []byte(`{"a":`)}}}},
			"messages[0].data: invalid JSON data"},
		{"trailing JSON data", &protocol.ProtocolMessage{Messages: []*herald.Message{{Data: herald.Data{Kind: herald.DataJSON, Bytes: []byte(`1 2`)}}}},
			"messages[0].data: invalid JSON data"},
		{"unknown kind", &protocol.ProtocolMessage{Messages: []*herald.Message{{Data: herald.Data{Kind: 9}}}}, "messages[0].data: unknown data kind 9"},
	}
	for _, f := range []protocol.Format{protocol.JSON, protocol.Msgpack} {
		for _, tt := range tests {
			t.Run(f.String()+"/"+tt.name, func(t *testing.T) {
				_, err := protocol.Encode(f, tt.pm)
				if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "encode "+f.String()) {
					t.Errorf("error %v, want one naming %s and containing %q", err, f, tt.want)
				}
			})
		}
	}
}

func zero() float64 { return 0 }

func TestEncode_SizeClasses(t *testing.T) {
	// Every str and bin length class of MessagePack, and base64 in JSON.
	for _, n := range []int{0, 31, 32, 255, 256, 65535, 65536, 70000} {
		payload := bytes.Repeat([]byte{0xab}, n)
		text := strings.Repeat("t", n)
		pm := &protocol.ProtocolMessage{Action: protocol.ActionMessage, Channel: text,
			Messages: []*herald.Message{{Name: text, Data: bin(payload...)}}}
		for _, f := range []protocol.Format{protocol.JSON, protocol.Msgpack} {
			b, err := protocol.Encode(f, pm)
			if err != nil {
				t.Fatal(err)
			}
			got, err := protocol.Decode(f, b)
			if err != nil {
				t.Fatalf("%s n=%d: %v", f, n, err)
			}
			m := got.Messages[0]
			if got.Channel != text || m.Name != text || m.Data.Kind != herald.DataBinary || !bytes.Equal(m.Data.Bytes, payload) {
				t.Errorf("%s n=%d: round trip changed the frame", f, n)
			}
		}
	}
}
