// Package console serves the operator console (console/ in the repository,
// built by scripts/build-console.sh) from assets embedded in the binary:
// a fresh clone's `make run` serves it with no Node step.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed dist
var dist embed.FS

// Prefix is where the console is mounted.
const Prefix = "/console/"

// Handler serves the console under Prefix. Paths that are not assets get
// index.html, so a reload on /console/keys opens the Keys page. The bundle
// talks to the same origin's API, so it needs no CORS entry.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed pattern above guarantees dist exists
	}
	files := http.FileServerFS(sub)
	return http.StripPrefix(strings.TrimSuffix(Prefix, "/"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if _, err := fs.Stat(sub, name); name == "" || err != nil {
			r = r.Clone(r.Context())
			r.URL.Path = "/"
		}
		// The assets carry no content hash, so the browser revalidates them.
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
		files.ServeHTTP(w, r)
	}))
}
