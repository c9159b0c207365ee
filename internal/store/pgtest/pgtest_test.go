package pgtest_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/orgguard/orgguard/internal/store/pgtest"
)

func TestAClusterRestartsAndKeepsItsData(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL server")
	}
	c := pgtest.New(t)
	ctx := context.Background()
	db, err := sql.Open("pgx", c.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range []pgtest.Mode{pgtest.Fast, pgtest.Immediate} {
		if err := c.Restart(m); err != nil {
			t.Fatalf("Restart(%s): %v", m, err)
		}
		var v int
		if err := db.QueryRowContext(ctx, `SELECT v FROM kept`).Scan(&v); err != nil || v != 42 {
			t.Fatalf("after Restart(%s): SELECT v = %d, %v; want 42", m, v, err)
		}
	}
	if err := c.Stop(pgtest.Fast); err != nil {
		t.Fatal(err)
	}
	qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := db.PingContext(qctx); err == nil {
		t.Fatal("Ping succeeded with the server stopped")
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("Ping after Start: %v", err)
	}
}
