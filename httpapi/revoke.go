package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

// Revoker pushes new revocation rules to live connections (the realtime
// endpoint implements it): connections on a revoked token get AUTH at once
// when there is a reauth margin, and DISCONNECTED 40141 at appliesAt.
type Revoker interface {
	ApplyRevocations(appID string, rules []*herald.Revocation)
}

// Auditor records entries in the audit log. Record must not fail the
// request: it logs its own errors.
type Auditor interface {
	Record(ctx context.Context, e *herald.AuditEntry)
}

// ReauthMargin is how long allowReauthMargin delays enforcement (Ably: ~30 s).
const ReauthMargin = 30 * time.Second

type revokeRequest struct {
	Targets           []string        `json:"targets"`
	IssuedBefore      json.RawMessage `json:"issuedBefore"`
	AllowReauthMargin bool            `json:"allowReauthMargin"`
}

type revokeResult struct {
	Target       string        `json:"target"`
	IssuedBefore int64         `json:"issuedBefore,omitempty"`
	AppliesAt    int64         `json:"appliesAt,omitempty"`
	Error        *herald.Error `json:"error,omitempty"`
}

// revokeTokens answers POST /keys/{keyName}/revokeTokens (RSA17, ably-auth
// §6): Basic auth with that key only (token auth 40162, another key 40133),
// a key with revocableTokens (40163), 1-100 targets.
func (h *Handler) revokeTokens(w http.ResponseWriter, r *http.Request) error {
	keyName := r.PathValue("keyName")
	p, err := h.authenticate(r)
	if err != nil {
		return err
	}
	switch {
	case p.Method != auth.MethodBasic:
		return herald.NewError(herald.CodeBasicAuthRequired,
			"Revoking tokens needs Basic authentication with the key that issued them; token authentication cannot revoke")
	case p.KeyName != keyName:
		return herald.Errorf(herald.CodeWrongKeyForRevocation,
			"Can only revoke tokens using the same key that issued them: authenticated with %q, revoking for %q", p.KeyName, keyName)
	case !p.Key.RevocableTokens:
		return herald.Errorf(herald.CodeKeyNotRevocable,
			"Key %q does not permit revocable tokens: enable revocableTokens on the key; only tokens issued after that can be revoked", keyName)
	}
	var req revokeRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if len(req.Targets) == 0 || len(req.Targets) > auth.MaxRevocationTargets {
		return herald.Errorf(herald.CodeInvalidRequestBody, "targets must hold 1 to %d entries of the form type:value", auth.MaxRevocationTargets)
	}
	now := h.deps.Clock.Now()
	issuedBefore := now
	if len(req.IssuedBefore) > 0 && string(req.IssuedBefore) != "null" {
		ms, err := decimalField(req.IssuedBefore, "issuedBefore")
		if err != nil {
			return err
		}
		t, err := msParam(map[string][]string{"issuedBefore": {ms}}, "issuedBefore")
		if err != nil {
			return err
		}
		if t.After(now.Add(time.Second)) {
			return herald.NewError(herald.CodeInvalidParamValue, "Invalid issuedBefore: it is in the future")
		}
		if now.Sub(t) > auth.MaxRevocableTTL {
			return herald.NewError(herald.CodeInvalidParamValue,
				"Invalid issuedBefore: more than 1 hour ago; revocable tokens live at most 1 hour, so there is nothing older to revoke")
		}
		issuedBefore = t
	}
	appliesAt := now
	if req.AllowReauthMargin {
		appliesAt = now.Add(ReauthMargin)
	}
	results := make([]revokeResult, len(req.Targets))
	var rules []*herald.Revocation
	failures := 0
	for i, target := range req.Targets {
		results[i].Target = target
		typ, value, err := auth.ParseTarget(target)
		if err == nil && typ == herald.TargetChannel && !p.App.RevokeByChannel {
			err = herald.NewError(herald.CodeRevocationNotEnabled,
				"Revocation by channel is not enabled for this app (enable revokeByChannel on the app)")
		}
		if err != nil {
			results[i].Error = herald.AsError(err)
			failures++
			continue
		}
		results[i].IssuedBefore, results[i].AppliesAt = issuedBefore.UnixMilli(), appliesAt.UnixMilli()
		rules = append(rules, &herald.Revocation{
			AppID: p.AppID, KeyName: keyName, Type: typ, Value: value, IssuedBefore: issuedBefore,
			AppliesAt: appliesAt, Expires: issuedBefore.Add(auth.MaxRevocableTTL),
		})
	}
	if len(rules) > 0 {
		if err := h.deps.Store.AddRevocations(r.Context(), rules); err != nil {
			return err
		}
		h.deps.Auth.Revocations().Add(rules...)
		if h.deps.Revoker != nil {
			h.deps.Revoker.ApplyRevocations(p.AppID, rules)
		}
		h.auditRevocation(r, p.AppID, keyName, rules)
	}
	if apiVersion(r) >= 3 {
		return write(w, r, http.StatusCreated, map[string]any{
			"successCount": len(req.Targets) - failures, "failureCount": failures, "results": results,
		})
	}
	// Legacy shape (before protocol version 3): an array on success, 400
	// with 40020 and the per-target results on partial failure.
	if failures > 0 {
		e := herald.NewError(herald.CodeBatchPartialFailure, "")
		writeErrorHeaders(w, e)
		return write(w, r, http.StatusBadRequest, map[string]any{"error": e, "batchResponse": results})
	}
	return write(w, r, http.StatusCreated, results)
}

// auditRevocation records one audit entry per revokeTokens call: the targets
// (type:value, never a token), issuedBefore and appliesAt.
func (h *Handler) auditRevocation(r *http.Request, appID, keyName string, rules []*herald.Revocation) {
	if h.deps.Audit == nil {
		return
	}
	targets := make([]string, len(rules))
	for i, rule := range rules {
		targets[i] = rule.Type + ":" + rule.Value
	}
	details, _ := json.Marshal(map[string]any{
		"targets": targets, "issuedBefore": rules[0].IssuedBefore.UnixMilli(), "appliesAt": rules[0].AppliesAt.UnixMilli(),
	})
	h.deps.Audit.Record(r.Context(), &herald.AuditEntry{
		Time: h.deps.Clock.Now(), AppID: appID, Kind: herald.AuditTokensRevoke, Actor: "key:" + keyName,
		Target: keyName, Address: r.RemoteAddr, Count: len(rules), Details: string(details),
	})
}
