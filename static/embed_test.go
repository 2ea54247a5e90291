package static

import (
	"io/fs"
	"strings"
	"testing"
)

func TestFS(t *testing.T) {
	fsys := FS()
	if _, err := fs.Stat(fsys, ".keep"); err != nil {
		t.Fatalf("dist/.keep not embedded at the FS root: %v", err)
	}
	if _, err := fs.ReadDir(fsys, "."); err != nil {
		t.Fatalf("ReadDir(FS(), \".\"): %v", err)
	}
	if !Built() {
		t.Log("front-end not built (dist/index.html missing); run `npm ci && npm run build` in static/")
		return
	}
	b, err := fs.ReadFile(fsys, "index.html")
	if err != nil {
		t.Fatalf("read index.html: %v", err)
	}
	// build.mjs inlines the app (JavaScript and CSS) into the page.
	if !strings.Contains(string(b), `<script type="module" data-bundle="app.js">`) || strings.Contains(string(b), `href="app.css"`) {
		t.Fatalf("index.html does not carry the app inline")
	}
	index := Assets()["index.html"]
	if index == nil || index.Brotli == nil || index.Gzip == nil {
		t.Fatalf("index.html lacks its precompressed .br/.gz siblings")
	}
	if len(index.ScriptHashes) != 2 {
		t.Errorf("index.html: %d inline scripts hashed, want 2 (prefetch + app)", len(index.ScriptHashes))
	}
	for name, a := range Assets() {
		if strings.HasSuffix(name, ".map") || strings.HasSuffix(name, ".br") {
			t.Errorf("Assets() serves %s", name)
		}
		if strings.HasPrefix(name, "chunk-") && !a.Immutable {
			t.Errorf("%s: content-hashed name not marked immutable", name)
		}
	}
}
