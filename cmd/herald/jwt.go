package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newJWTCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "jwt",
		Short: "Mint an Ably JWT signed with a key",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return errors.New("not available yet")
		},
	}
}
