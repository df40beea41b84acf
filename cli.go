package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/revox-graphql/gateway/internal/telemetry"
)

// The commands of the binary.
const (
	cmdServe   = "serve"
	cmdSchema  = "schema"
	cmdSandbox = "sandbox"
	cmdHelp    = "help"
)

// usageError is a command line the binary does not understand; main exits
// with status 2 for it, as flag.ExitOnError does.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg + " (see gateway --help)" }

// invocation is a parsed command line.
type invocation struct {
	cmd        string
	federation bool // schema --federation
}

// parseArgs reads the command and its flags. No command is serve; -h,
// --help and help ask for the help; anything unknown is a usageError.
func parseArgs(args []string) (invocation, error) {
	inv := invocation{cmd: cmdServe}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		inv.cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet(inv.cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	switch inv.cmd {
	case cmdSchema:
		fs.BoolVar(&inv.federation, "federation", false, "")
	case cmdServe, cmdSandbox, cmdHelp:
	default:
		return inv, &usageError{fmt.Sprintf("unknown command %q (want serve, schema, sandbox or help)", inv.cmd)}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return invocation{cmd: cmdHelp}, nil
		}
		return inv, &usageError{inv.cmd + ": " + err.Error()}
	}
	if fs.NArg() > 0 {
		return inv, &usageError{fmt.Sprintf("%s: unexpected argument %q", inv.cmd, fs.Arg(0))}
	}
	return inv, nil
}

// writeHelp prints the commands and every setting with its default, from
// the same reads loadConfig makes.
func writeHelp(w io.Writer) error {
	r := &envReader{getenv: func(string) string { return "" }}
	readConfig(cmdSandbox, r)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprint(tw, `Revox GraphQL gateway.

Usage:
  gateway [serve]              serve the GraphQL API (on the embedded sandbox when REVOX_API_KEY is unset)
  gateway schema               print the client schema (SDL without federation directives)
  gateway schema --federation  print the subgraph SDL, as _service { sdl } returns it
  gateway sandbox              serve only the sandbox upstream (key sk_sandbox_demo)
  gateway help                 print this help (also -h, --help)

Settings (environment variables):
  NAME	DEFAULT	MEANING
`)
	var sandboxOnly []setting
	for _, s := range r.read {
		if s.Sandbox {
			sandboxOnly = append(sandboxOnly, s)
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Name, s.Default, s.Meaning)
	}
	// Read by the OpenTelemetry SDK (internal/telemetry), not by loadConfig.
	for _, s := range []setting{
		{Name: "OTEL_EXPORTER_OTLP_ENDPOINT", Default: "unset", Meaning: "turns on OpenTelemetry tracing over OTLP/HTTP; the other OTEL_EXPORTER_OTLP_* variables apply"},
		{Name: "OTEL_TRACES_EXPORTER", Default: "unset", Meaning: "otlp turns tracing on, none keeps it off"},
		{Name: "OTEL_SERVICE_NAME", Default: telemetry.DefaultServiceName, Meaning: "service.name of the spans"},
		{Name: "OTEL_SDK_DISABLED", Default: "false", Meaning: "true turns tracing off whatever else is set"},
	} {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Name, s.Default, s.Meaning)
	}
	fmt.Fprint(tw, "\nSettings of the sandbox command:\n")
	for _, s := range sandboxOnly {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Name, s.Default, s.Meaning)
	}
	return tw.Flush()
}
