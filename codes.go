package herald

// Ably error codes used by Herald. Their HTTP status and default message live
// in codeTable below, the single source of truth (nats-server keeps its codes
// as data the same way). Sources: ably/ably-common errors/codes, summarised in
// docs/errors.md; the exceptions to status = code/100 are listed there too.
const (
	CodeBadRequest          = 40000 // generic bad request
	CodeInvalidRequestBody  = 40001 // body missing fields or not parseable
	CodeInvalidParameter    = 40002 // unknown or disallowed parameter name
	CodeInvalidParamValue   = 40003 // bad parameter value (incl. ttl above max)
	CodeInvalidHeader       = 40004 // bad request header
	CodeInvalidCredential   = 40005 // key or token not even parseable
	CodeMessageTooLarge     = 40009 // 413
	CodeInvalidChannelName  = 40010
	CodeInvalidClientID     = 40012 // 400
	CodeBatchPartialFailure = 40020
	CodeInvalidPublish      = 40030
	CodeInvalidExtras       = 40032

	CodeUnauthorized          = 40100
	CodeInvalidCredentials    = 40101 // wrong secret, bad MAC, no credentials
	CodeIncompatibleClientID  = 40102
	CodeBasicAuthNonTLS       = 40103
	CodeTimestampNotCurrent   = 40104
	CodeNonceReplayed         = 40105
	CodeAppDisabled           = 40120
	CodeRevocationNotEnabled  = 40121
	CodeKeyNotRecognised      = 40130
	CodeKeyRevoked            = 40131
	CodeKeyExpired            = 40132
	CodeWrongKeyForRevocation = 40133
	CodeTokenError            = 40140
	CodeTokenRevoked          = 40141
	CodeTokenExpired          = 40142
	CodeTokenUnrecognised     = 40143
	CodeInvalidJWT            = 40144
	CodeInvalidToken          = 40145
	CodeConnectionLimit       = 40150
	CodeCapabilityDenied      = 40160
	CodeIdentifiedRequired    = 40161
	CodeBasicAuthRequired     = 40162
	CodeKeyNotRevocable       = 40163
	CodeModeNotRequested      = 40165
	CodeAnonymousOwnOnly      = 40166
	CodeTokenAuthRequired     = 40172

	CodeForbidden       = 40300
	CodeTLSRequired     = 40311
	CodeNoCredentials   = 40320
	CodeNotFound        = 40400
	CodeMethodNotAllow  = 40500
	CodeRateLimit       = 42910
	CodePublishRate     = 42911
	CodeFatalRateLimit  = 42920
	CodeInternal        = 50000
	CodeInternalChannel = 50001
	CodeUnavailable     = 50300
	CodeResumeFailed    = 80008
	CodeIncompatibleRec = 80011
	CodeConnectionLost  = 80003
	CodePresenceNoID    = 91000
)

type codeInfo struct {
	status  int
	message string
}

