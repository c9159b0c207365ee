package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// PostgresSchemaURL returns ORGGUARD_TEST_POSTGRES with a fresh schema
// (named prefix_<random>) as its search path, dropped when the test ends.
// It skips the test when the variable is unset, except with CI=true, where
// a missing PostgreSQL is a failure: its tests must run in CI.
func PostgresSchemaURL(t testing.TB, prefix string) string {
	t.Helper()
	base := os.Getenv("ORGGUARD_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("ORGGUARD_TEST_POSTGRES is not set and CI=true: the PostgreSQL tests must run in CI (scripts/test-env.sh prints it)")
		}
		t.Skip("ORGGUARD_TEST_POSTGRES is not set")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
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
