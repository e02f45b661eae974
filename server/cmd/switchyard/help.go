package main

import (
	"fmt"
	"io"
	"strings"
)

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

const gatewayUsage = `usage: switchyard [--config FILE] [--listen HOST:PORT] [--check] [--version]
       switchyard <command> [flags]

Without a command, switchyard starts the gateway.
  --config FILE       YAML config file (env SWITCHYARD_CONFIG); empty uses the embedded default
  --listen HOST:PORT  listen address (overrides the config's listen; default 127.0.0.1:8080)
  --check             validate the config, print a summary and exit
  --version           print the version and exit

Commands:
  keys       create, list, get, update, rotate and revoke client keys
  usage      report usage grouped by key, provider, model or day
  config     get, set, list the history of or roll back the routing section
  providers  list providers, add and remove provider API keys
  help       show this help, or a command's (switchyard help keys)

`

// printHelp prints the gateway's help, or one command's, to stdout and
// returns the exit code.
func printHelp(stdout, stderr io.Writer, args []string) int {
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Fprint(stdout, gatewayUsage+cliUsage)
		return 0
	}
	if !isCLI(args[0]) {
		fmt.Fprintf(stderr, "switchyard: unknown command %q\n\n%s", args[0], gatewayUsage)
		return 2
	}
	for _, l := range strings.Split(cliUsage, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), args[0]) {
			fmt.Fprintln(stdout, l)
		}
	}
	return 0
}
