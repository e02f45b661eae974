// Package cli is the operator CLI (switchyard keys|usage|config|providers):
// each command is one call to a running gateway over the Go SDK.
package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"gopkg.in/yaml.v3"

	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	switchyard "github.com/switchyard/switchyard/sdk/go"
)

// IsCommand reports whether cmd names an operator command; anything else
// starts the gateway.
func IsCommand(cmd string) bool {
	switch cmd {
	case "keys", "usage", "config", "providers":
		return true
	}
	return false
}

const Usage = `usage: switchyard <command> [flags]

Operator commands talk to a running gateway (--url, env SWITCHYARD_URL,
default http://127.0.0.1:8080) with the admin key (--admin-key, env
SWITCHYARD_ADMIN_KEY). Add --json for machine-readable output.

  keys create --name NAME [--rpm N] [--tpm N] [--budget-usd X --budget-period day|month]
              [--models a,b] [--routes a,b] [--ip CIDR,...] [--expires 720h] [--label k=v ...]
  keys list [--all]            keys get ID            keys revoke ID
  keys rotate ID [--grace 1h]
  usage [--group-by key,provider,model,day,route,dialect] [--since 24h] [--key ID]
  config get                   config set FILE [--allow-unrouted] [--clear-routes]
  config history [--limit N]   config rollback VERSION [--allow-unrouted]
  providers list
  providers add-key NAME --key-env VAR [--label L] [--weight N]   (or the key on stdin)
  providers remove-key NAME KEY_ID

Without a command, switchyard starts the gateway (switchyard --help).
`

// Env is what a CLI run reads and writes.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// cliFlags are the flags every command takes.
type cliFlags struct {
	url, adminKey string
	json          bool
	timeout       time.Duration
}

func (g *cliFlags) register(fs *flag.FlagSet, env Env) {
	url := env.Getenv("SWITCHYARD_URL")
	if url == "" {
		url = "http://127.0.0.1:8080"
	}
	fs.StringVar(&g.url, "url", url, "gateway base URL (env SWITCHYARD_URL)")
	fs.StringVar(&g.adminKey, "admin-key", env.Getenv("SWITCHYARD_ADMIN_KEY"), "admin key (env SWITCHYARD_ADMIN_KEY)")
	fs.BoolVar(&g.json, "json", false, "print JSON")
	fs.DurationVar(&g.timeout, "timeout", 30*time.Second, "per-call timeout")
}

// parseInterspersed parses flags wherever they appear among the
// positional arguments ("keys get ID --json" as well as "keys get --json ID").
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// listFlag collects a repeatable, comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

