package protocol_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/protocol"
)

// cmpOpts compares decoded values: nil and empty collections are the same
// on the wire, and herald.Error's cause never is.
var cmpOpts = []cmp.Option{cmpopts.EquateEmpty(), cmpopts.IgnoreUnexported(herald.Error{})}

func str(s string) herald.Data { return herald.Data{Kind: herald.DataString, Bytes: []byte(s)} }

func withSize(m *herald.Message) *herald.Message {
	m.Size = protocol.MessageSize(m)
	return m
}

// The fixtures are frames from protocol.md (marked [ran] there: what ably-js
// 2.26.0 actually sent) plus the shapes ably-go produces. Each is decoded
// from JSON and from the same document re-encoded as MessagePack.
var decodeTests = []struct {
	name string
	in   string
	want *protocol.ProtocolMessage
}{
	{
		name: "client publish (ably-js)",
		in:   `{"action":15,"channel":"chan","msgSerial":0,"messages":[{"name":"greet","data":"{\"hello\":\"world\"}","encoding":"json","action":0}]}`,
		want: &protocol.ProtocolMessage{Action: protocol.ActionMessage, Channel: "chan", Messages: []*herald.Message{
			withSize(&herald.Message{Name: "greet", Data: str(`{"hello":"world"}`), Encoding: "json"}),
		}},
	},
	{
		name: "presence enter",
		in:   `{"action":14,"channel":"chan","msgSerial":1,"presence":[{"action":2,"data":"here"}]}`,
		want: &protocol.ProtocolMessage{Action: protocol.ActionPresence, Channel: "chan", MsgSerial: 1,
			Presence: []*herald.PresenceMessage{{Action: herald.PresenceEnter, Data: str("here")}}},
	},
	{
		name: "attach with flags and params",
		in:   `{"action":10,"channel":"chan","channelSerial":"abc:1","flags":983040,"params":{"rewind":"1","delta":"vcdiff"}}`,
		want: &protocol.ProtocolMessage{Action: protocol.ActionAttach, Channel: "chan", ChannelSerial: "abc:1",
			Flags: protocol.DefaultModes, Params: map[string]string{"rewind": "1", "delta": "vcdiff"}},
	},
	{
		name: "params that are not strings",
		in:   `{"action":10,"channel":"c","params":{"rewind":1,"a":true,"b":null,"c":"x"}}`,
		want: &protocol.ProtocolMessage{Action: protocol.ActionAttach, Channel: "c",
			Params: map[string]string{"rewind": "1", "a": "true", "c": "x"}},
	},
	{
		name: "auth",
		in:   `{"action":17,"auth":{"accessToken":"eyJhbGciOi.x.y"}}`,
		want: &protocol.ProtocolMessage{Action: protocol.ActionAuth, Auth: &protocol.AuthDetails{AccessToken: "eyJhbGciOi.x.y"}},
	},
	{
		name: "heartbeat with id (ping)",
		in:   `{"action":0,"id":"ping-1"}`,
		want: &protocol.ProtocolMessage{Action: protocol.ActionHeartbeat, ID: "ping-1"},
	},
	{
		name: "ably-go heartbeat: no action at all",
		in:   `{}`,
		want: &protocol.ProtocolMessage{Action: protocol.ActionHeartbeat},
	},
	{
		name: "ably-go heartbeat with msgSerial",
		in:   `{"msgSerial":0,"id":"x"}`,
		want: &protocol.ProtocolMessage{ID: "x"},
	},
	{
		name: "connected",
		in: `{"action":4,"connectionId":"c1","connectionKey":"c1!k",
 "connectionDetails":{"connectionKey":"c1!k","clientId":"alice","connectionStateTtl":120000,
  "maxIdleInterval":15000,"maxMessageSize":65536,"maxFrameSize":524288,"maxInboundRate":50,
  "serverId":"local-1","siteCode":"local","objectsGCGracePeriod":86400000}}`,
		want: &protocol.ProtocolMessage{Action: protocol.ActionConnected, ConnectionID: "c1", ConnectionKey: "c1!k",
			ConnectionDetails: &protocol.ConnectionDetails{ConnectionKey: "c1!k", ClientID: "alice",
				ConnectionStateTTL: 120000, MaxIdleInterval: 15000, MaxMessageSize: 65536, MaxFrameSize: 524288,
				MaxInboundRate: 50, ServerID: "local-1", SiteCode: "local"}},
	},
	{
		name: "unknown action",
		in:   `{"action":99,"channel":"x","whatever":{"a":[1,{"b":null}]}}`,
		want: &protocol.ProtocolMessage{Action: 99, Channel: "x"},
	},
	{
		name: "unknown fields everywhere",
		in: `{"action":15,"size":12,"annotations":[],"state":[{"a":{"b":[1,2.5e3,{"c":null},true,false]}}],"channel":"x",
 "connectionSerial":-1,"messages":[{"name":"n","version":{"serial":"v"},"connectionKey":"k","data":"d","size":3}],
 "error":{"code":40000,"statusCode":400,"message":"m","cause":{"code":1},"nonfatal":true},
 "auth":{"accessToken":"t","other":1},"res":[{"serials":["s"],"x":1}]}`,
		want: &protocol.ProtocolMessage{Action: protocol.ActionMessage, Channel: "x",
			Messages: []*herald.Message{withSize(&herald.Message{Name: "n", Data: str("d")})},
			Error:    &herald.Error{Code: 40000, StatusCode: 400, Message: "m"},
			Auth:     &protocol.AuthDetails{AccessToken: "t"},
			Res:      []protocol.PublishResult{{Serials: []string{"s"}}}},
	},
	{
		name: "nulls read as absent",
		in:   `{"action":11,"id":null,"channel":null,"error":null,"messages":null,"presence":null,"params":null,"connectionDetails":null,"auth":null,"res":null,"flags":null}`,
		want: &protocol.ProtocolMessage{Action: protocol.ActionAttached},
	},
	{
		name: "ack with res and a null serial",
		in:   `{"action":1,"msgSerial":0,"count":2,"res":[{"serials":["s1",null]},{"serials":["s2"]},null]}`,
		want: &protocol.ProtocolMessage{Action: protocol.ActionAck, Count: 2,
			Res: []protocol.PublishResult{{Serials: []string{"s1", ""}}, {Serials: []string{"s2"}}, {}}},
	},
	{
		name: "nack with error",
		in:   `{"action":2,"msgSerial":3,"count":1,"error":{"code":40160,"statusCode":401,"message":"denied","href":"https://help.ably.io/error/40160"}}`,
		want: &protocol.ProtocolMessage{Action: protocol.ActionNack, MsgSerial: 3, Count: 1,
			Error: &herald.Error{Code: 40160, StatusCode: 401, Message: "denied", Href: "https://help.ably.io/error/40160"}},
	},
	{
		name: "delivery",
		in: `{"action":15,"id":"c1:3","connectionId":"c1","timestamp":1700000000000,"channel":"chan","channelSerial":"s:1",
 "messages":[{"id":"c1:3:0","clientId":"alice","connectionId":"c1","name":"n","data":"hello","timestamp":1700000000001,"serial":"01","action":1,"extras":{"headers":{"a":"b","n":5}}}]}`,
		want: &protocol.ProtocolMessage{Action: protocol.ActionMessage, ID: "c1:3", ConnectionID: "c1",
			Timestamp: 1700000000000, Channel: "chan", ChannelSerial: "s:1",
			Messages: []*herald.Message{withSize(&herald.Message{ID: "c1:3:0", ClientID: "alice", ConnectionID: "c1",
				Name: "n", Data: str("hello"), Timestamp: 1700000000001, Serial: "01", Action: 1,
				Extras: map[string]any{"headers": map[string]any{"a": "b", "n": int64(5)}}})}},
	},
	{
		name: "presence sync with every action",
		in: `{"action":16,"channel":"c","channelSerial":"sync1:","presence":[{"action":0,"clientId":"a"},{"action":1,"clientId":"b","id":"c1:0:0","connectionId":"c1","timestamp":5},
 {"action":2,"clientId":"c","extras":{"x":null}},{"action":3,"clientId":"d","encoding":"json","data":"{}"},{"action":4,"clientId":"e"}]}`,
		want: &protocol.ProtocolMessage{Action: protocol.ActionSync, Channel: "c", ChannelSerial: "sync1:",
			Presence: []*herald.PresenceMessage{
				{Action: herald.PresenceAbsent, ClientID: "a"},
				{Action: herald.PresencePresent, ClientID: "b", ID: "c1:0:0", ConnectionID: "c1", Timestamp: 5},
				{Action: herald.PresenceEnter, ClientID: "c", Extras: map[string]any{"x": nil}},
				{Action: herald.PresenceLeave, ClientID: "d", Encoding: "json", Data: str("{}")},
				{Action: herald.PresenceUpdate, ClientID: "e"},
			}},
	},
	{
		name: "whole numbers written as floats",
		in:   `{"action":1.0e1,"timestamp":1.7e12,"msgSerial":2.0}`,
		want: &protocol.ProtocolMessage{Action: protocol.ActionAttach, Timestamp: 1.7e12, MsgSerial: 2},
	},
	{
		name: "escapes and unicode in strings",
		in:   `{"action":10,"channel":"a\"b\\c\/d\n\u00e9\ud83d\ude00 ü"}`,
		want: &protocol.ProtocolMessage{Action: protocol.ActionAttach, Channel: "a\"b\\c/d\né😀 ü"},
	},
}

