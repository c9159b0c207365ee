package digest

import (
	"crypto/sha256"
	"testing"
)

func TestOf(t *testing.T) {
	// The SHA-256 of the empty input.
	const empty = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if got := Of(nil); got != empty {
		t.Errorf("Of(nil) = %q, want %q", got, empty)
	}
	h := sha256.New()
	h.Write([]byte("abc"))
	if got, want := Format(h.Sum(nil)), Of([]byte("abc")); got != want {
		t.Errorf("Format(streamed sum) = %q, want Of's %q", got, want)
	}
}

func TestShort(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"a digest loses its prefix and keeps 12 digits", "sha256:e3b0c44298fc1c149afbf4c8996fb924", "e3b0c44298fc"},
		{"bare hex is cut to 12 digits", "e3b0c44298fc1c149afbf4c8996fb924", "e3b0c44298fc"},
		{"a short string is kept", "sha256:abc", "abc"},
		{"exactly 12 digits are kept", "0123456789ab", "0123456789ab"},
		{"the empty string stays empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Short(tt.in); got != tt.want {
				t.Errorf("Short(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
