package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/switchyard/switchyard/server/cli"
)

const gatewayCommands = `
Commands:
  keys       create, list, get, update, rotate and revoke client keys
  usage      report usage grouped by key, provider, model, day or route
  config     get, set, list the history of or roll back the routing section
  providers  list providers, add and remove provider API keys
  help       show this help, or a command's (switchyard help keys)

`

// gatewayUsage renders the gateway's usage from its flag set, the one
// place the flags are declared.
func gatewayUsage() string {
	fs, _ := gatewayFlags(func(string) string { return "" })
	var synopsis, lines []string
	width := 0
	fs.VisitAll(func(f *flag.Flag) {
		arg, _ := flag.UnquoteUsage(f)
		if arg == "value" || isBoolFlag(f) {
			arg = ""
		}
		spec := strings.TrimSpace("--" + f.Name + " " + arg)
		synopsis = append(synopsis, "["+spec+"]")
		lines = append(lines, spec)
		width = max(width, len(spec))
	})
	var b strings.Builder
	b.WriteString("usage: switchyard " + strings.Join(synopsis, " ") + "\n")
	b.WriteString("       switchyard <command> [flags]\n\nWithout a command, switchyard starts the gateway.\n")
	i := 0
	fs.VisitAll(func(f *flag.Flag) {
		_, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(&b, "  %-*s  %s\n", width, lines[i], usage)
		i++
	})
	b.WriteString(gatewayCommands)
	return b.String()
}

func isBoolFlag(f *flag.Flag) bool {
	bf, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && bf.IsBoolFlag()
}

// printHelp prints the gateway's help, or one command's, to stdout and
// returns the exit code.
func printHelp(stdout, stderr io.Writer, args []string) int {
	if len(args) == 0 || cli.IsHelp(args[0]) {
		fmt.Fprint(stdout, gatewayUsage()+cli.Usage)
		return 0
	}
	if !cli.IsCommand(args[0]) {
		fmt.Fprintf(stderr, "switchyard: unknown command %q\n\n%s", args[0], gatewayUsage())
		return 2
	}
	cli.CommandHelp(stdout, args[0])
	return 0
}
