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
	if !strings.Contains(string(b), "app.js") {
		t.Fatalf("index.html does not reference app.js")
	}
	for _, name := range []string{"app.js", "app.css"} {
		if _, err := fs.Stat(fsys, name); err != nil {
			t.Errorf("built front-end lacks %s: %v", name, err)
		}
	}
}
