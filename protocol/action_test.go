package protocol_test

import (
	"testing"

	"github.com/heraldrt/herald/protocol"
)

func TestAction_Values(t *testing.T) {
	tests := []struct {
		action protocol.Action
		num    int
		name   string
	}{
		{protocol.ActionHeartbeat, 0, "HEARTBEAT"},
		{protocol.ActionAck, 1, "ACK"},
		{protocol.ActionNack, 2, "NACK"},
		{protocol.ActionConnect, 3, "CONNECT"},
		{protocol.ActionConnected, 4, "CONNECTED"},
		{protocol.ActionDisconnect, 5, "DISCONNECT"},
		{protocol.ActionDisconnected, 6, "DISCONNECTED"},
		{protocol.ActionClose, 7, "CLOSE"},
		{protocol.ActionClosed, 8, "CLOSED"},
		{protocol.ActionError, 9, "ERROR"},
		{protocol.ActionAttach, 10, "ATTACH"},
		{protocol.ActionAttached, 11, "ATTACHED"},
		{protocol.ActionDetach, 12, "DETACH"},
		{protocol.ActionDetached, 13, "DETACHED"},
		{protocol.ActionPresence, 14, "PRESENCE"},
		{protocol.ActionMessage, 15, "MESSAGE"},
		{protocol.ActionSync, 16, "SYNC"},
		{protocol.ActionAuth, 17, "AUTH"},
		{protocol.ActionActivate, 18, "ACTIVATE"},
		{protocol.ActionObject, 19, "OBJECT"},
		{protocol.ActionObjectSync, 20, "OBJECT_SYNC"},
		{protocol.ActionAnnotation, 21, "ANNOTATION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if int(tt.action) != tt.num {
				t.Errorf("%s = %d, want %d (TR2)", tt.name, tt.action, tt.num)
			}
			if got := tt.action.String(); got != tt.name {
				t.Errorf("String() = %q, want %q", got, tt.name)
			}
			if !tt.action.Known() {
				t.Errorf("Known() = false")
			}
			// JSON and msgpack both carry the number.
			for _, f := range []protocol.Format{protocol.JSON, protocol.Msgpack} {
				b, err := protocol.Encode(f, &protocol.ProtocolMessage{Action: tt.action})
				if err != nil {
					t.Fatal(err)
				}
				pm, err := protocol.Decode(f, b)
				if err != nil {
					t.Fatal(err)
				}
				if pm.Action != tt.action {
					t.Errorf("%s round trip: action %d, want %d", f, pm.Action, tt.action)
				}
			}
		})
	}
}

func TestAction_Unknown(t *testing.T) {
	for _, a := range []protocol.Action{22, 99, -1} {
		if a.Known() {
			t.Errorf("Action(%d).Known() = true", a)
		}
	}
	if got := protocol.Action(99).String(); got != "Action(99)" {
		t.Errorf("String() = %q", got)
	}
}

func TestAction_AckRequired(t *testing.T) {
	want := map[protocol.Action]bool{
		protocol.ActionMessage: true, protocol.ActionPresence: true,
		protocol.ActionAnnotation: true, protocol.ActionObject: true,
	}
	for a := protocol.Action(0); a < 25; a++ {
		if got := a.AckRequired(); got != want[a] {
			t.Errorf("%v.AckRequired() = %v", a, got)
		}
	}
}

func TestFlag_Values(t *testing.T) {
	tests := []struct {
		name string
		flag protocol.Flag
		want int64
	}{
		{"HAS_PRESENCE", protocol.FlagHasPresence, 1},
		{"HAS_BACKLOG", protocol.FlagHasBacklog, 2},
		{"RESUMED", protocol.FlagResumed, 4},
		{"TRANSIENT", protocol.FlagTransient, 16},
		{"ATTACH_RESUME", protocol.FlagAttachResume, 32},
		{"HAS_OBJECTS", protocol.FlagHasObjects, 128},
		{"PRESENCE", protocol.FlagPresence, 65536},
		{"PUBLISH", protocol.FlagPublish, 131072},
		{"SUBSCRIBE", protocol.FlagSubscribe, 262144},
		{"PRESENCE_SUBSCRIBE", protocol.FlagPresenceSubscribe, 524288},
		{"ANNOTATION_PUBLISH", protocol.FlagAnnotationPublish, 1 << 21},
		{"ANNOTATION_SUBSCRIBE", protocol.FlagAnnotationSubscribe, 1 << 22},
		{"OBJECT_SUBSCRIBE", protocol.FlagObjectSubscribe, 1 << 24},
		{"OBJECT_PUBLISH", protocol.FlagObjectPublish, 1 << 25},
	}
	var modes int64
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.flag != tt.want {
				t.Errorf("%s = %d, want %d (TR3)", tt.name, tt.flag, tt.want)
			}
		})
		if tt.want >= 1<<16 {
			modes |= tt.want
		}
	}
	if protocol.ModeFlags != modes {
		t.Errorf("ModeFlags = %d, want %d", protocol.ModeFlags, modes)
	}
	if protocol.DefaultModes != 983040 {
		t.Errorf("DefaultModes = %d, want 983040 (protocol.md §A.7)", protocol.DefaultModes)
	}
	pm := &protocol.ProtocolMessage{Flags: protocol.DefaultModes | protocol.FlagResumed}
	if !pm.HasFlag(protocol.FlagSubscribe|protocol.FlagResumed) || pm.HasFlag(protocol.FlagHasPresence) {
		t.Errorf("HasFlag wrong for %d", pm.Flags)
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in     string
		want   protocol.Format
		ok     bool
		ctype  string
		String string
	}{
		{"json", protocol.JSON, true, "application/json", "json"},
		{"msgpack", protocol.Msgpack, true, "application/x-msgpack", "msgpack"},
		{"xml", protocol.JSON, false, "application/json", "json"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			f, ok := protocol.ParseFormat(tt.in)
			if f != tt.want || ok != tt.ok {
				t.Errorf("ParseFormat(%q) = %v, %v", tt.in, f, ok)
			}
			if f.ContentType() != tt.ctype || f.String() != tt.String {
				t.Errorf("ContentType/String = %q/%q", f.ContentType(), f.String())
			}
		})
	}
}
