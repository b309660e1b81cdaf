package httpapi

import (
	"net/http"
	"net/url"
	"strings"
)

// link formats one Link header entry as ably-js parses it: exactly
// `<./name?query>; rel="rel"` (paginatedresource.ts parseRelLinks); the
// client re-issues the query on the same path.
func link(name string, q url.Values, rel string) string {
	return `<./` + name + `?` + q.Encode() + `>; rel="` + rel + `"`
}

func setLinks(w http.ResponseWriter, links []string) {
	w.Header().Set("Link", strings.Join(links, ", "))
}

func cloneQuery(q url.Values) url.Values {
	out := make(url.Values, len(q))
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}
