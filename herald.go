// Package herald holds Herald's domain: apps, API keys, the Ably-style error
// type and its code table, and the small role interfaces (stores, clock) that
// the adapters implement and the auth, hub and transport packages consume.
//
// Herald is a self-hosted server that implements Ably's authentication model
// and realtime protocol so the official Ably SDKs connect to it unchanged.
// Nothing in this package does I/O; see ../shared/STYLE.md for the layout.
package herald
