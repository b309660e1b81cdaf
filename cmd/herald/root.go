package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// globals are the flags every command shares.
type globals struct {
	dataDir    string
	configFile string
	json       bool
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "herald",
		Short:         "Herald: a self-hosted, Ably-compatible realtime messaging server",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return applyConfig(cmd)
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.dataDir, "data-dir", "herald-data", "directory of the embedded SQLite store")
	pf.StringVar(&g.configFile, "config", "", "JSON config file whose keys are flag names (flags > HERALD_* env > file > defaults)")
	pf.BoolVar(&g.json, "json", false, "print machine-readable JSON")
	root.AddCommand(newServeCmd(g), newAppsCmd(g), newKeysCmd(g), newTokenCmd(g), newAuthCmd(g), newAuthServerCmd(g),
		newAccessTokensCmd(g), newAuditCmd(g))
	return root
}

// applyConfig fills every flag the user did not set on the command line:
// first from the environment (HERALD_ + upper-case name with '-' → '_'),
// then from the config file, leaving the default otherwise.
func applyConfig(cmd *cobra.Command) error {
	path := ""
	if f := cmd.Flag("config"); f != nil && f.Changed {
		path = f.Value.String()
	} else if env := os.Getenv("HERALD_CONFIG"); env != "" {
		path = env
	}
	file := map[string]any{}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read config file: %w", err)
		}
		if err := json.Unmarshal(b, &file); err != nil {
			return fmt.Errorf("config file %s is not a JSON object: %w", path, err)
		}
	}
	var firstErr error
	set := func(f *pflag.Flag) {
		if f.Changed || f.Name == "config" || firstErr != nil {
			return
		}
		env := "HERALD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if err := f.Value.Set(v); err != nil {
				firstErr = fmt.Errorf("environment %s: %w", env, err)
			}
			return
		}
		v, ok := file[f.Name]
		if !ok {
			return
		}
		var vals []string
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				vals = append(vals, fmt.Sprint(e))
			}
		case float64:
			vals = []string{strings.TrimSuffix(fmt.Sprintf("%f", x), ".000000")}
		default:
			vals = []string{fmt.Sprint(x)}
		}
		for _, s := range vals {
			if err := f.Value.Set(s); err != nil {
				firstErr = fmt.Errorf("config file key %q: %w", f.Name, err)
				return
			}
		}
	}
	cmd.Flags().VisitAll(set)
	cmd.InheritedFlags().VisitAll(set)
	return firstErr
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// printResult prints v as JSON under --json, else the formatted message.
func printResult(g *globals, v any, format string, args ...any) error {
	if g.json {
		return printJSON(v)
	}
	fmt.Printf(format, args...)
	return nil
}

// printList prints items under --json as a JSON array of their toJSON
// values, else as a table: the header line, then row's line for each item.
func printList[T, J any](g *globals, items []T, toJSON func(T) J, header string, row func(w io.Writer, item T)) error {
	if g.json {
		out := make([]J, len(items))
		for i, it := range items {
			out[i] = toJSON(it)
		}
		return printJSON(out)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, it := range items {
		row(tw, it)
	}
	return tw.Flush()
}
