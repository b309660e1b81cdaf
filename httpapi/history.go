package httpapi

import (
	"net/http"
	"net/url"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/protocol"
)

// historyQuery reads the history parameters (RSL2b): start, end (ms,
// inclusive), direction (backwards by default), limit (default 100, max
// 1000), from_serial (untilAttach, RTL10b; fromSerial also accepted) and
// Herald's own page cursor.
func historyQuery(app, channel string, q url.Values) (herald.HistoryQuery, int, error) {
	hq := herald.HistoryQuery{AppID: app, Channel: channel}
	var err error
	if hq.Start, err = msParam(q, "start"); err != nil {
		return hq, 0, err
	}
	if hq.End, err = msParam(q, "end"); err != nil {
		return hq, 0, err
	}
	if !hq.Start.IsZero() && !hq.End.IsZero() && hq.End.Before(hq.Start) {
		return hq, 0, herald.NewError(herald.CodeInvalidParamValue, "Invalid time range: end is before start")
	}
	if hq.Forwards, err = directionParam(q); err != nil {
		return hq, 0, err
	}
	limit, err := limitParam(q)
	if err != nil {
		return hq, 0, err
	}
	hq.UntilSerial = q.Get("from_serial")
	if hq.UntilSerial == "" {
		hq.UntilSerial = q.Get("fromSerial")
	}
	if c := q.Get("cursor"); c != "" {
		if hq.Forwards {
			hq.AfterSerial = c
		} else {
			hq.BeforeSerial = c
		}
	}
	hq.Limit = limit + 1 // one more tells whether there is a next page
	return hq, limit, nil
}

// pageLinks sets first/current/next links; the next page continues from
// the last serial returned.
func pageLinks(w http.ResponseWriter, name string, q url.Values, hasNext bool, lastSerial string) {
	first := cloneQuery(q)
	first.Del("cursor")
	links := []string{link(name, first, "first"), link(name, q, "current")}
	if hasNext {
		nq := cloneQuery(q)
		nq.Set("cursor", lastSerial)
		links = append(links, link(name, nq, "next"))
	}
	setLinks(w, links)
}

// getHistory answers GET /channels/{channel}/messages. Needs history.
func (h *Handler) getHistory(w http.ResponseWriter, r *http.Request) error {
	p, err := h.authenticate(r)
	if err != nil {
		return err
	}
	name := r.PathValue("channel")
	if err := require(p, name, auth.OpHistory); err != nil {
		return err
	}
	q := r.URL.Query()
	hq, limit, err := historyQuery(p.AppID, name, q)
	if err != nil {
		return err
	}
	if err := h.deps.Hub.FlushHistory(r.Context()); err != nil {
		h.logger.Warn("history flush before read failed", "err", err)
	}
	msgs, err := h.deps.Store.Messages(r.Context(), hq)
	if err != nil {
		return err
	}
	hasNext := len(msgs) > limit
	if hasNext {
		msgs = msgs[:limit]
	}
	last := ""
	if len(msgs) > 0 {
		last = msgs[len(msgs)-1].Serial
	}
	pageLinks(w, "messages", q, hasNext, last)
	body, err := protocol.EncodeMessages(protocolFormat(responseFormat(r)), msgs)
	if err != nil {
		return err
	}
	return writeRaw(w, r, http.StatusOK, body)
}

// getPresenceHistory answers GET /channels/{channel}/presence/history.
// Needs history. Presence events page by their batch serial.
func (h *Handler) getPresenceHistory(w http.ResponseWriter, r *http.Request) error {
	p, err := h.authenticate(r)
	if err != nil {
		return err
	}
	name := r.PathValue("channel")
	if err := require(p, name, auth.OpHistory); err != nil {
		return err
	}
	q := r.URL.Query()
	hq, limit, err := historyQuery(p.AppID, name, q)
	if err != nil {
		return err
	}
	// Presence events share a serial per batch, so the cursor is a
	// position rather than a serial: page with an offset.
	hq.Limit, hq.AfterSerial, hq.BeforeSerial = 0, "", ""
	if err := h.deps.Hub.FlushHistory(r.Context()); err != nil {
		h.logger.Warn("history flush before read failed", "err", err)
	}
	events, err := h.deps.Store.PresenceHistory(r.Context(), hq)
	if err != nil {
		return err
	}
	offset := 0
	if c := q.Get("cursor"); c != "" {
		if offset, err = atoiNonNeg(c); err != nil {
			return herald.Errorf(herald.CodeInvalidParamValue, "Invalid cursor %q", c)
		}
	}
	if offset > len(events) {
		offset = len(events)
	}
	events = events[offset:]
	hasNext := len(events) > limit
	if hasNext {
		events = events[:limit]
	}
	pageLinks(w, "history", q, hasNext, itoaInt(offset+limit))
	body, err := protocol.EncodePresence(protocolFormat(responseFormat(r)), events)
	if err != nil {
		return err
	}
	return writeRaw(w, r, http.StatusOK, body)
}
