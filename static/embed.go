// Package static embeds the built web front-end (static/dist) into the Go
// binary.
//
// The files are produced by the npm build in this folder (see README.md):
//
//	cd static && npm ci && npm run build
//
// On a fresh clone dist/ holds only .keep, which keeps the go:embed pattern
// valid; the server should then answer with a plain "run the build" page,
// which it can detect with Built.
package static

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// FS returns the built front-end rooted at dist/, so "index.html", "app.js",
// "app.css" and the hashed images are at its top level. Serve it as-is (for
// example with http.FS or Fiber's filesystem middleware).
func FS() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// Unreachable: "dist" is a valid path and is always embedded.
		panic("static: " + err.Error())
	}
	return sub
}

// Built reports whether the front-end has been built, that is whether
// dist/index.html was embedded when the binary was compiled.
func Built() bool {
	info, err := fs.Stat(FS(), "index.html")
	return err == nil && !info.IsDir()
}
