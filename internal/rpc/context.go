package rpc

import (
	"context"

	"github.com/parley-chat/parley/internal/auth"
)

type principalKey struct{}

func withPrincipal(ctx context.Context, p auth.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// caller is the authenticated principal; the auth interceptor guarantees it
// for every procedure that is not public.
func caller(ctx context.Context) auth.Principal {
	p, _ := ctx.Value(principalKey{}).(auth.Principal)
	return p
}
