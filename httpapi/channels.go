package httpapi

import (
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/protocol"
)

func protocolFormat(f Format) protocol.Format {
	if f == FormatMsgpack {
		return protocol.Msgpack
	}
	return protocol.JSON
}

// writeRaw sends an already encoded body in the client's format.
func writeRaw(w http.ResponseWriter, r *http.Request, status int, body []byte) error {
	w.Header().Set("Content-Type", responseFormat(r).contentType())
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

// readMessages decodes a REST publish body: one message or an array, JSON
// or msgpack by Content-Type, binary payloads transcoded (protocol.md §F).
func readMessages(r *http.Request) ([]*herald.Message, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, herald.NewError(herald.CodeInvalidRequestBody, "Could not read the request body")
	}
	if len(body) > MaxBodyBytes {
		return nil, herald.Errorf(herald.CodeInvalidRequestBody, "Request body is larger than %d bytes", MaxBodyBytes)
	}
	msgs, err := protocol.DecodeMessages(protocolFormat(requestFormat(r)), body)
	if err != nil {
		return nil, herald.Errorf(herald.CodeInvalidRequestBody, "Invalid message body: %v", err)
	}
	if len(msgs) == 0 {
		return nil, herald.NewError(herald.CodeInvalidPublish, "Publish has no messages")
	}
	return msgs, nil
}

type publishResult struct {
	Channel   string   `json:"channel"`
	MessageID string   `json:"messageId,omitempty"`
	Serials   []string `json:"serials"`
}

// postMessages publishes on a channel (RSL1): one message or an array,
// clientId stamped from the identity or refused on mismatch (40012,
// nothing stored), userClaim from JWT channel claims, privileged extras
// only with privileged-headers. 201 with the serials; an empty body would
// make ably-js's publish() throw.
func (h *Handler) postMessages(w http.ResponseWriter, r *http.Request) error {
	p, err := h.authenticate(r)
	if err != nil {
		return err
	}
	name := r.PathValue("channel")
	msgs, err := readMessages(r)
	if err != nil {
		return err
	}
	serials, err := h.deps.Hub.Publish(p, name, msgs)
	if err != nil {
		return err
	}
	res := publishResult{Channel: name, Serials: serials}
	if msgs[0].ID != "" {
		res.MessageID, _, _ = strings.Cut(msgs[0].ID, ":")
	}
	return write(w, r, http.StatusCreated, res)
}

// require checks op on a channel and returns the engine's explanation as
// a 40160 when it is not granted.
func require(p *auth.Principal, channel string, op auth.Op) error {
	if err := auth.ValidateChannelName(channel); err != nil {
		return err
	}
	if p.Capability == nil {
		return herald.Errorf(herald.CodeCapabilityDenied, "%s denied on %q: the credential has no capability", op, channel)
	}
	if !p.Capability.Allows(channel, op) {
		return p.Capability.DeniedError(channel, op)
	}
	return nil
}

// getChannel answers GET /channels/{channel} with ChannelDetails (CHD1,
// CHS1, CHO1, CHM1). Needs channel-metadata.
func (h *Handler) getChannel(w http.ResponseWriter, r *http.Request) error {
	p, err := h.authenticate(r)
	if err != nil {
		return err
	}
	name := r.PathValue("channel")
	if err := require(p, name, auth.OpChannelMetadata); err != nil {
		return err
	}
	return write(w, r, http.StatusOK, h.channelDetails(p.AppID, name))
}

type occupancyMetrics struct {
	Connections         int `json:"connections"`
	Publishers          int `json:"publishers"`
	Subscribers         int `json:"subscribers"`
	PresenceConnections int `json:"presenceConnections"`
	PresenceMembers     int `json:"presenceMembers"`
	PresenceSubscribers int `json:"presenceSubscribers"`
}

type channelDetails struct {
	ChannelID string `json:"channelId"`
	Name      string `json:"name"`
	Status    struct {
		IsActive  bool `json:"isActive"`
		Occupancy struct {
			Metrics occupancyMetrics `json:"metrics"`
		} `json:"occupancy"`
	} `json:"status"`
}

func (h *Handler) channelDetails(app, name string) channelDetails {
	d := channelDetails{ChannelID: name, Name: name}
	if occ, ok := h.deps.Hub.Occupancy(app, name); ok {
		d.Status.IsActive = true
		d.Status.Occupancy.Metrics = occupancyMetrics{occ.Connections, occ.Publishers, occ.Subscribers,
			occ.PresenceConnections, occ.PresenceMembers, occ.PresenceSubscribers}
	}
	return d
}

// listChannels answers GET /channels: the active channels, enumeration
// needing channel-metadata on "*" (ably-auth §5.2). prefix filters, limit
// pages (default 100, max 1000), by=id lists names only.
func (h *Handler) listChannels(w http.ResponseWriter, r *http.Request) error {
	p, err := h.authenticate(r)
	if err != nil {
		return err
	}
	if err := requireAppWide(p, auth.OpChannelMetadata); err != nil {
		return err
	}
	q := r.URL.Query()
	limit, err := limitParam(q)
	if err != nil {
		return err
	}
	names := h.deps.Hub.Channels(p.AppID)
	sort.Strings(names)
	prefix, cursor := q.Get("prefix"), q.Get("cursor")
	var page []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) && n > cursor && len(page) <= limit {
			page = append(page, n)
		}
	}
	links := []string{link("channels", q, "current")}
	if len(page) > limit {
		page = page[:limit]
		nq := cloneQuery(q)
		nq.Set("cursor", page[len(page)-1])
		links = append(links, link("channels", nq, "next"))
	}
	setLinks(w, links)
	if q.Get("by") == "id" {
		return write(w, r, http.StatusOK, nonNilStrings(page))
	}
	out := make([]channelDetails, len(page))
	for i, n := range page {
		out[i] = h.channelDetails(p.AppID, n)
	}
	return write(w, r, http.StatusOK, out)
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// getPresence answers GET /channels/{channel}/presence (RSP3): current
// members (including provisioned fixtures), filtered by clientId and
// connectionId. Needs subscribe.
func (h *Handler) getPresence(w http.ResponseWriter, r *http.Request) error {
	p, err := h.authenticate(r)
	if err != nil {
		return err
	}
	name := r.PathValue("channel")
	if err := require(p, name, auth.OpSubscribe); err != nil {
		return err
	}
	q := r.URL.Query()
	limit, err := limitParam(q)
	if err != nil {
		return err
	}
	members := filterMembers(h.deps.Hub.Members(p.AppID, name), q)
	if len(members) > limit {
		members = members[:limit]
	}
	setLinks(w, []string{link("presence", q, "first"), link("presence", q, "current")})
	body, err := protocol.EncodePresence(protocolFormat(responseFormat(r)), members)
	if err != nil {
		return err
	}
	return writeRaw(w, r, http.StatusOK, body)
}

func filterMembers(ms []*herald.PresenceMessage, q url.Values) []*herald.PresenceMessage {
	cid, conn := q.Get("clientId"), q.Get("connectionId")
	out := ms[:0]
	for _, m := range ms {
		if (cid == "" || m.ClientID == cid) && (conn == "" || m.ConnectionID == conn) {
			out = append(out, m)
		}
	}
	return out
}
