package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"time"
)

// The static assets (CSS, the progressive-enhancement script), served at
// /assets/NAME. Pages link them with the asset template function, which
// adds ?v=HASH: such URLs are cached for a year; others revalidate by
// ETag.
//
//go:embed assets
var assetFiles embed.FS

// assets are the embedded files with their content hashes, read once.
type assets struct {
	files map[string]assetFile
}

type assetFile struct {
	body []byte
	hash string // hex SHA-256 prefix of body
}

func loadAssets() (*assets, error) {
	a := &assets{files: map[string]assetFile{}}
	err := fs.WalkDir(assetFiles, "assets", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := assetFiles.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		a.files[path[len("assets/"):]] = assetFile{body: body, hash: hex.EncodeToString(sum[:8])}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the embedded assets: %w", err)
	}
	return a, nil
}

// url returns the versioned URL of asset name; an unknown name is an
// error, so that a template naming a missing asset fails when executed
// (the template tests execute every page).
func (a *assets) url(name string) (string, error) {
	f, ok := a.files[name]
	if !ok {
		return "", fmt.Errorf("no asset %q", name)
	}
	return "/assets/" + name + "?v=" + f.hash, nil
}

// asset serves an embedded asset.
func (s *Server) asset(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	f, ok := s.assets.files[name]
	if !ok {
		return errNotFound
	}
	w.Header().Set("ETag", `"`+f.hash+`"`)
	if r.URL.Query().Get("v") == f.hash {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
	return nil
}
