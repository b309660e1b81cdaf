package controlapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldrt/herald"
)

// fieldError is a validation error about one request field, which the
// response names in details.field.
type fieldError struct {
	err   *herald.Error
	field string
}

func (e *fieldError) Error() string { return e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

// invalid is a 422 (code 40003) for a field whose value is well-formed JSON
// but not acceptable: Ably's Control API answers such requests with 422.
func invalid(field, format string, args ...any) error {
	msg := "Invalid " + field + ": " + fmt.Sprintf(format, args...)
	return &fieldError{err: herald.NewError(herald.CodeInvalidParamValue, msg).WithStatus(http.StatusUnprocessableEntity), field: field}
}

// badBody is a 400 (code 40001) for a body that is not the JSON the
// endpoint takes; field is "" when no single field is at fault.
func badBody(field, format string, args ...any) error {
	e := herald.Errorf(herald.CodeInvalidRequestBody, format, args...)
	if field == "" {
		return e
	}
	return &fieldError{err: e, field: field}
}

// errorBody is the Control API error shape (control-v1.yaml "error"). code
// is the Ably error code and statusCode the HTTP status, as in REST
// ErrorInfo; the YAML describes them the other way round, which reads as a
// documentation slip (ably-auth §9.2; docs/decisions.md).
type errorBody struct {
	Message    string            `json:"message"`
	Code       int               `json:"code"`
	StatusCode int               `json:"statusCode"`
	Href       string            `json:"href"`
	Details    map[string]string `json:"details"`
}

// writeError is the one place Control API errors reach the wire. An
// *herald.Error goes out as is; anything else becomes 50000 with the detail
// only in the log. Access tokens never appear in either.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := herald.AsError(err)
	if e.StatusCode >= 500 {
		h.logger.Error("control API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		h.logger.Debug("control API request refused", "method", r.Method, "path", r.URL.Path, "code", e.Code, "msg", e.Message)
	}
	body := errorBody{Message: e.Message, Code: e.Code, StatusCode: e.StatusCode, Href: e.Href}
	var fe *fieldError
	if errors.As(err, &fe) {
		body.Details = map[string]string{"field": fe.field}
	}
	w.Header().Set("X-Ably-Errorcode", strconv.Itoa(e.Code))
	w.Header().Set("X-Ably-Errormessage", headerSafe(e.Message))
	if werr := writeJSON(w, e.StatusCode, body); werr != nil {
		h.logger.Debug("writing error response failed", "err", werr)
	}
}

func headerSafe(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c == 0x7f {
			b[i] = ' '
		}
	}
	if len(b) > 1024 {
		b = b[:1024]
	}
	return string(b)
}

// writeJSON sends v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// maxBodyBytes bounds request bodies: the largest legitimate one is a key
// with a big capability (auth.MaxCapabilityBytes).
const maxBodyBytes = 256 << 10

// decodeBody reads a JSON object into v, refusing unknown fields (Ably's
// schemas say additionalProperties: false). An empty body is allowed when
// optional, leaving v as it was. Errors are 400s that name the field.
func decodeBody(r *http.Request, v any, optional bool) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return badBody("", "Could not read the request body")
	}
	if len(body) > maxBodyBytes {
		return badBody("", "Request body is larger than %d bytes", maxBodyBytes)
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		if optional {
			return nil
		}
		return badBody("", "Request body is empty: send a JSON object")
	}
	if body[0] != '{' {
		return badBody("", "Request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return badBody("", "Request body has data after the JSON object")
	}
	return nil
}

// decodeObject strictly decodes raw, the value of the object field field,
// into v; errors name fields by their full path ("restriction.ops").
func decodeObject(raw json.RawMessage, v any, field string) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return badBody(field, "Field %q must be an object", field)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, field+".")
	}
	return nil
}

// jsonError turns a decoding error into a 400 naming the field at fault,
// prefixed with prefix for nested objects.
func jsonError(err error, prefix ...string) error {
	p := strings.Join(prefix, "")
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return badBody(p+te.Field, "Field %q must be %s, not %s", p+te.Field, jsonKind(te.Type.Kind().String()), te.Value)
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		name, _ := strconv.Unquote(strings.TrimPrefix(msg, "json: unknown field "))
		return badBody(p+name, "Unknown field %q", p+name)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return badBody("", "Request body is not valid JSON: %v (at byte %d)", se, se.Offset)
	}
	return badBody("", "Request body is not valid JSON for this endpoint: %v", err)
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	}
	return "a number"
}

// notFound is a 404 naming what was missing.
func notFound(format string, args ...any) error {
	return herald.Errorf(herald.CodeNotFound, format, args...)
}

// conflict is a 409 for a request the resource's state forbids.
func conflict(format string, args ...any) error {
	return herald.Errorf(herald.CodeBadRequest, format, args...).WithStatus(http.StatusConflict)
}
