// Package sqlstore implements store.Store on SQLite (modernc.org/sqlite, no
// cgo) and PostgreSQL (pgx through database/sql) with one code path: the
// queries are written once, and the differences are isolated in a dialect
// value and in per-dialect migration files.
//
// SQLite runs in WAL mode with foreign keys on, a busy timeout and
// synchronous=FULL, through exactly one writer connection (transactions
// begin IMMEDIATE, so writers queue instead of failing half-way) and a
// small pool of read-only connections.
package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver

	"github.com/orgguard/orgguard/internal/store"
)

// ErrNoStore: the store asked for with MustExist does not exist.
var ErrNoStore = errors.New("no store")

// Option configures Open.
type Option func(*options)

type options struct {
	now       func() time.Time
	mustExist bool
	readConns int
	sync      string // SQLite synchronous mode; FULL unless a benchmark compares
}

// WithClock makes the store take its times from now instead of time.Now.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// MustExist makes Open fail with ErrNoStore instead of creating an SQLite
// database that does not exist yet (for commands that only read).
func MustExist() Option { return func(o *options) { o.mustExist = true } }

// busyTimeout is how long an SQLite connection waits for another process's
// write lock before giving up.
const busyTimeout = 10 * time.Second

// Store is the SQL store. It implements store.Store.
type Store struct {
	ops
	dsn   DSN
	write *sql.DB // all transactions; one connection on SQLite
	read  *sql.DB // reads outside transactions; == write on PostgreSQL
	d     dialect
	now   func() time.Time
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it if needed, unless MustExist) the store at dsn —
// see ParseDSN — and brings its schema up to date.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := options{now: time.Now, readConns: 4, sync: "FULL"}
	for _, opt := range opts {
		opt(&o)
	}
	parsed, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	s := &Store{dsn: parsed, now: o.now}
	s.ops = ops{s: s}
	switch parsed.Driver {
	case SQLite:
		err = s.openSQLite(ctx, parsed.Path, o)
	case Postgres:
		err = s.openPostgres(ctx, parsed.URL)
	}
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) openSQLite(ctx context.Context, path string, o options) error {
	s.d = sqliteDialect
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if o.mustExist {
			return fmt.Errorf("opening the store: %w at %s", ErrNoStore, path)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("creating the store's directory: %w", err)
		}
	}
	// synchronous=FULL: in WAL mode NORMAL survives a process crash but may
	// lose the last commits on power loss; the journal written before each
	// step must not, or recovery could miss a step that reached AWS.
	params := url.Values{}
	params.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	params.Add("_pragma", "foreign_keys(1)")
	params.Add("_pragma", "journal_mode(WAL)")
	params.Add("_pragma", "synchronous("+o.sync+")")
	params.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", path+"?"+params.Encode())
	if err != nil {
		return fmt.Errorf("opening SQLite database %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return fmt.Errorf("opening SQLite database %s: %w", path, err)
	}
	params.Add("_pragma", "query_only(1)")
	params.Del("_txlock")
	r, err := sql.Open("sqlite", path+"?"+params.Encode())
	if err != nil {
		w.Close()
		return fmt.Errorf("opening SQLite database %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(o.readConns)
	r.SetMaxIdleConns(o.readConns)
	s.write, s.read = w, r
	return nil
}

func (s *Store) openPostgres(ctx context.Context, u string) error {
	s.d = postgresDialect
	db, err := sql.Open("pgx", u)
	if err != nil {
		return fmt.Errorf("opening PostgreSQL %s: %w", s.dsn, err)
	}
	db.SetMaxOpenConns(10)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return fmt.Errorf("connecting to PostgreSQL %s: %w", s.dsn, err)
	}
	s.write, s.read = db, db
	return nil
}

// Driver says which database the store runs on.
func (s *Store) Driver() Driver { return s.d.name }

// DSN returns the store's address with any password hidden.
func (s *Store) DSN() string { return s.dsn.String() }

// DB returns the underlying writer database handle, for tests and tools
// that inspect the store with raw SQL. Writing through it bypasses every
// guarantee the store makes.
func (s *Store) DB() *sql.DB { return s.write }

// Close releases the store's connections.
func (s *Store) Close() error {
	var errs []error
	if s.read != nil && s.read != s.write {
		errs = append(errs, s.read.Close())
	}
	if s.write != nil {
		errs = append(errs, s.write.Close())
	}
	return errors.Join(errs...)
}

// WithTx runs fn in one transaction; see store.Store.
func (s *Store) WithTx(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.inTx(ctx, nil, func(tx *sql.Tx) error { return fn(ops{s: s, tx: tx}) })
}

// Fenced implements store.Store: a view whose write transactions check f
// first (see checkFence).
func (s *Store) Fenced(f store.Fence) store.Store { return fencedStore{ops{s: s, fence: &f}} }

// fencedStore is the view Fenced returns.
type fencedStore struct{ ops }

func (v fencedStore) WithTx(ctx context.Context, fn func(tx store.Tx) error) error {
	return v.s.inTx(ctx, v.fence, func(tx *sql.Tx) error { return fn(ops{s: v.s, tx: tx, fence: v.fence}) })
}

func (v fencedStore) Fenced(f store.Fence) store.Store { return v.s.Fenced(f) }

// Close closes nothing: the view shares the store's connections.
func (v fencedStore) Close() error { return nil }

// inTx runs fn in a write transaction, committing when it returns nil.
// With a fence, the transaction first checks that its tenure is current
// (checkFence) and writes nothing when it is not.
func (s *Store) inTx(ctx context.Context, fence *store.Fence, fn func(tx *sql.Tx) error) (err error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning a transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
		if err != nil {
			tx.Rollback()
		}
	}()
	if fence != nil {
		if err := s.checkFence(ctx, tx, *fence); err != nil {
			return err
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing a transaction: %w", err)
	}
	return nil
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// ops implements store.Tx. Outside a transaction (tx == nil) each write
// method runs in a transaction of its own and reads use the read pool;
// inside one, everything uses tx.
type ops struct {
	s  *Store
	tx *sql.Tx
	// fence, when set, is checked at the start of every write
	// transaction the ops begin (Store.Fenced).
	fence *store.Fence
}

// write runs fn in the enclosing transaction or in a new one.
func (o ops) write(ctx context.Context, fn func(q querier) error) error {
	if o.tx != nil {
		return fn(o.tx)
	}
	return o.s.inTx(ctx, o.fence, func(tx *sql.Tx) error { return fn(tx) })
}

// reader returns what reads go through.
func (o ops) reader() querier {
	if o.tx != nil {
		return o.tx
	}
	return o.s.read
}

// q rebinds a query for the dialect.
func (o ops) q(query string) string { return o.s.d.rebind(query) }

// now returns the store clock's time at the precision stored.
func (o ops) now() time.Time { return o.s.now().UTC().Truncate(time.Microsecond) }

// newID returns prefix-<16 hex digits> from crypto/rand.
func newID(prefix string) string {
	var b [8]byte
	rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// newToken returns a random lock token.
func newToken() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// limitClause returns " LIMIT n" for n > 0.
func limitClause(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf(" LIMIT %d", n)
}

// queryAll runs query on q and scans every row with scan; what names the
// work in errors ("listing plans").
func queryAll[T any](ctx context.Context, q querier, what, query string, args []any, scan func(row interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
