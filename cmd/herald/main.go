// Command herald runs and administers a Herald server: a self-hosted,
// Ably-compatible realtime messaging server.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "herald:", err)
		os.Exit(1)
	}
}
