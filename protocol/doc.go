// Package protocol is Ably's realtime wire protocol for Herald: the
// ProtocolMessage frame (spec TR4), its Action and Flag constants (TR2,
// TR3), and hand-written JSON and MessagePack codecs for frames and for the
// REST message bodies (RSL1, RSL2, RSP3).
//
// The codecs do no I/O. They translate between the wire and the root
// package's format-neutral herald.Message / herald.PresenceMessage, undoing
// the trailing "base64" step that JSON clients add to binary payloads and
// adding it back for JSON readers, so that one decoded message can be
// delivered to JSON and MessagePack subscribers alike (protocol.md §F).
//
// Decoders accept any input without panicking: frames over MaxFrameSize,
// values nested deeper than MaxDepth and malformed or mistyped fields are
// errors that wrap ErrMalformed (or ErrFrameTooLarge). Unknown fields and
// unknown action numbers are accepted, as Ably requires of both ends (RSF1).
// Encoders omit empty fields instead of writing null (protocol.md §A.2).
package protocol
