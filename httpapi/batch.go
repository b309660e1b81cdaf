package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/protocol"
	"github.com/vmihailenco/msgpack/v5"
)

func atoiNonNeg(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, herald.NewError(herald.CodeInvalidParamValue, "not a non-negative integer")
	}
	return n, nil
}

func itoaInt(n int) string { return strconv.Itoa(n) }

// batchSpec is one entry of a batch publish (BSP2a): channels and the
// messages, kept encoded in the request's format so that binary payloads
// of msgpack clients survive (protocol.md §F).
type batchSpec struct {
	Channels []string
	Messages []byte
}

// readBatchSpecs reads one spec or an array of them, in JSON or msgpack.
func readBatchSpecs(r *http.Request) ([]batchSpec, protocol.Format, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil || len(body) > MaxBodyBytes {
		return nil, 0, herald.Errorf(herald.CodeInvalidRequestBody, "Request body is missing or larger than %d bytes", MaxBodyBytes)
	}
	format := protocolFormat(requestFormat(r))
	var generic any
	if format == protocol.Msgpack {
		err = msgpack.Unmarshal(body, &generic)
	} else {
		err = json.Unmarshal(body, &generic)
	}
	if err != nil {
		return nil, 0, herald.Errorf(herald.CodeInvalidRequestBody, "Invalid batch body: %v", err)
	}
	list, ok := generic.([]any)
	if !ok {
		list = []any{generic}
	}
	if len(list) == 0 || len(list) > maxBatchSpecs {
		return nil, 0, herald.Errorf(herald.CodeInvalidRequestBody, "A batch needs 1 to %d specs", maxBatchSpecs)
	}
	specs := make([]batchSpec, len(list))
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, 0, herald.Errorf(herald.CodeInvalidRequestBody, "Batch spec %d must be an object with channels and messages", i)
		}
		chs, ok := m["channels"].([]any)
		if !ok {
			one, isStr := m["channels"].(string)
			if !isStr {
				return nil, 0, herald.Errorf(herald.CodeInvalidRequestBody, "Batch spec %d: channels must be an array of channel names", i)
			}
			chs = []any{one}
		}
		for _, c := range chs {
			name, ok := c.(string)
			if !ok {
				return nil, 0, herald.Errorf(herald.CodeInvalidRequestBody, "Batch spec %d: channels must be strings", i)
			}
			specs[i].Channels = append(specs[i].Channels, name)
		}
		if format == protocol.Msgpack {
			specs[i].Messages, err = msgpack.Marshal(m["messages"])
		} else {
			specs[i].Messages, err = json.Marshal(m["messages"])
		}
		if err != nil {
			return nil, 0, herald.Errorf(herald.CodeInvalidRequestBody, "Batch spec %d: invalid messages", i)
		}
	}
	return specs, format, nil
}

type batchResultItem struct {
	Channel   string        `json:"channel"`
	MessageID string        `json:"messageId,omitempty"`
	Serials   []string      `json:"serials,omitempty"`
	Error     *herald.Error `json:"error,omitempty"`
}

type batchResult struct {
	SuccessCount int               `json:"successCount"`
	FailureCount int               `json:"failureCount"`
	Results      []batchResultItem `json:"results"`
}

// Batch limits (Herald's; Ably documents 100 channels per spec).
const maxBatchSpecs, maxBatchChannels = 100, 100

// postBatch answers POST /messages (batch publish, RSC22): each spec's
// messages go to each of its channels, each checked on its own; the answer
// is one BatchResult per spec, 201 even when some channels failed.
func (h *Handler) postBatch(w http.ResponseWriter, r *http.Request) error {
	p, err := h.authenticate(r)
	if err != nil {
		return err
	}
	specs, format, err := readBatchSpecs(r)
	if err != nil {
		return err
	}
	out := make([]batchResult, len(specs))
	for i, spec := range specs {
		if len(spec.Channels) == 0 || len(spec.Channels) > maxBatchChannels {
			return herald.Errorf(herald.CodeInvalidRequestBody, "Batch spec %d needs 1 to %d channels", i, maxBatchChannels)
		}
		out[i].Results = make([]batchResultItem, 0, len(spec.Channels))
		for _, ch := range spec.Channels {
			// Each channel gets its own copy: the pipeline stamps ids,
			// serials and claims on the messages it publishes.
			msgs, err := protocol.DecodeMessages(format, spec.Messages)
			if err == nil && len(msgs) == 0 {
				err = herald.NewError(herald.CodeInvalidPublish, "Publish has no messages")
			}
			if err != nil {
				return herald.Errorf(herald.CodeInvalidRequestBody, "Batch spec %d has invalid messages: %v", i, err)
			}
			serials, err := h.deps.Hub.Publish(p, ch, msgs)
			item := batchResultItem{Channel: ch}
			if err != nil {
				item.Error = herald.AsError(err)
				out[i].FailureCount++
			} else {
				item.Serials = serials
				if msgs[0].ID != "" {
					item.MessageID, _, _ = strings.Cut(msgs[0].ID, ":")
				}
				out[i].SuccessCount++
			}
			out[i].Results = append(out[i].Results, item)
		}
	}
	return write(w, r, http.StatusCreated, out)
}

type batchPresenceItem struct {
	Channel  string        `json:"channel"`
	Presence *[]any        `json:"presence,omitempty"`
	Error    *herald.Error `json:"error,omitempty"`
}

// getBatchPresence answers GET /presence?channels=a,b (RSC24): the members
// of each channel, each checked for subscribe on its own.
func (h *Handler) getBatchPresence(w http.ResponseWriter, r *http.Request) error {
	p, err := h.authenticate(r)
	if err != nil {
		return err
	}
	list := r.URL.Query().Get("channels")
	if list == "" {
		return herald.NewError(herald.CodeInvalidParameter, "The channels parameter is required (comma-separated channel names)")
	}
	names := strings.Split(list, ",")
	if len(names) > maxBatchChannels {
		return herald.Errorf(herald.CodeInvalidParamValue, "At most %d channels per batch presence request", maxBatchChannels)
	}
	res := struct {
		SuccessCount int                 `json:"successCount"`
		FailureCount int                 `json:"failureCount"`
		Results      []batchPresenceItem `json:"results"`
	}{Results: make([]batchPresenceItem, 0, len(names))}
	for _, n := range names {
		item := batchPresenceItem{Channel: n}
		if err := require(p, n, auth.OpSubscribe); err != nil {
			item.Error = herald.AsError(err)
			res.FailureCount++
		} else {
			body, err := protocol.EncodePresence(protocol.JSON, h.deps.Hub.Members(p.AppID, n))
			if err != nil {
				return err
			}
			// Embed the members as plain values so that the response's
			// own format (JSON or msgpack) carries them as objects.
			members := []any{}
			if err := json.Unmarshal(body, &members); err != nil {
				return err
			}
			item.Presence = &members
			res.SuccessCount++
		}
		res.Results = append(res.Results, item)
	}
	return write(w, r, http.StatusOK, res)
}
