// Package webapp holds Parley's browser client.
package webapp

import "embed"

// Dist is the built web app, embedded so that chatd serves it without any
// file on disk. `npm run build` writes it into dist/app; the committed
// dist/.keep lets this directive compile in a fresh clone before any build,
// in which case dist/app is simply missing and the server has no app to show.
//
//go:embed all:dist
var Dist embed.FS
