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

// readMigrations reads NNNN_name.sql files from dir; the numbers must run
// 1, 2, 3 ... without gaps or duplicates.
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
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("reading migrations: %s: expected migration %04d, found %04d_%s", dir, i+1, m.Version, m.Name)
		}
	}
	return ms, nil
}

// migrate applies the pending migrations in one transaction, recording each
// in schema_migrations. Concurrent migrators are kept apart by SQLite's
// BEGIN IMMEDIATE or a PostgreSQL advisory lock, and re-read what is applied
// once they hold it.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := Migrations(s.d.name)
	if err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if s.d.migrationLock != "" {
			if _, err := tx.ExecContext(ctx, s.d.migrationLock); err != nil {
				return fmt.Errorf("locking the schema: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.d.migrationsTable); err != nil {
			return fmt.Errorf("creating schema_migrations: %w", err)
		}
		var current int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return fmt.Errorf("reading the schema version: %w", err)
		}
		if current > len(ms) {
			return fmt.Errorf("%w: it is at version %d, this orgguard knows up to %d; upgrade orgguard", ErrSchemaTooNew, current, len(ms))
		}
		for _, m := range ms[current:] {
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

// SchemaVersion returns the highest migration applied to the store.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("reading the schema version: %w", err)
	}
	return v, nil
}
