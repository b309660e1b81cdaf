package protocol

import "github.com/heraldrt/herald"

// Messages, presence messages, errors and auth details are read alike
// from JSON and MessagePack, so what each of their keys means is written
// once, here. A fieldSet is such an object being decoded: field maps a key
// to the name errors are reported at and to a pointer to where the value
// goes, and each reader's object method reads the value that the pointer's
// type calls for, so the wire format stays in the reader. An unknown key
// maps to a nil pointer and its value is skipped.
//
// The readers themselves are never passed through an interface or a type
// parameter: a call through either moves the reader to the heap, one more
// allocation per frame. Boxing these pointers in an any allocates nothing.
//
// The frame and connectionDetails keep a switch in each reader: going
// through field costs a call and a type switch per key, which made
// decoding a MessagePack frame 8-12% slower (BenchmarkDecode).
type fieldSet interface {
	field(key []byte) (name string, dst any)
}

type (
	messageFields  herald.Message
	presenceFields herald.PresenceMessage
	errorFields    herald.Error
	authFields     AuthDetails
)

// actionField points to an action: an integer that must be in 0..maxAction.
type actionField *int

func (m *messageFields) field(key []byte) (string, any) {
	switch string(key) {
	case "id":
		return "id", &m.ID
	case "clientId":
		return "clientId", &m.ClientID
	case "connectionId":
		return "connectionId", &m.ConnectionID
	case "name":
		return "name", &m.Name
	case "data":
		return "data", &m.Data
	case "encoding":
		return "encoding", &m.Encoding
	case "extras":
		return "extras", &m.Extras
	case "timestamp":
		return "timestamp", &m.Timestamp
	case "serial":
		return "serial", &m.Serial
	case "action":
		return "action", actionField(&m.Action)
	}
	return "", nil
}

func (p *presenceFields) field(key []byte) (string, any) {
	switch string(key) {
	case "id":
		return "id", &p.ID
	case "action":
		return "action", actionField((*int)(&p.Action))
	case "clientId":
		return "clientId", &p.ClientID
	case "connectionId":
		return "connectionId", &p.ConnectionID
	case "data":
		return "data", &p.Data
	case "encoding":
		return "encoding", &p.Encoding
	case "extras":
		return "extras", &p.Extras
	case "timestamp":
		return "timestamp", &p.Timestamp
	}
	return "", nil
}

// The fields of error and auth have no names: an error inside one is
// reported at the enclosing field alone.

func (e *errorFields) field(key []byte) (string, any) {
	switch string(key) {
	case "code":
		return "", &e.Code
	case "statusCode":
		return "", &e.StatusCode
	case "message":
		return "", &e.Message
	case "href":
		return "", &e.Href
	}
	return "", nil // cause, nonfatal, serverId, ...
}

func (a *authFields) field(key []byte) (string, any) {
	if string(key) == "accessToken" {
		return "", &a.AccessToken
	}
	return "", nil
}
