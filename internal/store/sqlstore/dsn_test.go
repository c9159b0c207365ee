package sqlstore

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseDSN(t *testing.T) {
	good := []struct {
		name, in string
		want     DSN
	}{
		{"the empty address is the default SQLite file", "", DSN{Driver: SQLite, Path: ".orgguard/orgguard.db"}},
		{"a relative path is SQLite", "state/og.db", DSN{Driver: SQLite, Path: "state/og.db"}},
		{"an absolute path is SQLite", "/var/lib/orgguard/og.db", DSN{Driver: SQLite, Path: "/var/lib/orgguard/og.db"}},
		{"sqlite:// takes a relative path", "sqlite://state/og.db", DSN{Driver: SQLite, Path: "state/og.db"}},
		{"sqlite:/// takes an absolute path", "sqlite:///tmp/og.db", DSN{Driver: SQLite, Path: "/tmp/og.db"}},
		{"a Windows drive letter is a path", `C:\orgguard\og.db`, DSN{Driver: SQLite, Path: `C:\orgguard\og.db`}},
		{"postgres:// is PostgreSQL", "postgres://og@db.internal:5432/orgguard?sslmode=require",
			DSN{Driver: Postgres, URL: "postgres://og@db.internal:5432/orgguard?sslmode=require"}},
		{"postgresql:// is PostgreSQL", "postgresql://og@db/orgguard", DSN{Driver: Postgres, URL: "postgresql://og@db/orgguard"}},
		{"a host parameter replaces the URL host", "postgres:///orgguard?host=/run/postgresql",
			DSN{Driver: Postgres, URL: "postgres:///orgguard?host=/run/postgresql"}},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseDSN(tc.in)
			if err != nil {
				t.Fatalf("ParseDSN(%q) = %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseDSN(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
	bad := []struct{ name, in, words string }{
		{"another scheme is refused", "mysql://root@db/og", `unsupported scheme "mysql"`},
		{"an in-memory database is refused", ":memory:", "in-memory"},
		{"an SQLite URI is refused", "file:og.db?mode=memory", "in-memory"},
		{"sqlite: without slashes is refused", "sqlite:og.db", "sqlite://PATH"},
		{"sqlite:// without a path is refused", "sqlite://", "no file path"},
		{"a path with a query is refused", "og.db?_pragma=foo", "'?'"},
		{"a directory is refused", "state/", "directory"},
		{"a PostgreSQL URL without a host is refused", "postgres:///og", "no host"},
		{"a malformed PostgreSQL URL is refused", "postgres://u:p@[::1/og", "parsing PostgreSQL URL"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseDSN(tc.in)
			if !errors.Is(err, ErrBadDSN) || !strings.Contains(err.Error(), tc.words) {
				t.Errorf("ParseDSN(%q) = %v, want ErrBadDSN mentioning %q", tc.in, err, tc.words)
			}
		})
	}
}

func TestDSNStringHidesPasswords(t *testing.T) {
	for _, in := range []string{
		"postgres://og:s3cret@db/orgguard",
		"postgres://og@db/orgguard?password=s3cret&sslmode=disable",
	} {
		d, err := ParseDSN(in)
		if err != nil {
			t.Fatal(err)
		}
		if s := d.String(); strings.Contains(s, "s3cret") || !strings.Contains(s, "xxxxx") {
			t.Errorf("ParseDSN(%q).String() = %q, want the password replaced by xxxxx", in, s)
		}
	}
	if _, err := ParseDSN("postgres://og:s3cret@[::1/og"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("ParseDSN error = %v, want an error that does not show the password", err)
	}
}

// FuzzParseDSN checks that ParseDSN never panics, classifies every address
// it accepts, and reads its own String form back to the same SQLite path.
func FuzzParseDSN(f *testing.F) {
	for _, s := range []string{"", "og.db", "sqlite:///tmp/x.db", "postgres://u:p@h:5432/d?sslmode=disable",
		"postgresql://h/d?password=x", ":memory:", "mysql://x", `C:\x.db`, "sqlite://", "postgres://[::1]:5/x", "a://b://c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		d, err := ParseDSN(in)
		if err != nil {
			if !errors.Is(err, ErrBadDSN) {
				t.Fatalf("ParseDSN(%q) = %v, want ErrBadDSN", in, err)
			}
			return
		}
		switch d.Driver {
		case SQLite:
			if d.Path == "" || strings.ContainsAny(d.Path, "?#") {
				t.Fatalf("ParseDSN(%q) = SQLite path %q", in, d.Path)
			}
			if again, err := ParseDSN("sqlite://" + d.Path); err != nil || again != d {
				t.Fatalf("ParseDSN(sqlite://%s) = %+v, %v, want %+v", d.Path, again, err, d)
			}
		case Postgres:
			if d.URL != in {
				t.Fatalf("ParseDSN(%q).URL = %q, want the input", in, d.URL)
			}
			_ = d.String()
		default:
			t.Fatalf("ParseDSN(%q) = driver %q", in, d.Driver)
		}
	})
}
