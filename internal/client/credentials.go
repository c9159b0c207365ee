package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/orgguard/orgguard/internal/atomicfile"
)

// Credentials are what `orgguard login` keeps: the server and the API
// token to call it with.
type Credentials struct {
	Server string `json:"server"`
	Token  string `json:"token"`
	// User is who the token acted as when it was stored (for messages).
	User string `json:"user,omitempty"`
}

// ErrNoCredentials: nobody is logged in (no credentials file).
var ErrNoCredentials = errors.New("not logged in to a server")

// CredentialsPath is where the credentials live:
// $XDG_CONFIG_HOME/orgguard/credentials, else the OS's user configuration
// directory (os.UserConfigDir) + orgguard/credentials.
func CredentialsPath(getenv func(string) string) (string, error) {
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		d, err := os.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("finding the configuration directory for the credentials: %w", err)
		}
		dir = d
	}
	return filepath.Join(dir, "orgguard", "credentials"), nil
}

// LoadCredentials reads the credentials file at path: ErrNoCredentials
// when there is none; refused when other users may read it.
func LoadCredentials(path string) (Credentials, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Credentials{}, ErrNoCredentials
	}
	if err != nil {
		return Credentials{}, fmt.Errorf("reading the credentials: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return Credentials{}, fmt.Errorf("reading the credentials: %s is readable by other users (mode %v); chmod 600 it or log in again", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("reading the credentials: %w", err)
	}
	var c Credentials
	if err := json.Unmarshal(b, &c); err != nil || c.Server == "" || c.Token == "" {
		return Credentials{}, fmt.Errorf("reading the credentials: %s is damaged; log in again", path)
	}
	return c, nil
}

// SaveCredentials writes c to path, readable by its owner only (0600, in
// a 0700 directory), replacing the file atomically.
func SaveCredentials(path string, c Credentials) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("saving the credentials: %w", err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("saving the credentials: %w", err)
	}
	if err := atomicfile.Write(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("saving the credentials: %w", err)
	}
	return nil
}

// RemoveCredentials deletes the credentials file; false when there was
// none.
func RemoveCredentials(path string) (bool, error) {
	err := os.Remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("removing the credentials: %w", err)
	}
	return true, nil
}
