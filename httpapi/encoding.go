package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldrt/herald"
	"github.com/vmihailenco/msgpack/v5"
)

// Format is a wire encoding for REST bodies.
type Format int

// Formats. JSON is the default; MessagePack is chosen by Accept (ably-js on
// Node and ably-go ask for it by default, protocol.md §F).
const (
	FormatJSON Format = iota
	FormatMsgpack
)

// Content types, exactly as the SDKs switch on them: a "; charset" suffix
// defeats ably-js's error-body parsing (protocol.md §B.4).
const (
	ContentTypeJSON    = "application/json"
	ContentTypeMsgpack = "application/x-msgpack"
)

func (f Format) contentType() string {
	if f == FormatMsgpack {
		return ContentTypeMsgpack
	}
	return ContentTypeJSON
}

// responseFormat picks the response format from Accept: msgpack when the
// client lists application/x-msgpack before (or without) application/json.
// SDKs decode by what they asked for, not by the response header (§B.3).
func responseFormat(r *http.Request) Format {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return FormatJSON
	}
	for _, part := range strings.Split(accept, ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		switch strings.ToLower(strings.TrimSpace(mt)) {
		case ContentTypeMsgpack:
			return FormatMsgpack
		case ContentTypeJSON:
			return FormatJSON
		}
	}
	return FormatJSON
}

// encode marshals v in format f. Msgpack uses the json struct tags so one
// set of tags serves both (omitempty included), with compact integers.
func encode(f Format, v any) ([]byte, error) {
	if f == FormatMsgpack {
		var buf bytes.Buffer
		enc := msgpack.NewEncoder(&buf)
		enc.SetCustomStructTag("json")
		enc.UseCompactInts(true)
		if err := enc.Encode(v); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// write sends v with status in the format the client asked for.
func write(w http.ResponseWriter, r *http.Request, status int, v any) error {
	f := responseFormat(r)
	body, err := encode(f, v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", f.contentType())
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, err = w.Write(body)
	return err
}

// MaxBodyBytes bounds request bodies (Herald's limit, documented).
const MaxBodyBytes = 1 << 20

// decodeBody reads the request body into v according to Content-Type (JSON
// by default, msgpack for application/x-msgpack). A body that does not parse
// is a 40001 error naming what was wrong.
func decodeBody(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return herald.NewError(herald.CodeInvalidRequestBody, "Could not read the request body")
	}
	if len(body) > MaxBodyBytes {
		return herald.Errorf(herald.CodeInvalidRequestBody, "Request body is larger than %d bytes", MaxBodyBytes)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return herald.NewError(herald.CodeInvalidRequestBody, "Request body is empty")
	}
	if requestFormat(r) == FormatMsgpack {
		// Decode generically and go through JSON, so that one set of json
		// tags (json.RawMessage fields, json.Number) serves both formats.
		// Endpoints that carry binary payloads decode msgpack themselves.
		var generic any
		dec := msgpack.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(&generic); err != nil {
			return herald.Errorf(herald.CodeInvalidRequestBody, "Request body is not valid MessagePack: %v", err)
		}
		if body, err = json.Marshal(generic); err != nil {
			return herald.Errorf(herald.CodeInvalidRequestBody, "Request body has MessagePack values with no JSON form: %v", err)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return herald.Errorf(herald.CodeInvalidRequestBody, "Request body is not valid JSON for this endpoint: %v", jsonErrText(err))
	}
	if dec.More() {
		return herald.NewError(herald.CodeInvalidRequestBody, "Request body has data after the JSON value")
	}
	return nil
}

func requestFormat(r *http.Request) Format {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err == nil && strings.EqualFold(mt, ContentTypeMsgpack) {
		return FormatMsgpack
	}
	return FormatJSON
}

func jsonErrText(err error) string {
	var te *json.UnmarshalTypeError
	if ok := asType(err, &te); ok && te.Field != "" {
		return "field " + strconv.Quote(te.Field) + " must be " + jsonKind(te.Type.Kind().String()) + ", not " + te.Value
	}
	return err.Error()
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	}
	return "a number"
}
