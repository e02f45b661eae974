// Package access decides whether a client key may make a request: the
// key's policy (allowed models and routes, IP allowlist, expiry) and its
// allowances (requests and tokens per minute, spend per day or month),
// reserved before the request runs and settled with what it really used.
//
// Keys are resolved by the transport (server/middleware) and carried in the
// context; the chat service calls Gate.Admit with the key and the request.
package access

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/switchyard/switchyard/engine/budget"
	"github.com/switchyard/switchyard/engine/limits"
	"github.com/switchyard/switchyard/engine/llm"
)

// Key is a resolved client key: who is calling and what it may do. Keys are
// shared between requests and never modified after resolution.
type Key struct {
	// ID names the key in the usage ledger, metrics and limits.
	ID   string
	Name string
	// Empty lists mean "any".
	AllowedModels []string
	AllowedRoutes []string
	IPAllowlist   []netip.Prefix
	Limits        limits.Limits
	// Budget is nil without a budget.
	Budget    *budget.Budget
	ExpiresAt time.Time // zero: never
	Labels    map[string]string
}

// AdminKeyID is the identity of admin-key callers on client services.
const AdminKeyID = "admin"

// ctxKey carries the *Key.
type ctxKey struct{}

// WithKey returns ctx carrying k.
func WithKey(ctx context.Context, k *Key) context.Context {
	return context.WithValue(ctx, ctxKey{}, k)
}

// FromContext returns the key the request was authenticated with, or nil.
func FromContext(ctx context.Context) *Key {
	k, _ := ctx.Value(ctxKey{}).(*Key)
	return k
}

// ParseIPAllowlist parses addresses and CIDRs ("10.0.0.0/8", "::1").
func ParseIPAllowlist(entries []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(entries))
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if strings.Contains(e, "/") {
			p, err := netip.ParsePrefix(e)
			if err != nil {
				return nil, fmt.Errorf("ip allowlist entry %q: %w", e, err)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(e)
		if err != nil {
			return nil, fmt.Errorf("ip allowlist entry %q is neither an address nor a CIDR", e)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// AllowsAddr reports whether a request from addr (host or host:port) may
// use the key. An address that does not parse is refused when there is an
// allowlist.
func (k *Key) AllowsAddr(addr string) bool {
	if len(k.IPAllowlist) == 0 {
		return true
	}
	a, ok := ParseAddr(addr)
	if !ok {
		return false
	}
	for _, p := range k.IPAllowlist {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParseAddr parses "host:port", "[v6]:port" or a bare address; IPv4-mapped
// IPv6 addresses are unmapped so "10.0.0.0/8" matches them.
func ParseAddr(addr string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return ap.Addr().Unmap(), true
	}
	a, err := netip.ParseAddr(strings.Trim(addr, "[]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// Expired reports whether the key has expired at now.
func (k *Key) Expired(now time.Time) bool {
	return !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt)
}

// allows checks the model and route allowlists. route is the route the
// model resolved to ("" when unknown).
func (k *Key) allows(model, route string) error {
	if len(k.AllowedModels) > 0 && !slices.Contains(k.AllowedModels, model) && (route == "" || !slices.Contains(k.AllowedModels, route)) {
		return &llm.Error{Kind: llm.KindPermissionDenied, Param: "model", Code: "model_not_allowed",
			Message: fmt.Sprintf("This API key may not use model '%s' (allowed: %s).", model, strings.Join(k.AllowedModels, ", "))}
	}
	if len(k.AllowedRoutes) > 0 && !slices.Contains(k.AllowedRoutes, route) {
		return &llm.Error{Kind: llm.KindPermissionDenied, Param: "model", Code: "route_not_allowed",
			Message: fmt.Sprintf("This API key may not use route '%s' (allowed: %s).", route, strings.Join(k.AllowedRoutes, ", "))}
	}
	return nil
}

// restricted reports whether Admit has anything to check or reserve.
func (k *Key) restricted() bool {
	return len(k.AllowedModels) > 0 || len(k.AllowedRoutes) > 0 || k.Limits.RPM > 0 || k.Limits.TPM > 0 || k.Budget != nil
}
