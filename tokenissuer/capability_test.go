package tokenissuer_test

import (
	"strings"
	"testing"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/tokenissuer"
)

// capabilityCases are capability texts both parsers see; Herald's
// auth.ParseCapability is the reference for valid or not and for the
// canonical form.
var capabilityCases = []string{
	`{"*":["*"]}`,
	`{"[*]*":["*"]}`,
	`{"chat:*":["subscribe","publish","presence"]}`,
	`{"b":["publish"],"a":["subscribe","subscribe"]}`,
	`{"[meta]log":["subscribe"],"[queue]q":["subscribe"],"[?rewind=1]x":["subscribe"],"[meta?a=b]y":["history"]}`,
	`{"foo:*:baz":["channel-metadata","stats","push-admin","push-subscribe","privileged-headers"]}`,
	`{"x":["object-publish","object-subscribe","annotation-publish","annotation-subscribe"]}`,
	`{"x":["message-update-own","message-update-any","message-delete-own","message-delete-any"]}`,
	`{"quote\"d":["history"],"tab\there":["history"],"<&>":["publish"],"é":["publish"]}`,
	` { "spaced" : [ "publish" ] } `,
	`{"foo*":["publish"]}`,
	// invalid
	``, `null`, `[]`, `{}`, `"x"`, `{"a":"publish"}`, `{"a":[1]}`, `{"a":[]}`, `{"a":null}`,
	`{"a":["*","publish"]}`, `{"a":["publish_"]}`, `{"a":["object-*"]}`, `{"a":["PUBLISH"]}`,
	`{"":["publish"]}`, `{":a":["publish"]}`, `{"[foo]a":["publish"]}`, `{"[meta]":["publish"]}`,
	`{"[meta":["publish"]}`, `{"[meta]:a":["publish"]}`, `{"[meta][queue]a":["publish"]}`,
	`{"a\nb":["publish"]}`, `{"a":["publish"],"a":["subscribe"]}`, `{"a":["publish"]} x`, `{"a":["publish"]`,
	`{"` + strings.Repeat("r", 2049) + `":["publish"]}`,
}

// TestParseCapability_MatchesHerald checks that this package accepts
// exactly the capabilities Herald accepts, and writes Herald's canonical
// form.
func TestParseCapability_MatchesHerald(t *testing.T) {
	for _, s := range capabilityCases {
		name := s
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			want, herr := auth.ParseCapability(s)
			got, err := tokenissuer.ParseCapability(s)
			if (herr == nil) != (err == nil) {
				t.Fatalf("Herald err %v, ours %v", herr, err)
			}
			if err != nil {
				if e := herald.AsError(err); e.Code != 40000 || e.StatusCode != 400 {
					t.Errorf("error %v, want 40000/400", err)
				}
				return
			}
			canon, err := got.Canonical()
			if err != nil {
				t.Fatal(err)
			}
			if canon != want.Canonical() {
				t.Errorf("canonical\n got %s\nwant %s", canon, want.Canonical())
			}
		})
	}
}

func TestCapability_Canonical(t *testing.T) {
	c := tokenissuer.Capability{"notifications": {"subscribe"}, "chat:alice": {"subscribe", "publish", "presence", "publish"}}
	got, err := c.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"chat:alice":["presence","publish","subscribe"],"notifications":["subscribe"]}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if err := (tokenissuer.Capability(nil)).Validate(); err == nil {
		t.Error("nil capability validated")
	}
}

func FuzzParseCapability(f *testing.F) {
	for _, s := range capabilityCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, herr := auth.ParseCapability(s)
		got, err := tokenissuer.ParseCapability(s)
		if (herr == nil) != (err == nil) {
			t.Fatalf("%q: Herald err %v, ours %v", s, herr, err)
		}
		if err != nil {
			return
		}
		if canon, _ := got.Canonical(); canon != want.Canonical() {
			t.Fatalf("%q: canonical %s, Herald %s", s, canon, want.Canonical())
		}
	})
}
