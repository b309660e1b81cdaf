package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/heraldrt/herald"
)

func asType[T any](err error, target *T) bool { return errors.As(err, target) }

// errorBody is the REST error envelope (HP6/HP7, protocol.md §B.4).
type errorBody struct {
	Error *herald.Error `json:"error"`
}

// writeError is the one place REST errors reach the wire: an *herald.Error
// goes out as is; anything else becomes 50000 with the detail only logged.
// X-Ably-Errorcode/-Errormessage repeat the code and message because ably-js
// falls back to them when it cannot parse a body.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	e := herald.AsError(err)
	if e.Code == herald.CodeInternal || e.StatusCode >= 500 {
		logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		logger.Debug("request refused", "method", r.Method, "path", r.URL.Path, "code", e.Code, "msg", e.Message)
	}
	writeErrorHeaders(w, e)
	if werr := write(w, r, e.StatusCode, errorBody{Error: e}); werr != nil {
		logger.Debug("writing error response failed", "err", werr)
	}
}

// headerSafe keeps a message usable as a header value (no control chars).
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

func writeErrorHeaders(w http.ResponseWriter, e *herald.Error) {
	w.Header().Set("X-Ably-Errorcode", strconv.Itoa(e.Code))
	w.Header().Set("X-Ably-Errormessage", headerSafe(e.Message))
}