// codeTable maps each code Herald sends to its HTTP status and a default
// message. Statuses that break the code/100 convention are the documented
// exceptions (ably-auth §10 "Exceptions"); TestCodeTable checks the rest.
var codeTable = map[int]codeInfo{
	CodeBadRequest:          {400, "Bad request"},
	CodeInvalidRequestBody:  {400, "Invalid request body"},
	CodeInvalidParameter:    {400, "Invalid parameter name"},
	CodeInvalidParamValue:   {400, "Invalid parameter value"},
	CodeInvalidHeader:       {400, "Invalid header"},
	CodeInvalidCredential:   {400, "Invalid credential in request"},
	CodeMessageTooLarge:     {413, "Message too large"},
	CodeInvalidChannelName:  {400, "Invalid channel name"},
	CodeInvalidClientID:     {400, "Invalid clientId"},
	CodeBatchPartialFailure: {400, "Batched response includes errors"},
	CodeInvalidPublish:      {400, "Invalid publish request"},
	CodeInvalidExtras:       {400, "Invalid publish request (impermissible extras field)"},

	CodeUnauthorized:          {401, "Unauthorized"},
	CodeInvalidCredentials:    {401, "Invalid credentials"},
	CodeIncompatibleClientID:  {401, "Invalid clientId for credentials"},
	CodeBasicAuthNonTLS:       {401, "Invalid use of Basic authentication over non-TLS transport"},
	CodeTimestampNotCurrent:   {401, "Timestamp not current"},
	CodeNonceReplayed:         {401, "Nonce value replayed"},
	CodeAppDisabled:           {401, "Application disabled"},
	CodeRevocationNotEnabled:  {401, "Token revocation not enabled for this application"},
	CodeKeyNotRecognised:      {401, "API key not recognised"},
	CodeKeyRevoked:            {401, "Key/token status changed (revoke)"},
	CodeKeyExpired:            {401, "API key expired"},
	CodeWrongKeyForRevocation: {401, "Can only revoke tokens using the same key that issued them"},
	CodeTokenError:            {401, "Token error"},
	CodeTokenRevoked:          {401, "Token revoked"},
	CodeTokenExpired:          {401, "Token expired"},
	CodeTokenUnrecognised:     {401, "Token unrecognised"},
	CodeInvalidJWT:            {401, "Invalid JWT"},
	CodeInvalidToken:          {401, "Invalid token"},
	CodeConnectionLimit:       {401, "Connection limit reached"},
	CodeCapabilityDenied:      {401, "Operation not permitted with provided capability"},
	CodeIdentifiedRequired:    {401, "Operation requires an identified client"},
	CodeBasicAuthRequired:     {401, "Operation requires Basic authentication"},
	CodeKeyNotRevocable:       {401, "Key not marked as permitting revocable tokens"},
	CodeModeNotRequested:      {401, "Operation not permitted: channel mode not requested at attach"},
	CodeAnonymousOwnOnly:      {401, "Anonymous clients cannot use the *-own capabilities"},
	CodeTokenAuthRequired:     {401, "Operation requires token authentication"},

	CodeForbidden:       {403, "Forbidden"},
	CodeTLSRequired:     {403, "Application requires TLS"},
	CodeNoCredentials:   {403, "No authentication credentials supplied"},
	CodeNotFound:        {404, "Not found"},
	CodeMethodNotAllow:  {405, "Method not allowed"},
	CodeRateLimit:       {429, "Rate limit exceeded"},
	CodePublishRate:     {429, "Rate limit exceeded; request rejected (nonfatal)"},
	CodeFatalRateLimit:  {429, "Rate limit exceeded; connection closed (fatal)"},
	CodeInternal:        {500, "Internal error"},
	CodeInternalChannel: {500, "Internal channel error"},
	CodeUnavailable:     {503, "Service unavailable"},
	CodeConnectionLost:  {500, "Connection lost"},
	CodeResumeFailed:    {400, "Unable to recover connection: connection expired"},
	CodeIncompatibleRec: {400, "Unable to recover connection: incompatible auth params"},
	CodePresenceNoID:    {400, "Unable to enter presence channel (no clientId)"},
}

// StatusFor returns the HTTP status for code: the table's, or code/100 for a
// 4xxxx/5xxxx code the table lacks, or 500 for anything else.
func StatusFor(code int) int {
	if c, ok := codeTable[code]; ok {
		return c.status
	}
	if code >= 40000 && code < 60000 {
		return code / 100
	}
	return 500
}

// DefaultMessage returns the table's message for code, or "Error" when absent.
func DefaultMessage(code int) string {
	if c, ok := codeTable[code]; ok {
		return c.message
	}
	return "Error"
}

// Codes returns every code in the table, for tests and docs.
func Codes() []int {
	out := make([]int, 0, len(codeTable))
	for c := range codeTable {
		out = append(out, c)
	}
	return out
}