// Run runs one operator command. It returns a usage error (exit 2) or
// the gateway's error message.
func Run(ctx context.Context, args []string, env Env) error {
	if len(args) < 1 {
		fmt.Fprint(env.Stderr, Usage)
		return ErrUsage
	}
	cmd, sub := args[0], ""
	rest := args[1:]
	if len(rest) > 0 && IsHelp(rest[0]) && cmd != "usage" {
		CommandHelp(env.Stdout, cmd)
		return nil
	}
	if cmd != "usage" {
		if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
			fmt.Fprint(env.Stderr, Usage)
			return ErrUsage
		}
		sub, rest = rest[0], rest[1:]
	}
	fs := flag.NewFlagSet("switchyard "+strings.TrimSpace(cmd+" "+sub), flag.ContinueOnError)
	fs.SetOutput(env.Stdout)
	fs.Usage = func() { CommandHelp(env.Stdout, cmd); fs.PrintDefaults() }
	var g cliFlags
	g.register(fs, env)

	c := &cli{env: env, g: &g}
	var run func(pos []string) error
	switch cmd + " " + sub {
	case "keys create", "keys update":
		run = c.keysCreate(fs, sub == "update")
	case "keys list":
		all := fs.Bool("all", false, "include revoked keys")
		run = func([]string) error { return c.keysList(*all) }
	case "keys get", "keys revoke":
		run = func(pos []string) error { return c.keysOne(sub, pos) }
	case "keys rotate":
		grace := fs.Duration("grace", time.Hour, "how long the old secret keeps working")
		run = func(pos []string) error { return c.keysRotate(pos, *grace) }
	case "usage ":
		var groups listFlag
		fs.Var(&groups, "group-by", "key, provider, model, day, route, dialect (comma-separated)")
		since := fs.Duration("since", 30*24*time.Hour, "how far back")
		key := fs.String("key", "", "only this client key")
		run = func([]string) error { return c.usage(groups, *since, *key) }
	case "config get":
		run = func([]string) error { return c.configGet() }
	case "config set":
		allow := fs.Bool("allow-unrouted", false, "apply even if models that served traffic in the last hour lose their route")
		clearRoutes := fs.Bool("clear-routes", false, "with a file that has no routes, remove every route instead of keeping them")
		run = func(pos []string) error { return c.configSet(pos, *allow, *clearRoutes) }
	case "config history":
		limit := fs.Int("limit", 20, "most versions to list, newest first")
		run = func([]string) error { return c.configHistory(*limit) }
	case "config rollback":
		allow := fs.Bool("allow-unrouted", false, "apply even if models that served traffic in the last hour lose their route")
		run = func(pos []string) error { return c.configRollback(pos, *allow) }
	case "providers list":
		run = func([]string) error { return c.providersList() }
	case "providers add-key":
		keyEnv := fs.String("key-env", "", "environment variable holding the provider API key (else read from stdin)")
		label := fs.String("label", "", "label shown in listings")
		weight := fs.Int("weight", 1, "share of traffic relative to the provider's other keys")
		run = func(pos []string) error { return c.providersAddKey(pos, *keyEnv, *label, *weight) }
	case "providers remove-key":
		run = c.providersRemoveKey
	default:
		fmt.Fprintf(env.Stderr, "switchyard: unknown command %q\n\n%s", strings.TrimSpace(cmd+" "+sub), Usage)
		return ErrUsage
	}
	pos, err := parseInterspersed(fs, rest)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return ErrUsage
	}
	client, err := switchyard.NewClient(g.url, switchyard.WithAPIKey(g.adminKey), switchyard.WithTimeout(g.timeout))
	if err != nil {
		return err
	}
	defer client.Close()
	c.client, c.ctx = client, ctx
	return cliError(run(pos))
}

// ErrUsage makes main exit 2 without printing more.
var ErrUsage = errors.New("usage")

// cliError turns an RPC error into the gateway's own message.
func cliError(err error) error {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return fmt.Errorf("%s: %s", ce.Code(), ce.Message())
	}
	return err
}

type cli struct {
	env    Env
	g      *cliFlags
	client *switchyard.Client
	ctx    context.Context
}

// printJSON prints m indented by encoding/json: protojson varies its
// whitespace on purpose, and scripts deserve stable output.
func (c *cli) printJSON(m proto.Message) error {
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = c.env.Stdout.Write(out.Bytes())
	return err
}

