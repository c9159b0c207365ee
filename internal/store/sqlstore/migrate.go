package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
)

//go:embed migrations
var migrationFiles embed.FS

// ErrSchemaTooNew: the database was migrated by a newer orgguard.
var ErrSchemaTooNew = errors.New("the store's schema is newer than this orgguard")

// Migration is one numbered schema migration.
type Migration struct {
	Version int
	Name    string // file name without the number and .sql, e.g. "init"
	SQL     string
}

// migrations reads and orders a dialect's migration files once.
var migrations = map[Driver]func() ([]Migration, error){
	SQLite:   sync.OnceValues(func() ([]Migration, error) { return readMigrations("migrations/sqlite") }),
	Postgres: sync.OnceValues(func() ([]Migration, error) { return readMigrations("migrations/postgres") }),
}

// Migrations returns the migrations for driver in version order.
func Migrations(driver Driver) ([]Migration, error) {
	f, ok := migrations[driver]
	if !ok {
		return nil, fmt.Errorf("no migrations for driver %q", driver)
	}
	return f()
}

// readMigrations reads NNNN_name.sql files from dir in version order.
// Numbers are unique but may leave gaps: a number is reserved for work in
// progress on another branch (auth took 0006 while the leases took 0007),
// and migrate applies each version not yet recorded, whatever order the
// versions arrive in.
func readMigrations(dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("reading migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || len(num) != 4 || v < 1 {
			return nil, fmt.Errorf("reading migrations: %s/%s is not named NNNN_name.sql", dir, name)
		}
		body, err := fs.ReadFile(migrationFiles, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", name, err)
		}
		ms = append(ms, Migration{Version: v, Name: rest, SQL: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("reading migrations: %s: two migrations numbered %04d (%s and %s)", dir, ms[i].Version, ms[i-1].Name, ms[i].Name)
		}
	}
	return ms, nil
}

// migrate applies the pending migrations — every known version not
// recorded yet, in version order — in one transaction, recording each in
// schema_migrations. A recorded version this binary does not know means a
// newer orgguard migrated the store: ErrSchemaTooNew. Concurrent migrators
// are kept apart by SQLite's BEGIN IMMEDIATE or a PostgreSQL advisory
// lock, and re-read what is applied once they hold it.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := Migrations(s.d.name)
	if err != nil {
		return err
	}
	known := map[int]bool{}
	for _, m := range ms {
		known[m.Version] = true
	}
	err = s.inTx(ctx, nil, func(tx *sql.Tx) error {
		if s.d.migrationLock != "" {
			if _, err := tx.ExecContext(ctx, s.d.migrationLock); err != nil {
				return fmt.Errorf("locking the schema: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.d.migrationsTable); err != nil {
			return fmt.Errorf("creating schema_migrations: %w", err)
		}
		applied, err := appliedVersions(ctx, tx)
		if err != nil {
			return err
		}
		for v := range applied {
			if !known[v] {
				return fmt.Errorf("%w: it has migration %04d, which this orgguard does not know (it knows up to %04d); upgrade orgguard", ErrSchemaTooNew, v, ms[len(ms)-1].Version)
			}
		}
		for _, m := range ms {
			if applied[m.Version] {
				continue
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("applying migration %04d_%s: %w", m.Version, m.Name, err)
			}
			if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				m.Version, m.Name, s.d.timeArg(s.now())); err != nil {
				return fmt.Errorf("recording migration %04d_%s: %w", m.Version, m.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrating the store at %s: %w", s.dsn, err)
	}
	return nil
}

// appliedVersions reads the recorded migration versions.
func appliedVersions(ctx context.Context, tx *sql.Tx) (map[int]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("reading the schema version: %w", err)
	}
	defer rows.Close()
	out := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("reading the schema version: %w", err)
		}
		out[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the schema version: %w", err)
	}
	return out, nil
}

// SchemaVersion returns the highest migration applied to the store.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("reading the schema version: %w", err)
	}
	return v, nil
}
