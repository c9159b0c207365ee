package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// PostgresURL returns ORGGUARD_TEST_POSTGRES. It skips the test when the
// variable is unset, except with CI=true, where a missing PostgreSQL is a
// failure: its tests must run in CI (scripts/test-env.sh prints it).
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("ORGGUARD_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("ORGGUARD_TEST_POSTGRES is not set and CI=true: the PostgreSQL tests must run in CI (scripts/test-env.sh prints it)")
		}
		t.Skip("ORGGUARD_TEST_POSTGRES is not set")
	}
	return base
}

// PostgresSchemaURL returns ORGGUARD_TEST_POSTGRES with a fresh schema
// (named prefix_<random>) as its search path, dropped when the test ends.
// The database is created first when the server does not have it yet (a
// fresh machine). Skips as PostgresURL does.
func PostgresSchemaURL(t testing.TB, prefix string) string {
	t.Helper()
	base := PostgresURL(t)
	admin := postgresAdmin(t, base)
	var b [6]byte
	rand.Read(b[:])
	schema := prefix + "_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(context.Background(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parsing ORGGUARD_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// postgresAdmin connects to the test database, creating it first when the
// server does not have it yet. Tests in several packages may race to create
// it; losing that race (duplicate database) is fine.
func postgresAdmin(t testing.TB, base string) *sql.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("connecting to the test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	err = db.PingContext(ctx)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "3D000" { // invalid_catalog_name: no such database
		u, perr := url.Parse(base)
		if perr != nil {
			t.Fatalf("parsing ORGGUARD_TEST_POSTGRES: %v", perr)
		}
		name := strings.TrimPrefix(u.Path, "/")
		u.Path = "/postgres"
		server, serr := sql.Open("pgx", u.String())
		if serr != nil {
			t.Fatalf("connecting to %s: %v", u.Redacted(), serr)
		}
		defer server.Close()
		if _, cerr := server.ExecContext(ctx, `CREATE DATABASE "`+strings.ReplaceAll(name, `"`, `""`)+`"`); cerr != nil && !errors.As(cerr, &pe) {
			t.Fatalf("creating database %s: %v", name, cerr)
		}
		err = db.PingContext(ctx)
	}
	if err != nil {
		t.Fatalf("connecting to the test database: %v", err)
	}
	return db
}
