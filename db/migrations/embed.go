// Package migrations holds Parley's numbered SQL migrations, embedded so the
// chatd binary applies them at start-up. They are sqlc's schema input too.
package migrations

import "embed"

// FS is the set of goose migration files.
//
//go:embed *.sql
var FS embed.FS
