package protocol_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/protocol"
	"github.com/vmihailenco/msgpack/v5"
)

// benchMessage is a typical delivered MESSAGE: one message with an id, a
// name, a clientId and 100 bytes of string data.
func benchMessage() *protocol.ProtocolMessage {
	return &protocol.ProtocolMessage{
		Action: protocol.ActionMessage, ID: "hd8Jx2_k9Q:17", ConnectionID: "hd8Jx2_k9Q",
		Timestamp: 1700000000000, Channel: "chat:room-1", ChannelSerial: "01700000000000-000@a1:0",
		Messages: []*herald.Message{{
			ID: "hd8Jx2_k9Q:17:0", ClientID: "alice@example.com", Name: "chat.message",
			Data: herald.Data{Kind: herald.DataString, Bytes: []byte(strings.Repeat("0123456789", 10))},
		}},
	}
}

var benchCases = []struct {
	name string
	pm   func() *protocol.ProtocolMessage
}{
	{"message", benchMessage},
	{"connected", connected},
}

func BenchmarkEncode(b *testing.B) {
	for _, f := range []protocol.Format{protocol.JSON, protocol.Msgpack} {
		for _, bc := range benchCases {
			pm := bc.pm()
			b.Run(f.String()+"/"+bc.name, func(b *testing.B) {
				buf := make([]byte, 0, 1024) // a writer reuses its buffer
				b.ReportAllocs()
				for b.Loop() {
					var err error
					if buf, err = protocol.Append(f, buf[:0], pm); err != nil {
						b.Fatal(err)
					}
				}
				b.SetBytes(int64(len(buf)))
			})
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, f := range []protocol.Format{protocol.JSON, protocol.Msgpack} {
		for _, bc := range benchCases {
			in, err := protocol.Encode(f, bc.pm())
			if err != nil {
				b.Fatal(err)
			}
			b.Run(f.String()+"/"+bc.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(in)))
				for b.Loop() {
					if _, err := protocol.Decode(f, in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// The baselines encode and decode the same MESSAGE frame with struct tags
// through encoding/json and vmihailenco/msgpack: what the hand-written
// codecs are measured against (docs/benchmarks.md).
type baseMessage struct {
	ID       string `json:"id,omitempty" msgpack:"id,omitempty"`
	ClientID string `json:"clientId,omitempty" msgpack:"clientId,omitempty"`
	Name     string `json:"name,omitempty" msgpack:"name,omitempty"`
	Data     any    `json:"data,omitempty" msgpack:"data,omitempty"`
}

type baseFrame struct {
	Action        int            `json:"action" msgpack:"action"`
	ID            string         `json:"id,omitempty" msgpack:"id,omitempty"`
	Timestamp     int64          `json:"timestamp,omitempty" msgpack:"timestamp,omitempty"`
	ConnectionID  string         `json:"connectionId,omitempty" msgpack:"connectionId,omitempty"`
	Channel       string         `json:"channel,omitempty" msgpack:"channel,omitempty"`
	ChannelSerial string         `json:"channelSerial,omitempty" msgpack:"channelSerial,omitempty"`
	Messages      []*baseMessage `json:"messages,omitempty" msgpack:"messages,omitempty"`
}

func baseBenchFrame() *baseFrame {
	pm := benchMessage()
	m := pm.Messages[0]
	return &baseFrame{Action: int(pm.Action), ID: pm.ID, Timestamp: pm.Timestamp, ConnectionID: pm.ConnectionID,
		Channel: pm.Channel, ChannelSerial: pm.ChannelSerial,
		Messages: []*baseMessage{{ID: m.ID, ClientID: m.ClientID, Name: m.Name, Data: string(m.Data.Bytes)}}}
}

func BenchmarkBaseline(b *testing.B) {
	fr := baseBenchFrame()
	b.Run("encoding-json/encode/message", func(b *testing.B) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			if err := enc.Encode(fr); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("vmihailenco-msgpack/encode/message", func(b *testing.B) {
		var buf bytes.Buffer
		enc := msgpack.NewEncoder(&buf)
		enc.UseCompactInts(true)
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			if err := enc.Encode(fr); err != nil {
				b.Fatal(err)
			}
		}
	})
	js, _ := json.Marshal(fr)
	mp, _ := msgpack.Marshal(fr)
	b.Run("encoding-json/decode/message", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v baseFrame
			if err := json.Unmarshal(js, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("vmihailenco-msgpack/decode/message", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v baseFrame
			if err := msgpack.Unmarshal(mp, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
