package auth

// CoversForTest reports whether resource a matches every channel resource b
// matches; both must be valid. It exposes the intersection's covering test.
func CoversForTest(a, b string) bool {
	pa, ra := parseResPattern(a)
	pb, rb := parseResPattern(b)
	if ra != "" || rb != "" {
		panic("CoversForTest: invalid pattern " + a + " " + b)
	}
	return patternCovers(&pa, &pb)
}

// MeetForTest is Intersect without its shortcut for a request covering the
// key, so that tests reach the pairwise meet even for x ∩ x.
var MeetForTest = meetCapabilities
