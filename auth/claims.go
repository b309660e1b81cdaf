package auth

// ClaimSet holds JWT channel-scoped claims (ably.channel.<resource>), matched
// by the capability engine's "most specific resource wins" order.
type ClaimSet struct {
	patterns *PatternSet
	values   []string
}

// NewClaimSet compiles resource → value claims.
func NewClaimSet(claims map[string]string) (*ClaimSet, error) {
	if len(claims) == 0 {
		return nil, nil
	}
	res := make([]string, 0, len(claims))
	for r := range claims {
		res = append(res, r)
	}
	ps, err := NewPatternSet(res)
	if err != nil {
		return nil, err
	}
	vals := make([]string, ps.Len())
	for i := range vals {
		vals[i] = claims[ps.Pattern(i)]
	}
	return &ClaimSet{patterns: ps, values: vals}, nil
}

// Lookup returns the claim of the most specific resource matching channel.
func (s *ClaimSet) Lookup(channel string) (string, bool) {
	if s == nil {
		return "", false
	}
	i, ok := s.patterns.Match(channel)
	if !ok {
		return "", false
	}
	return s.values[i], true
}

// RateLimitSet holds per-attachment publish rate limits from JWT claims
// (ably.limits.publish.perAttachment.maxRate.<resource>), in messages/s.
type RateLimitSet struct {
	patterns *PatternSet
	rates    []float64
}

// NewRateLimitSet compiles resource → rate limits.
func NewRateLimitSet(limits map[string]float64) (*RateLimitSet, error) {
	if len(limits) == 0 {
		return nil, nil
	}
	res := make([]string, 0, len(limits))
	for r := range limits {
		res = append(res, r)
	}
	ps, err := NewPatternSet(res)
	if err != nil {
		return nil, err
	}
	rates := make([]float64, ps.Len())
	for i := range rates {
		rates[i] = limits[ps.Pattern(i)]
	}
	return &RateLimitSet{patterns: ps, rates: rates}, nil
}

// Lookup returns the rate limit of the most specific resource matching
// channel.
func (s *RateLimitSet) Lookup(channel string) (float64, bool) {
	if s == nil {
		return 0, false
	}
	i, ok := s.patterns.Match(channel)
	if !ok {
		return 0, false
	}
	return s.rates[i], true
}
