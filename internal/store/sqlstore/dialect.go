package sqlstore

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect isolates every difference between SQLite and PostgreSQL the Go
// code sees; the schema differences live in the per-dialect migration
// directories. Queries are written once with '?' placeholders.
type dialect struct {
	name Driver
	// numbered placeholders ($1, $2, ...) instead of '?'.
	numbered bool
	// migrationsTable creates the migrations record table.
	migrationsTable string
	// migrationLock, when set, is run first in the migration transaction to
	// keep concurrent migrators apart (SQLite's BEGIN IMMEDIATE already does).
	migrationLock string
	// lockRow, keepRow and shareRow are appended to a SELECT of one row
	// to lock it for the transaction ("" on SQLite, where the one writer
	// holds everything): lockRow excludes every other lock (a take-over of
	// the lease waits for the fenced transactions in flight); keepRow only
	// excludes lockRow and other writers (a renewal does not wait for the
	// leader's own fenced transactions, nor they for it); shareRow is
	// what a fenced transaction takes, compatible with keepRow.
	lockRow, keepRow, shareRow string
	// fenceTimeout, when set, runs first in a fenced transaction: a
	// session that stalls inside it (a SIGSTOPped process holding the
	// lease row's share lock) is ended by the server, so that it cannot
	// hold up the next leader's take-over for longer.
	fenceTimeout string
}

var (
	sqliteDialect = dialect{
		name: SQLite,
		migrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
	version INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	applied_at TEXT NOT NULL
)`,
	}
	postgresDialect = dialect{
		name:     Postgres,
		numbered: true,
		migrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
	version INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	applied_at TIMESTAMPTZ NOT NULL
)`,
		// An arbitrary constant key: "orgguard" in ASCII.
		migrationLock: `SELECT pg_advisory_xact_lock(8245937412365108580)`,
		lockRow:       ` FOR UPDATE`,
		keepRow:       ` FOR NO KEY UPDATE`,
		shareRow:      ` FOR KEY SHARE`,
		fenceTimeout:  `SET LOCAL idle_in_transaction_session_timeout = '5s'`,
	}
)

// rebind rewrites '?' placeholders for the dialect. The queries in this
// package never contain a literal '?' inside a string.
func (d dialect) rebind(q string) string {
	if !d.numbered {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// timeLayout is how SQLite stores times: fixed width, so that text order is
// time order, in UTC with microseconds (PostgreSQL's precision).
const timeLayout = "2006-01-02T15:04:05.000000Z"

// timeArg converts t for a query argument.
func (d dialect) timeArg(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if d.name == SQLite {
		return t.Format(timeLayout)
	}
	return t
}

// nullTimeArg is timeArg with the zero time as NULL.
func (d dialect) nullTimeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return d.timeArg(t)
}

// isUnique reports whether err is a unique or primary key violation.
func isUnique(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// isForeignKey reports whether err is a foreign key violation.
func isForeignKey(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}

// timeScan scans a time column in either dialect's representation: a
// time.Time (PostgreSQL), a string in timeLayout (SQLite), or NULL (the zero
// time).
type timeScan struct{ t *time.Time }

func (s timeScan) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*s.t = time.Time{}
	case time.Time:
		*s.t = v.UTC()
	case string:
		return s.parse(v)
	case []byte:
		return s.parse(string(v))
	default:
		return errors.New("scanning a time: unexpected column type")
	}
	return nil
}

func (s timeScan) parse(v string) error {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return err
	}
	*s.t = t.UTC()
	return nil
}

// jsonArg passes a JSON value, NULL when empty.
func jsonArg(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// bytesScan scans a JSON or blob column into a byte slice it owns (nil for NULL).
type bytesScan struct{ b *[]byte }

func (s bytesScan) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*s.b = nil
	case []byte:
		*s.b = append([]byte(nil), v...)
	case string:
		*s.b = []byte(v)
	default:
		return errors.New("scanning bytes: unexpected column type")
	}
	return nil
}
