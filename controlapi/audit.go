package controlapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldrt/herald"
)

// Audit log pages (Herald's extension; docs/decisions.md "Audit
// log"): newest first, with a Link rel="next" header when more may follow,
// as Ably's paginated REST resources do.
const (
	defaultAuditLimit = 100
	maxAuditLimit     = 1000
)

// auditResponse is one audit entry on the wire. Times are ms.
type auditResponse struct {
	ID      int64           `json:"id"`
	Time    int64           `json:"time"`
	AppID   string          `json:"appId"`
	Kind    string          `json:"kind"`
	Actor   string          `json:"actor"`
	Target  string          `json:"target"`
	Code    int             `json:"code,omitempty"`
	Address string          `json:"address,omitempty"`
	Count   int             `json:"count"`
	Details json.RawMessage `json:"details"`
}

func toAuditResponse(e *herald.AuditEntry) auditResponse {
	details := json.RawMessage("null")
	if e.Details != "" && json.Valid([]byte(e.Details)) {
		details = json.RawMessage(e.Details)
	}
	return auditResponse{ID: e.ID, Time: e.Time.UnixMilli(), AppID: e.AppID, Kind: string(e.Kind), Actor: e.Actor,
		Target: e.Target, Code: e.Code, Address: e.Address, Count: e.Count, Details: details}
}

// appAudit answers GET /v1/apps/{appID}/audit: the app's entries.
func (h *Handler) appAudit(w http.ResponseWriter, r *http.Request, tok *herald.AccessToken) error {
	app, err := h.app(r.Context(), tok, r.PathValue("appID"))
	if err != nil {
		return err
	}
	return h.audit(w, r, app.ID)
}

// accountAudit answers GET /v1/accounts/{accountID}/audit: every entry,
// including account-level ones (access tokens, credentials naming no app)
// and those of deleted apps.
func (h *Handler) accountAudit(w http.ResponseWriter, r *http.Request, tok *herald.AccessToken) error {
	if err := h.account(r, tok); err != nil {
		return err
	}
	return h.audit(w, r, "")
}

// audit serves one page. Query parameters: kind (repeatable or
// comma-separated), start and end (ms, inclusive), limit (1-1000, default
// 100) and before (the id cursor the next link carries).
func (h *Handler) audit(w http.ResponseWriter, r *http.Request, appID string) error {
	q, err := auditQuery(r.URL.Query())
	if err != nil {
		return err
	}
	q.AppID = appID
	entries, err := h.deps.Store.Audit(r.Context(), q)
	if err != nil {
		return err
	}
	out := make([]auditResponse, len(entries))
	for i, e := range entries {
		out[i] = toAuditResponse(e)
	}
	if len(entries) == q.Limit {
		next := r.URL.Query()
		next.Set("before", strconv.FormatInt(entries[len(entries)-1].ID, 10))
		w.Header().Set("Link", "<"+r.URL.Path+"?"+next.Encode()+`>; rel="next"`)
	}
	return writeJSON(w, http.StatusOK, out)
}

func auditQuery(params url.Values) (herald.AuditQuery, error) {
	q := herald.AuditQuery{Limit: defaultAuditLimit}
	for _, v := range params["kind"] {
		for _, k := range strings.Split(v, ",") {
			kind := herald.AuditKind(strings.TrimSpace(k))
			if !slices.Contains(herald.AuditKinds, kind) {
				names := make([]string, len(herald.AuditKinds))
				for i, k := range herald.AuditKinds {
					names[i] = string(k)
				}
				return q, invalid("kind", "%q is not an audit kind (known: %s)", kind, strings.Join(names, ", "))
			}
			if !slices.Contains(q.Kinds, kind) {
				q.Kinds = append(q.Kinds, kind)
			}
		}
	}
	var err error
	if q.Start, err = msParam(params, "start"); err != nil {
		return q, err
	}
	if q.End, err = msParam(params, "end"); err != nil {
		return q, err
	}
	if !q.Start.IsZero() && !q.End.IsZero() && q.End.Before(q.Start) {
		return q, invalid("end", "is before start")
	}
	if s := params.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxAuditLimit {
			return q, invalid("limit", "must be a whole number from 1 to %d", maxAuditLimit)
		}
		q.Limit = n
	}
	if s := params.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return q, invalid("before", "must be a positive entry id")
		}
		q.Before = n
	}
	return q, nil
}

// msParam reads an optional ms timestamp parameter.
func msParam(params url.Values, name string) (time.Time, error) {
	s := params.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms < 0 {
		return time.Time{}, invalid(name, "must be a time in milliseconds since the epoch")
	}
	return time.UnixMilli(ms), nil
}
