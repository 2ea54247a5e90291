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
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"mime"
	"path"
	"regexp"
	"strings"
	"sync"
)

//go:embed all:dist
var dist embed.FS

// FS returns the built front-end rooted at dist/, so "index.html" (with the
// app's JavaScript and CSS inline), "area-editor.js", the hashed images and
// the source maps are at its top level.
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

// Asset is one built file, ready to serve: its bytes, the precompressed
// variants the build wrote beside it, and what caching it allows.
type Asset struct {
	Name        string
	ContentType string
	Body        []byte // identity encoding
	Brotli      []byte // nil when the build wrote no .br
	Gzip        []byte // nil when the build wrote no .gz
	// Version is the first 12 hex digits of Body's SHA-256; a request for
	// name?v=<Version> may be cached for good.
	Version string
	// ETag is a strong validator derived from Version.
	ETag string
	// Immutable is true for content-hashed names (esbuild's chunk-XXXXXXXX.js,
	// name-XXXXXXXX.png): a new build gives a new name, so browsers may cache
	// them for good.
	Immutable bool
	// ScriptHashes lists the CSP source expressions ('sha256-…') of the inline
	// <script> elements of an HTML file, for its Content-Security-Policy.
	ScriptHashes []string
}

var (
	assetsOnce sync.Once
	assets     map[string]*Asset
	// esbuild names chunks and copied files with an 8-character base32 hash.
	hashedName = regexp.MustCompile(`-[A-Z2-7]{8}\.[a-z0-9]+$`)
	// An inline <script> (any attributes but src) and its text.
	inlineScript = regexp.MustCompile(`(?s)<script((?:\s[^>]*)?)>(.*?)</script>`)
	srcAttr      = regexp.MustCompile(`\ssrc\s*=`)
)

// Assets returns the built files by name (as in FS, e.g. "index.html",
// "app.js"), read and hashed once. Source maps, the precompressed siblings
// themselves and .keep are left out: serve those from FS.
func Assets() map[string]*Asset {
	assetsOnce.Do(func() {
		assets = map[string]*Asset{}
		fsys := FS()
		entries, err := fs.ReadDir(fsys, ".")
		if err != nil {
			return
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || name == ".keep" || strings.HasSuffix(name, ".map") ||
				strings.HasSuffix(name, ".br") || strings.HasSuffix(name, ".gz") {
				continue
			}
			body, err := fs.ReadFile(fsys, name)
			if err != nil {
				continue
			}
			sum := sha256.Sum256(body)
			a := &Asset{Name: name, Body: body, Version: hex.EncodeToString(sum[:])[:12],
				Immutable: hashedName.MatchString(name) || strings.HasPrefix(name, "chunk-")}
			a.ETag = `"` + a.Version + `"`
			a.ContentType = mime.TypeByExtension(path.Ext(name))
			if a.ContentType == "" {
				a.ContentType = "application/octet-stream"
			}
			if b, err := fs.ReadFile(fsys, name+".br"); err == nil {
				a.Brotli = b
			}
			if b, err := fs.ReadFile(fsys, name+".gz"); err == nil {
				a.Gzip = b
			}
			if strings.HasSuffix(name, ".html") {
				for _, m := range inlineScript.FindAllSubmatch(body, -1) {
					if srcAttr.Match(m[1]) {
						continue
					}
					h := sha256.Sum256(m[2])
					a.ScriptHashes = append(a.ScriptHashes, "'sha256-"+base64.StdEncoding.EncodeToString(h[:])+"'")
				}
			}
			assets[name] = a
		}
	})
	return assets
}
