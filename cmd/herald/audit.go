package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/heraldrt/herald"
	"github.com/spf13/cobra"
)

// auditJSON is an audit entry as the CLI prints it (the Control API's
// shape).
type auditJSON struct {
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

func toAuditJSON(e *herald.AuditEntry) auditJSON {
	details := json.RawMessage("null")
	if e.Details != "" {
		details = json.RawMessage(e.Details)
	}
	return auditJSON{ID: e.ID, Time: e.Time.UnixMilli(), AppID: e.AppID, Kind: string(e.Kind), Actor: e.Actor,
		Target: e.Target, Code: e.Code, Address: e.Address, Count: e.Count, Details: details}
}

func newAuditCmd(g *globals) *cobra.Command {
	var (
		appID  string
		kinds  []string
		since  time.Duration
		before int64
		limit  int
	)
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show the audit log, newest first (key, app and access-token changes, token issues, revocations, auth failures)",
		Long: "Show the audit log, newest first. Token issues and authentication failures are counted per minute " +
			"by the running server and appear once their minute is over.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := herald.AuditQuery{AppID: appID, Before: before, Limit: limit}
			for _, k := range kinds {
				if !slices.Contains(herald.AuditKinds, herald.AuditKind(k)) {
					return fmt.Errorf("--kind: %q is not an audit kind (known: %v)", k, herald.AuditKinds)
				}
				q.Kinds = append(q.Kinds, herald.AuditKind(k))
			}
			if since > 0 {
				q.Start = time.Now().Add(-since)
			}
			return withStore(cmd, g, func(ctx context.Context, store herald.Store) error {
				entries, err := store.Audit(ctx, q)
				if err != nil {
					return err
				}
				err = printList(g, entries, toAuditJSON, "ID\tTIME\tKIND\tAPP\tACTOR\tTARGET\tCOUNT\tCODE\tADDRESS\tDETAILS",
					func(w io.Writer, e *herald.AuditEntry) {
						code := ""
						if e.Code != 0 {
							code = strconv.Itoa(e.Code)
						}
						fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", e.ID, formatTime(e.Time), e.Kind, dash(e.AppID),
							dash(e.Actor), dash(e.Target), e.Count, dash(code), dash(e.Address), dash(e.Details))
					})
				if err != nil {
					return err
				}
				// Only under the table: --json output stays a bare array.
				if !g.json && limit > 0 && len(entries) == limit {
					fmt.Fprintf(os.Stderr, "More entries may follow: add --before %d\n", entries[len(entries)-1].ID)
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&appID, "app", "", "only this app's entries (default: every entry)")
	f.StringSliceVar(&kinds, "kind", nil, "only these kinds, comma-separated (e.g. key.rotate,auth.failure)")
	f.DurationVar(&since, "since", 0, "only entries this recent, e.g. 24h (0: all)")
	f.Int64Var(&before, "before", 0, "only entries with an id below this (the next page)")
	f.IntVar(&limit, "limit", 50, "the most entries shown (0: all)")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