func TestDecode(t *testing.T) {
	for _, f := range formats {
		for _, tt := range decodeTests {
			t.Run(f.name+"/"+tt.name, func(t *testing.T) {
				format, _ := protocol.ParseFormat(f.name)
				got, err := protocol.Decode(format, f.in(t, tt.in))
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if diff := cmp.Diff(tt.want, got, cmpOpts...); diff != "" {
					t.Errorf("Decode mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestDecode_MissingActionIsHeartbeat(t *testing.T) {
	for _, in := range [][]byte{[]byte(`{}`), []byte(` { "id" : "x" } `)} {
		pm, err := protocol.DecodeJSON(in)
		if err != nil || pm.Action != protocol.ActionHeartbeat {
			t.Errorf("DecodeJSON(%s) = %+v, %v", in, pm, err)
		}
	}
	// An empty msgpack map: what ably-go sends for a heartbeat.
	pm, err := protocol.DecodeMsgpack([]byte{0x80})
	if err != nil || pm.Action != protocol.ActionHeartbeat {
		t.Errorf("DecodeMsgpack(80) = %+v, %v", pm, err)
	}
}

func TestDecode_StringsDoNotAliasInput(t *testing.T) {
	for _, f := range formats {
		in := f.in(t, `{"action":15,"channel":"chan","messages":[{"name":"n","data":"payload"}]}`)
		format, _ := protocol.ParseFormat(f.name)
		pm, err := protocol.Decode(format, in)
		if err != nil {
			t.Fatal(err)
		}
		for i := range in {
			in[i] = 'X'
		}
		if pm.Channel != "chan" || string(pm.Messages[0].Data.Bytes) != "payload" {
			t.Errorf("%s: decoded values changed with the input buffer", f.name)
		}
	}
}

func TestDecode_Errors(t *testing.T) {
	deep := func(n int) string {
		return `{"messages":[{"extras":` + strings.Repeat(`{"a":`, n) + `1` + strings.Repeat(`}`, n) + `}]}`
	}
	tests := []struct {
		name string
		in   string
		want string // in the error text
	}{
		{"not an object", `[]`, "expected a"},
		{"action not a number", `{"action":"x"}`, "action: expected a number"},
		{"negative action", `{"action":-1}`, "action -1 out of range"},
		{"huge action", `{"action":4294967296}`, "out of range"},
		{"fractional integer", `{"msgSerial":1.5}`, "msgSerial: expected an integer"},
		{"channel not a string", `{"channel":1}`, "channel: expected a string"},
		{"messages not an array", `{"messages":{}}`, "messages: expected an array"},
		{"message not an object", `{"messages":[{},1]}`, "messages[1]"},
		{"extras not an object", `{"messages":[{"extras":[1]}]}`, "messages[0].extras: expected"},
		{"presence action", `{"presence":[{"action":"enter"}]}`, "presence[0].action"},
		{"param object", `{"params":{"a":{}}}`, `param "a" must be a string`},
		{"serial not a string", `{"res":[{"serials":[1]}]}`, "res[0].serials[0]"},
		{"extras 65 deep", deep(65), "nesting deeper than 64"},
		{"unknown field 65 deep", `{"x":` + strings.Repeat(`[`, 65) + strings.Repeat(`]`, 65) + `}`, "nesting deeper than 64"},
		{"data 65 deep", `{"messages":[{"data":` + strings.Repeat(`[`, 65) + strings.Repeat(`]`, 65) + `}]}`, "messages[0].data: nesting deeper than 64"},
	}
	for _, f := range formats {
		for _, tt := range tests {
			t.Run(f.name+"/"+tt.name, func(t *testing.T) {
				format, _ := protocol.ParseFormat(f.name)
				_, err := protocol.Decode(format, f.in(t, tt.in))
				if err == nil {
					t.Fatalf("Decode succeeded, want error containing %q", tt.want)
				}
				if !errors.Is(err, protocol.ErrMalformed) {
					t.Errorf("error %v does not wrap ErrMalformed", err)
				}
				if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), f.name) {
					t.Errorf("error %q, want it to name %s and contain %q", err, f.name, tt.want)
				}
			})
		}
	}
	if _, err := protocol.DecodeJSON([]byte(deep(64))); err != nil {
		t.Errorf("64 levels of extras should decode: %v", err)
	}
}

func TestDecodeJSON_Errors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", ``, "expected an object"},
		{"trailing data", `{} {}`, "after the top-level value"},
		{"trailing comma", `{"action":1,}`, "expected a string key"},
		{"array trailing comma", `{"x":[1,]}`, "trailing ','"},
		{"missing colon", `{"action" 1}`, "expected ':'"},
		{"unterminated string", `{"channel":"abc`, "unterminated string"},
		{"control character", "{\"channel\":\"a\x01\"}", "control character"},
		{"bad escape", `{"channel":"\x"}`, "invalid escape"},
		{"bad unicode escape", `{"channel":"\u12"}`, `invalid \u escape`},
		{"bad literal", `{"x":nul}`, "invalid literal"},
		{"bad number", `{"action":01}`, "expected ',' or '}'"},
		{"bad number 2", `{"x":-}`, "invalid number"},
		{"huge number in data", `{"messages":[{"data":1e400}]}`, "messages[0].data: number out of range"},
		{"huge number in extras", `{"messages":[{"extras":{"a":-1e999}}]}`, "messages[0].extras: number out of range"},
		{"invalid base64", `{"messages":[{"data":"3q2+7w==","encoding":"base64"},{"data":"@@@","encoding":"utf-8/base64"}]}`,
			"messages[1].data: invalid base64 for encoding utf-8/base64"},
		{"invalid base64 presence", `{"presence":[{"action":2,"data":"!","encoding":"base64"}]}`, "presence[0].data: invalid base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := protocol.DecodeJSON([]byte(tt.in))
			if err == nil || !errors.Is(err, protocol.ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("DecodeJSON(%s) error = %v, want ErrMalformed containing %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestDecodeMsgpack_Errors(t *testing.T) {
	msg := func(data ...byte) []byte { // {"messages":[{"data": <data>}]}
		b := []byte{0x81, 0xa8}
		b = append(b, "messages"...)
		b = append(b, 0x91, 0x81, 0xa4)
		b = append(b, "data"...)
		return append(b, data...)
	}
	extras := func(v ...byte) []byte { // {"messages":[{"extras": <v>}]}
		b := []byte{0x81, 0xa8}
		b = append(b, "messages"...)
		b = append(b, 0x91, 0x81, 0xa6)
		b = append(b, "extras"...)
		return append(b, v...)
	}
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "expected a map, found end of input"},
		{"trailing data", []byte{0x80, 0x80}, "after the top-level value"},
		{"truncated key", []byte{0x81, 0xa6, 'a', 'c'}, "overruns the input"},
		{"map count overrun", []byte{0xdf, 0xff, 0xff, 0xff, 0xff, 0x00}, "overruns the input"},
		{"array count overrun", []byte{0x81, 0xa1, 'x', 0xdd, 0xff, 0xff, 0xff, 0xff}, "overruns the input"},
		{"unused type", []byte{0x81, 0xa1, 'x', 0xc1}, "unused type 0xc1"},
		{"uint64 action", []byte{0x81, 0xa6, 'a', 'c', 't', 'i', 'o', 'n', 0xcf, 0xff, 0, 0, 0, 0, 0, 0, 0}, "action: integer out of range"},
		{"truncated int", []byte{0x81, 0xa6, 'a', 'c', 't', 'i', 'o', 'n', 0xd2, 0}, "unexpected end of input"},
		{"data NaN", msg(0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1), "messages[0].data: NaN has no JSON form"},
		{"data ext", msg(0xd4, 1, 1), "messages[0].data: extension type has no JSON form"},
		{"data map with int key", msg(0x81, 0x01, 0x01), "map key must be a string"},
		{"data map with bin value", msg(0x81, 0xa1, 'a', 0xc4, 0x01, 0xff), "binary inside structured data"},
		{"extras with int key", extras(0x81, 0x01, 0x01), "messages[0].extras: map key must be a string"},
		{"extras not a map", extras(0x91, 0x01), "messages[0].extras: expected a map"},
		{"extras with bin", extras(0x81, 0xa1, 'a', 0xc4, 0x00), "binary inside structured data"},
		{"extras with inf", extras(0x81, 0xa1, 'a', 0xca, 0x7f, 0x80, 0, 0), "+Inf has no JSON form"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := protocol.DecodeMsgpack(tt.in)
			if err == nil || !errors.Is(err, protocol.ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("DecodeMsgpack(% x) error = %v, want ErrMalformed containing %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestDecodeMsgpack_Lenient(t *testing.T) {
	// Keys that are not strings are skipped as unknown fields; ext values
	// in unknown fields are skipped; bin is accepted where a string is due.
	in := []byte{0x84,
		0x01, 0x02, // int key
		0xa1, 'x', 0xd8, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // fixext16
		0xa7, 'c', 'h', 'a', 'n', 'n', 'e', 'l', 0xc4, 0x01, 'c', // bin channel
		0xa6, 'a', 'c', 't', 'i', 'o', 'n', 0xcb, 0x40, 0x24, 0, 0, 0, 0, 0, 0, // 10.0
	}
	pm, err := protocol.DecodeMsgpack(in)
	if err != nil {
		t.Fatal(err)
	}
	if pm.Action != protocol.ActionAttach || pm.Channel != "c" {
		t.Errorf("got %+v", pm)
	}
}

func TestDecode_FrameTooLarge(t *testing.T) {
	big := bytes.Repeat([]byte(" "), protocol.MaxFrameSize+1)
	for _, f := range []protocol.Format{protocol.JSON, protocol.Msgpack} {
		if _, err := protocol.Decode(f, big); !errors.Is(err, protocol.ErrFrameTooLarge) {
			t.Errorf("%s: error %v, want ErrFrameTooLarge", f, err)
		}
		if _, err := protocol.DecodeMessages(f, big); !errors.Is(err, protocol.ErrFrameTooLarge) {
			t.Errorf("%s messages: error %v, want ErrFrameTooLarge", f, err)
		}
	}
}

func TestDecodeJSON_InvalidUTF8IsRepaired(t *testing.T) {
	pm, err := protocol.DecodeJSON([]byte("{\"channel\":\"a\xffb\",\"id\":\"\\ud800x\"}"))
	if err != nil {
		t.Fatal(err)
	}
	if pm.Channel != "a\uFFFDb" || pm.ID != "\uFFFDx" {
		t.Errorf("channel %q id %q", pm.Channel, pm.ID)
	}
}

func TestDecodeMsgpack_InvalidBase64(t *testing.T) {
	in := mustMsgpack(t, map[string]any{"messages": []any{map[string]any{}, map[string]any{"data": "!!", "encoding": "base64"}}})
	_, err := protocol.DecodeMsgpack(in)
	if err == nil || !strings.Contains(err.Error(), "malformed msgpack: messages[1].data: invalid base64") {
		t.Errorf("error %v", err)
	}
}
