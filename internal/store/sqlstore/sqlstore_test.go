package sqlstore

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/store/storetest"
)

// openSQLite opens a fresh SQLite store in a temporary directory.
func openSQLite(t testing.TB, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "orgguard.db"), opts...)
	if err != nil {
		t.Fatalf("Open(sqlite): %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// postgresURL returns ORGGUARD_TEST_POSTGRES, skipping the test when it is
// unset — unless CI=true, where a missing PostgreSQL is a failure.
func postgresURL(t testing.TB) string { return storetest.PostgresURL(t) }

// openPostgres opens a store in a fresh schema og_test_<random> of the
// PostgreSQL database at ORGGUARD_TEST_POSTGRES and drops the schema after.
func openPostgres(t testing.TB, opts ...Option) *Store {
	t.Helper()
	u := storetest.PostgresSchemaURL(t, "og_test")
	s, err := Open(context.Background(), u, opts...)
	if err != nil {
		t.Fatalf("Open(postgres): %v", err)
	}
	t.Cleanup(func() { s.Close() }) // runs before the schema is dropped
	return s
}

// dialects lists the stores to run dialect-independent tests against.
var dialects = []struct {
	name string
	open func(testing.TB, ...Option) *Store
}{
	{"sqlite", openSQLite},
	{"postgres", openPostgres},
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openSQLite(t) })
}

func TestPostgres(t *testing.T) {
	postgresURL(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openPostgres(t) })
}

func TestSQLitePragmas(t *testing.T) {
	s := openSQLite(t)
	ctx := t.Context()
	for _, tc := range []struct {
		db     *sql.DB
		pragma string
		want   string
	}{
		{s.write, "journal_mode", "wal"},
		{s.write, "foreign_keys", "1"},
		{s.write, "synchronous", "2"}, // FULL
		{s.write, "busy_timeout", "10000"},
		{s.read, "query_only", "1"},
		{s.read, "foreign_keys", "1"},
	} {
		var got string
		if err := tc.db.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tc.pragma, err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s = %q, want %q", tc.pragma, got, tc.want)
		}
	}
	if n := s.write.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("writer pool allows %d connections, want exactly 1", n)
	}
}

func TestMigrations(t *testing.T) {
	for _, d := range dialects {
		t.Run("on "+d.name+" migrations are recorded once and reopening applies nothing", func(t *testing.T) {
			s := d.open(t)
			ctx := t.Context()
			ms, err := Migrations(s.Driver())
			if err != nil {
				t.Fatal(err)
			}
			if v, err := s.SchemaVersion(ctx); err != nil || v != ms[len(ms)-1].Version {
				t.Fatalf("SchemaVersion = %d, %v, want %d", v, err, ms[len(ms)-1].Version)
			}
			if err := s.migrate(ctx); err != nil {
				t.Fatalf("migrating again: %v", err)
			}
			var n int
			if err := s.write.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(ms) {
				t.Errorf("schema_migrations has %d rows (%v), want %d", n, err, len(ms))
			}
		})
		t.Run("on "+d.name+" a version missing below the highest applied is applied (numbers reserved by parallel work)", func(t *testing.T) {
			s := d.open(t)
			ctx := t.Context()
			// As if 0007 had landed first and 0004 arrived with a later merge.
			for _, q := range []string{`DELETE FROM schema_migrations WHERE version = 4`, `DROP TABLE latest_snapshots`} {
				if _, err := s.write.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.migrate(ctx); err != nil {
				t.Fatalf("migrate = %v", err)
			}
			var n int
			if err := s.write.QueryRowContext(ctx, `SELECT COUNT(*) FROM latest_snapshots`).Scan(&n); err != nil {
				t.Errorf("latest_snapshots after re-migrating: %v, want the table back", err)
			}
		})
		t.Run("on "+d.name+" a schema newer than the binary is refused", func(t *testing.T) {
			s := d.open(t)
			ctx := t.Context()
			if _, err := s.write.ExecContext(ctx, s.d.rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				999, "future", s.d.timeArg(time.Now())); err != nil {
				t.Fatal(err)
			}
			if err := s.migrate(ctx); !errorsIs(err, ErrSchemaTooNew) {
				t.Errorf("migrate = %v, want ErrSchemaTooNew", err)
			}
		})
	}
	t.Run("both dialects have the same migration files", func(t *testing.T) {
		a, err := Migrations(SQLite)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Migrations(Postgres)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) {
			t.Fatalf("sqlite has %d migrations, postgres %d", len(a), len(b))
		}
		for i := range a {
			if a[i].Version != b[i].Version || a[i].Name != b[i].Name {
				t.Errorf("migration %d: sqlite %04d_%s, postgres %04d_%s", i, a[i].Version, a[i].Name, b[i].Version, b[i].Name)
			}
		}
	})
}

// TestSchemaParity checks that the two dialects' schemas have the same
// tables and columns after migrating.
func TestSchemaParity(t *testing.T) {
	lite := openSQLite(t)
	pg := openPostgres(t)
	ctx := t.Context()
	columns := func(s *Store, query string) map[string]bool {
		rows, err := s.write.QueryContext(ctx, query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]bool{}
		for rows.Next() {
			var table, col string
			if err := rows.Scan(&table, &col); err != nil {
				t.Fatal(err)
			}
			out[table+"."+col] = true
		}
		return out
	}
	a := columns(lite, `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'`)
	b := columns(pg, `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`)
	for c := range a {
		if !b[c] {
			t.Errorf("column %s is in the SQLite schema but not in PostgreSQL's", c)
		}
	}
	for c := range b {
		if !a[c] {
			t.Errorf("column %s is in the PostgreSQL schema but not in SQLite's", c)
		}
	}
}

func TestMustExist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent", "orgguard.db")
	if _, err := Open(t.Context(), path, MustExist()); !errorsIs(err, ErrNoStore) {
		t.Errorf("Open(%q, MustExist) = %v, want ErrNoStore", path, err)
	}
	if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
		t.Errorf("Open with MustExist created %s", filepath.Dir(path))
	}
}

func TestClock(t *testing.T) {
	at := time.Date(2026, 7, 1, 9, 30, 0, 987654321, time.UTC)
	s := openSQLite(t, WithClock(func() time.Time { return at }))
	e, err := s.AppendAudit(t.Context(), store.AuditRecord{Actor: "a", Action: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if want := at.Truncate(time.Microsecond); !e.At.Equal(want) {
		t.Errorf("AppendAudit.At = %v, want the injected clock's %v", e.At, want)
	}
}
