package protocol_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/protocol"
)

// Seed corpora live in testdata/fuzz/<Fuzz name>/: the frames of
// protocol.md (client publish, presence enter, ATTACH with flags and
// params, AUTH, HEARTBEAT with id, ably-go's empty heartbeat, binary
// payloads, CONNECTED) in each format, plus inputs that once failed.

func FuzzDecodeJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		pm, err := protocol.DecodeJSON(b)
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		checkStable(t, protocol.JSON, pm)
		checkCrossFormat(t, protocol.JSON, pm)
	})
}

func FuzzDecodeMsgpack(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		pm, err := protocol.DecodeMsgpack(b)
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		checkStable(t, protocol.Msgpack, pm)
		checkCrossFormat(t, protocol.Msgpack, pm)
	})
}

func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, protocol.ErrMalformed) && !errors.Is(err, protocol.ErrFrameTooLarge) {
		t.Fatalf("decode error %v wraps neither ErrMalformed nor ErrFrameTooLarge", err)
	}
}

// checkStable: whatever decodes re-encodes in its own format, decodes to
// the same frame, and encodes to the same bytes again.
func checkStable(t *testing.T, f protocol.Format, pm *protocol.ProtocolMessage) {
	t.Helper()
	enc, err := protocol.Encode(f, pm)
	if err != nil {
		t.Fatalf("decoded frame does not encode as %s: %v", f, err)
	}
	pm2, err := protocol.Decode(f, enc)
	if err != nil {
		t.Fatalf("own %s output does not decode: %v\n%q", f, err, enc)
	}
	if diff := cmp.Diff(pm, pm2, cmpOpts...); diff != "" {
		t.Fatalf("%s decode→encode→decode changed the frame (-first +second):\n%s\n%q", f, diff, enc)
	}
	enc2, err := protocol.Encode(f, pm2)
	if err != nil || !bytes.Equal(enc, enc2) {
		t.Fatalf("%s encoding is not stable: %v\n%q\n%q", f, err, enc, enc2)
	}
}

// checkCrossFormat: a frame accepted in one format can be delivered in the
// other (the fan-out path) and reads back the same there, allowing for
// what the other format cannot carry: JSON text is valid UTF-8, and JSON
// payload values may be spelled differently (1E2 vs 100.0).
func checkCrossFormat(t *testing.T, from protocol.Format, pm *protocol.ProtocolMessage) {
	t.Helper()
	to := protocol.JSON
	if from == protocol.JSON {
		to = protocol.Msgpack
	}
	enc, err := protocol.Encode(to, pm)
	if err != nil {
		t.Fatalf("frame decoded from %s does not encode as %s: %v", from, to, err)
	}
	got, err := protocol.Decode(to, enc)
	if err != nil {
		t.Fatalf("frame decoded from %s, encoded as %s, does not decode: %v\n%q", from, to, err, enc)
	}
	want := pm
	if to == protocol.JSON {
		want = repairUTF8(pm)
	}
	opts := append(slices.Clone(cmpOpts), cmpopts.IgnoreFields(herald.Message{}, "Size"), cmp.Comparer(sameData))
	if diff := cmp.Diff(want, got, opts...); diff != "" {
		t.Fatalf("%s → %s changed the frame (-want +got):\n%s\n%q", from, to, diff, enc)
	}
}

// sameData compares payloads, JSON values by meaning rather than text.
func sameData(a, b herald.Data) bool {
	if a.Kind != b.Kind {
		return false
	}
	if a.Kind != herald.DataJSON {
		return bytes.Equal(a.Bytes, b.Bytes)
	}
	var va, vb any
	if json.Unmarshal(a.Bytes, &va) != nil || json.Unmarshal(b.Bytes, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

// repairUTF8 returns a copy of pm with every invalid UTF-8 byte replaced by
// U+FFFD, which is what a JSON encoding of pm must carry. Maps are rebuilt
// in sorted key order, the order the encoders write them, so that keys
// that collide after repair keep the value that is written last.
func repairUTF8(pm *protocol.ProtocolMessage) *protocol.ProtocolMessage {
	c := *pm
	for _, s := range []*string{&c.ID, &c.ConnectionID, &c.ConnectionKey, &c.Channel, &c.ChannelSerial} {
		*s = fix(*s)
	}
	if c.Error != nil {
		e := *c.Error
		e.Message, e.Href = fix(e.Message), fix(e.Href)
		c.Error = &e
	}
	if c.ConnectionDetails != nil {
		cd := *c.ConnectionDetails
		cd.ClientID, cd.ConnectionKey, cd.ServerID, cd.SiteCode = fix(cd.ClientID), fix(cd.ConnectionKey), fix(cd.ServerID), fix(cd.SiteCode)
		c.ConnectionDetails = &cd
	}
	if c.Auth != nil {
		c.Auth = &protocol.AuthDetails{AccessToken: fix(c.Auth.AccessToken)}
	}
	if c.Params != nil {
		p := map[string]string{}
		for _, k := range sorted(c.Params) {
			p[fix(k)] = fix(c.Params[k])
		}
		c.Params = p
	}
	c.Res = nil
	for _, r := range pm.Res {
		var s []string
		for _, v := range r.Serials {
			s = append(s, fix(v))
		}
		c.Res = append(c.Res, protocol.PublishResult{Serials: s})
	}
	c.Messages = nil
	for _, m := range pm.Messages {
		m2 := *m
		m2.ID, m2.ClientID, m2.ConnectionID, m2.Name, m2.Encoding, m2.Serial =
			fix(m.ID), fix(m.ClientID), fix(m.ConnectionID), fix(m.Name), fix(m.Encoding), fix(m.Serial)
		m2.Data = fixData(m.Data)
		m2.Extras, _ = fixValue(m.Extras).(map[string]any)
		c.Messages = append(c.Messages, &m2)
	}
	c.Presence = nil
	for _, p := range pm.Presence {
		p2 := *p
		p2.ID, p2.ClientID, p2.ConnectionID, p2.Encoding = fix(p.ID), fix(p.ClientID), fix(p.ConnectionID), fix(p.Encoding)
		p2.Data = fixData(p.Data)
		p2.Extras, _ = fixValue(p.Extras).(map[string]any)
		c.Presence = append(c.Presence, &p2)
	}
	return &c
}

func fix(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b []rune
	for _, r := range s { // one RuneError per invalid byte, as the encoder writes
		b = append(b, r)
	}
	return string(b)
}

func fixData(d herald.Data) herald.Data {
	if d.Kind == herald.DataString {
		return herald.Data{Kind: d.Kind, Bytes: []byte(fix(string(d.Bytes)))}
	}
	return d
}

func fixValue(v any) any {
	switch v := v.(type) {
	case string:
		return fix(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = fixValue(e)
		}
		return out
	case map[string]any:
		if v == nil {
			return nil
		}
		out := map[string]any{}
		for _, k := range sorted(v) {
			out[fix(k)] = fixValue(v[k])
		}
		return out
	}
	return v
}

func sorted[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
