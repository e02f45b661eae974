package middleware

import (
	"context"

	"github.com/switchyard/switchyard/engine/access"
)

// Principals of admin calls that carry no client key.
const (
	PrincipalAdmin    = access.AdminKeyID
	PrincipalOpenMode = "open-mode"
)

type principalKey struct{}

func withPrincipal(ctx context.Context, p string) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// Principal names who makes a request, for audit records: the client key's
// id, "admin" for the admin key, "open-mode" for a keyless loopback caller
// of an admin service, or "" when the request was not authenticated here.
func Principal(ctx context.Context) string {
	if k := access.FromContext(ctx); k != nil {
		return k.ID
	}
	p, _ := ctx.Value(principalKey{}).(string)
	return p
}
