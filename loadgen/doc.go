// Package loadgen is Herald's load generator: a raw Ably realtime client
// (JSON or MessagePack frames over gorilla/websocket, no SDK) and the
// scenarios cmd/herald-bench runs against a server on loopback.
//
// Scenarios: Connect (a connect storm: connect + auth + attach), Idle
// (memory per idle connection and heartbeat health), Fanout (one publisher
// to many subscribers per channel, latency from timestamps in the
// payload), Revoke (time until every connection on revoked tokens is
// DISCONNECTED with 40141) and RESTLoad (REST publish and requestToken).
// Every loop is bounded by a count and by Env.Timeout, and the target must
// be a loopback address.
//
// Server-side cost comes from /proc/<pid>/stat (utime + stime) and
// /proc/<pid>/status (VmRSS) of the server process when Env.Probe has its
// PID, sampled around each measured phase.
package loadgen
