package protocol

import "strconv"

// Action is a ProtocolMessage action number (spec TR2). Values outside the
// table are kept as they are: an unknown action must not break the
// connection (RSF1), so the codecs carry it and the caller decides.
type Action int

// Actions, numbered as in TR2 (ably-js protocolmessagecommon.ts).
const (
	ActionHeartbeat    Action = 0
	ActionAck          Action = 1
	ActionNack         Action = 2
	ActionConnect      Action = 3
	ActionConnected    Action = 4
	ActionDisconnect   Action = 5
	ActionDisconnected Action = 6
	ActionClose        Action = 7
	ActionClosed       Action = 8
	ActionError        Action = 9
	ActionAttach       Action = 10
	ActionAttached     Action = 11
	ActionDetach       Action = 12
	ActionDetached     Action = 13
	ActionPresence     Action = 14
	ActionMessage      Action = 15
	ActionSync         Action = 16
	ActionAuth         Action = 17
	ActionActivate     Action = 18
	ActionObject       Action = 19
	ActionObjectSync   Action = 20
	ActionAnnotation   Action = 21
)

// maxAction bounds the action numbers the decoders accept. Anything up to it
// decodes (unknown actions included); larger or negative numbers are
// malformed, so that an Action always fits an int32 on every platform.
const maxAction = 1<<31 - 1

var actionNames = [...]string{
	ActionHeartbeat:    "HEARTBEAT",
	ActionAck:          "ACK",
	ActionNack:         "NACK",
	ActionConnect:      "CONNECT",
	ActionConnected:    "CONNECTED",
	ActionDisconnect:   "DISCONNECT",
	ActionDisconnected: "DISCONNECTED",
	ActionClose:        "CLOSE",
	ActionClosed:       "CLOSED",
	ActionError:        "ERROR",
	ActionAttach:       "ATTACH",
	ActionAttached:     "ATTACHED",
	ActionDetach:       "DETACH",
	ActionDetached:     "DETACHED",
	ActionPresence:     "PRESENCE",
	ActionMessage:      "MESSAGE",
	ActionSync:         "SYNC",
	ActionAuth:         "AUTH",
	ActionActivate:     "ACTIVATE",
	ActionObject:       "OBJECT",
	ActionObjectSync:   "OBJECT_SYNC",
	ActionAnnotation:   "ANNOTATION",
}

// String returns the action's TR2 name, or "Action(n)" for an unknown one.
func (a Action) String() string {
	if a >= 0 && int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// Known reports whether a is one of the TR2 actions.
func (a Action) Known() bool { return a >= 0 && int(a) < len(actionNames) }

// AckRequired reports whether a client frame with action a consumes a
// msgSerial and expects an ACK or NACK (ably-js protocol.ts: MESSAGE,
// PRESENCE, ANNOTATION and OBJECT; RTN7a).
func (a Action) AckRequired() bool {
	switch a {
	case ActionMessage, ActionPresence, ActionAnnotation, ActionObject:
		return true
	}
	return false
}

// Flag is a ProtocolMessage flag bit (spec TR3). It is an alias of int64 so
// that the constants combine with ProtocolMessage.Flags without conversions.
type Flag = int64

// Flags, numbered as in TR3 (ably-js protocolmessagecommon.ts).
const (
	FlagHasPresence         Flag = 1 << 0 // ATTACHED: a presence SYNC follows
	FlagHasBacklog          Flag = 1 << 1 // ATTACHED: rewind/backlog messages follow
	FlagResumed             Flag = 1 << 2 // ATTACHED: channel continuity was kept
	FlagTransient           Flag = 1 << 4 // ATTACH: transient publishing
	FlagAttachResume        Flag = 1 << 5 // ATTACH: resume an attachment (deprecated)
	FlagHasObjects          Flag = 1 << 7 // ATTACHED: an OBJECT_SYNC follows
	FlagPresence            Flag = 1 << 16
	FlagPublish             Flag = 1 << 17
	FlagSubscribe           Flag = 1 << 18
	FlagPresenceSubscribe   Flag = 1 << 19
	FlagAnnotationPublish   Flag = 1 << 21
	FlagAnnotationSubscribe Flag = 1 << 22
	FlagObjectSubscribe     Flag = 1 << 24
	FlagObjectPublish       Flag = 1 << 25
)

// ModeFlags masks the channel mode bits (TB2d, RTL4m): the modes a client
// asks for on ATTACH and the modes the server grants on ATTACHED.
const ModeFlags = FlagPresence | FlagPublish | FlagSubscribe | FlagPresenceSubscribe |
	FlagAnnotationPublish | FlagAnnotationSubscribe | FlagObjectSubscribe | FlagObjectPublish

// DefaultModes are the modes a client gets when it asks for none:
// PRESENCE|PUBLISH|SUBSCRIBE|PRESENCE_SUBSCRIBE = 983040, what ably-js
// expects for full access (protocol.md §A.7).
const DefaultModes = FlagPresence | FlagPublish | FlagSubscribe | FlagPresenceSubscribe