func (c *cli) table(header string, rows [][]string) error {
	tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func need(pos []string, n int, what string) error {
	if len(pos) != n {
		return fmt.Errorf("want %s, got %d argument(s): %v", what, len(pos), pos)
	}
	return nil
}

func (c *cli) keysCreate(fs *flag.FlagSet, update bool) func([]string) error {
	name := fs.String("name", "", "key name")
	rpm := fs.Int("rpm", 0, "requests per minute (0: unlimited)")
	tpm := fs.Int("tpm", 0, "tokens per minute (0: unlimited)")
	budget := fs.Float64("budget-usd", 0, "spend allowed per period in USD (with --budget-period)")
	period := fs.String("budget-period", "", "day or month")
	expires := fs.Duration("expires", 0, "lifetime from now (e.g. 720h; 0: never)")
	var models, routes, ips, labels listFlag
	fs.Var(&models, "models", "allowed models (comma-separated; default any)")
	fs.Var(&routes, "routes", "allowed routes (comma-separated; default any)")
	fs.Var(&ips, "ip", "allowed client addresses or CIDRs (comma-separated; default any)")
	fs.Var(&labels, "label", "label k=v (repeatable)")
	return func(pos []string) error {
		k := &pb.ClientKey{Name: *name, RpmLimit: int32(*rpm), TpmLimit: int32(*tpm),
			AllowedModels: models, AllowedRoutes: routes, IpAllowlist: ips, Labels: map[string]string{}}
		for _, l := range labels {
			kv := strings.SplitN(l, "=", 2)
			if len(kv) != 2 {
				return fmt.Errorf("--label %q: want k=v", l)
			}
			k.Labels[kv[0]] = kv[1]
		}
		if *period != "" || *budget != 0 {
			p := map[string]pb.BudgetPeriod{"day": pb.BudgetPeriod_BUDGET_PERIOD_DAY, "daily": pb.BudgetPeriod_BUDGET_PERIOD_DAY,
				"month": pb.BudgetPeriod_BUDGET_PERIOD_MONTH, "monthly": pb.BudgetPeriod_BUDGET_PERIOD_MONTH}[*period]
			if p == pb.BudgetPeriod_BUDGET_PERIOD_UNSPECIFIED {
				return fmt.Errorf("--budget-period must be day or month with --budget-usd")
			}
			k.Budget = &pb.Budget{AmountUsd: *budget, Period: p}
		}
		if *expires > 0 {
			k.ExpiresAt = timestamppb.New(time.Now().Add(*expires))
		}
		if update {
			if err := need(pos, 1, "a key id"); err != nil {
				return err
			}
			k.Id = pos[0]
			resp, err := c.client.KeyService().UpdateKey(c.ctx, &pb.UpdateKeyRequest{Key: k})
			if err != nil {
				return err
			}
			return c.printKeys([]*pb.ClientKey{resp.GetKey()})
		}
		if err := need(pos, 0, "no arguments"); err != nil {
			return err
		}
		resp, err := c.client.KeyService().CreateKey(c.ctx, &pb.CreateKeyRequest{Key: k})
		if err != nil {
			return err
		}
		return c.printSecret(resp.GetKey(), resp.GetSecret())
	}
}

// printSecret shows a new secret, the only time it can be seen.
func (c *cli) printSecret(k *pb.ClientKey, secret string) error {
	if c.g.json {
		return c.printJSON(&pb.CreateKeyResponse{Key: k, Secret: secret})
	}
	fmt.Fprintf(c.env.Stdout, "id:     %s\nname:   %s\nsecret: %s\n", k.GetId(), k.GetName(), secret)
	fmt.Fprintln(c.env.Stderr, "Store the secret now: it is shown only once (the gateway keeps a hash).")
	return nil
}

func fmtTime(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().UTC().Format("2006-01-02 15:04")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (c *cli) printKeys(keys []*pb.ClientKey) error {
	if c.g.json {
		return c.printJSON(&pb.ListKeysResponse{Keys: keys})
	}
	rows := make([][]string, 0, len(keys))
	for _, k := range keys {
		budget := "-"
		if b := k.GetBudget(); b != nil {
			budget = fmt.Sprintf("$%.2f/%s", b.GetAmountUsd(), strings.ToLower(strings.TrimPrefix(b.GetPeriod().String(), "BUDGET_PERIOD_")))
		}
		state := "active"
		if k.GetRevokedAt() != nil {
			state = "revoked " + fmtTime(k.GetRevokedAt())
		}
		rows = append(rows, []string{k.GetId(), orDash(k.GetName()), k.GetPrefix() + "…", fmt.Sprint(k.GetRpmLimit()), fmt.Sprint(k.GetTpmLimit()),
			budget, orDash(strings.Join(k.GetAllowedModels(), ",")), orDash(strings.Join(k.GetIpAllowlist(), ",")), fmtTime(k.GetExpiresAt()), state})
	}
	return c.table("ID\tNAME\tPREFIX\tRPM\tTPM\tBUDGET\tMODELS\tIPS\tEXPIRES\tSTATE", rows)
}

func (c *cli) keysList(all bool) error {
	resp, err := c.client.KeyService().ListKeys(c.ctx, &pb.ListKeysRequest{IncludeRevoked: all})
	if err != nil {
		return err
	}
	return c.printKeys(resp.GetKeys())
}

func (c *cli) keysOne(sub string, pos []string) error {
	if err := need(pos, 1, "a key id"); err != nil {
		return err
	}
	var k *pb.ClientKey
	if sub == "revoke" {
		resp, err := c.client.KeyService().RevokeKey(c.ctx, &pb.RevokeKeyRequest{Id: pos[0]})
		if err != nil {
			return err
		}
		k = resp.GetKey()
	} else {
		resp, err := c.client.KeyService().GetKey(c.ctx, &pb.GetKeyRequest{Id: pos[0]})
		if err != nil {
			return err
		}
		k = resp.GetKey()
	}
	return c.printKeys([]*pb.ClientKey{k})
}

func (c *cli) keysRotate(pos []string, grace time.Duration) error {
	if err := need(pos, 1, "a key id"); err != nil {
		return err
	}
	resp, err := c.client.KeyService().RotateKey(c.ctx, &pb.RotateKeyRequest{Id: pos[0], GraceSeconds: int32(grace / time.Second)})
	if err != nil {
		return err
	}
	if !c.g.json {
		fmt.Fprintf(c.env.Stderr, "The old secret keeps working for %s.\n", grace)
	}
	return c.printSecret(resp.GetKey(), resp.GetSecret())
}

func (c *cli) usage(groups []string, since time.Duration, key string) error {
	req := &pb.GetUsageRequest{GroupBy: groups, KeyId: key, StartTime: timestamppb.New(time.Now().Add(-since))}
	resp, err := c.client.UsageService().GetUsage(c.ctx, req)
	if err != nil {
		return err
	}
	if c.g.json {
		return c.printJSON(resp)
	}
	row := func(label []string, r *pb.UsageRow) []string {
		return append(label, fmt.Sprint(r.GetRequests()), fmt.Sprint(r.GetErrors()), fmt.Sprint(r.GetCacheHits()), fmt.Sprint(r.GetPromptTokens()),
			fmt.Sprint(r.GetCompletionTokens()), costOf(r))
	}
	header := "REQUESTS\tERRORS\tCACHE_HITS\tPROMPT\tCOMPLETION\tCOST_USD"
	var rows [][]string
	if len(groups) > 0 {
		header = strings.ToUpper(strings.Join(groups, "\t")) + "\t" + header
		for _, r := range resp.GetRows() {
			var label []string
			for _, g := range groups {
				label = append(label, orDash(map[string]string{"key": r.GetKeyId(), "provider": r.GetProvider(), "model": r.GetModel(), "day": r.GetDay(), "route": r.GetRoute(), "dialect": r.GetDialect()}[g]))
			}
			rows = append(rows, row(label, r))
		}
		blank := make([]string, len(groups))
		blank[0] = "TOTAL"
		rows = append(rows, row(blank, resp.GetTotal()))
	} else {
		rows = append(rows, row(nil, resp.GetTotal()))
	}
	return c.table(header, rows)
}

func (c *cli) configGet() error {
	resp, err := c.client.RoutingConfigService().GetRoutingConfig(c.ctx, &pb.GetRoutingConfigRequest{})
	if err != nil {
		return err
	}
	if c.g.json {
		return c.printJSON(resp)
	}
	// YAML, the shape `config set` takes back.
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(resp.GetConfig())
	if err != nil {
		return err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stdout, "# version %d, updated %s\n", resp.GetVersion(), fmtTime(resp.GetUpdatedAt()))
	enc := yaml.NewEncoder(c.env.Stdout)
	enc.SetIndent(2)
	return enc.Encode(v)
}

// configSet replaces the routing section with a file's (YAML or JSON, in
// the shape `config get` prints).
func (c *cli) configSet(pos []string, allowUnrouted, clearRoutes bool) error {
	if err := need(pos, 1, "a file (- for stdin)"); err != nil {
		return err
	}
	var raw []byte
	var err error
	if pos[0] == "-" {
		raw, err = io.ReadAll(c.env.Stdin)
	} else {
		raw, err = os.ReadFile(pos[0])
	}
	if err != nil {
		return err
	}
	var v any
	if err := yaml.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	var cfg pb.RoutingConfig
	if err := protojson.Unmarshal(b, &cfg); err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	resp, err := c.client.RoutingConfigService().UpdateRoutingConfig(c.ctx, &pb.UpdateRoutingConfigRequest{Config: &cfg, AllowUnrouted: allowUnrouted, ClearRoutes: clearRoutes})
	if err != nil {
		return err
	}
	if c.g.json {
		return c.printJSON(resp)
	}
	fmt.Fprintf(c.env.Stdout, "routing config updated: version %d\n", resp.GetVersion())
	return nil
}

func (c *cli) providersList() error {
	resp, err := c.client.ProviderService().ListProviders(c.ctx, &pb.ListProvidersRequest{})
	if err != nil {
		return err
	}
	if c.g.json {
		return c.printJSON(resp)
	}
	var rows [][]string
	for _, p := range resp.GetProviders() {
		for _, k := range p.GetKeys() {
			rows = append(rows, []string{p.GetName(), p.GetType(), k.GetId(), k.GetMaskedKey(), orDash(k.GetLabel()), k.GetSource(),
				fmt.Sprint(k.GetWeight()), strings.ToLower(strings.TrimPrefix(k.GetState().String(), "TARGET_STATE_")), fmt.Sprint(k.GetInFlight())})
		}
	}
	return c.table("PROVIDER\tTYPE\tKEY_ID\tKEY\tLABEL\tSOURCE\tWEIGHT\tSTATE\tIN_FLIGHT", rows)
}

// providersAddKey reads the secret from an environment variable or stdin,
// never from the command line (where ps and shell history would keep it).
func (c *cli) providersAddKey(pos []string, keyEnv, label string, weight int) error {
	if err := need(pos, 1, "a provider name"); err != nil {
		return err
	}
	var secret string
	if keyEnv != "" {
		if secret = c.env.Getenv(keyEnv); secret == "" {
			return fmt.Errorf("environment variable %s is empty or not set", keyEnv)
		}
	} else {
		line, err := bufio.NewReader(c.env.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if secret = strings.TrimSpace(line); secret == "" {
			return fmt.Errorf("no key: pass --key-env VAR or the key on stdin")
		}
	}
	resp, err := c.client.ProviderService().AddProviderKey(c.ctx, &pb.AddProviderKeyRequest{
		Provider: pos[0], ApiKey: secret, Label: label, Weight: int32(weight)})
	if err != nil {
		return err
	}
	if c.g.json {
		return c.printJSON(resp)
	}
	k := resp.GetKey()
	fmt.Fprintf(c.env.Stdout, "added key %s (%s) to %s\n", k.GetId(), k.GetMaskedKey(), pos[0])
	return nil
}

func (c *cli) providersRemoveKey(pos []string) error {
	if err := need(pos, 2, "a provider name and a key id"); err != nil {
		return err
	}
	if _, err := c.client.ProviderService().RemoveProviderKey(c.ctx, &pb.RemoveProviderKeyRequest{Provider: pos[0], KeyId: pos[1]}); err != nil {
		return err
	}
	if !c.g.json {
		fmt.Fprintf(c.env.Stdout, "removed key %s from %s\n", pos[1], pos[0])
	}
	return nil
}

// costOf is a usage row's exact decimal cost, or the double from a
// gateway too old to send it.
func costOf(r *pb.UsageRow) string {
	if c := r.GetCost(); c != "" {
		return c
	}
	return fmt.Sprintf("%.9f", r.GetCostUsd())
}

// IsHelp reports whether arg asks for help.
func IsHelp(arg string) bool {
	switch arg {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

// CommandHelp prints the usage lines of one command.
func CommandHelp(w io.Writer, cmd string) {
	for _, l := range strings.Split(Usage, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), cmd) {
			fmt.Fprintln(w, l)
		}
	}
}
