// Package pgtest starts a private, throwaway PostgreSQL cluster for one
// test, so that the test may stop, restart or crash the server without
// touching the shared one (ORGGUARD_TEST_POSTGRES) other tests use.
//
// The cluster lives in its own directory under os.TempDir() (named
// orgguard-pgtest-*, with the test process's pid in an owner file): as root
// the server must run as the postgres user, which cannot enter the 0700
// directories t.TempDir makes. A cluster left behind by a test process that
// was killed before its cleanup ran is stopped and removed by the next
// New.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Mode is how pg_ctl stops the server (pg_ctl -m).
type Mode string

// The shutdown modes.
const (
	// Fast disconnects the clients, rolls back their transactions and
	// shuts down cleanly.
	Fast Mode = "fast"
	// Immediate aborts every server process at once (crash recovery at
	// the next start), like a power cut of the database.
	Immediate Mode = "immediate"
)

const prefix = "orgguard-pgtest-"

// binDirs are where the PostgreSQL server binaries are looked for after
// $PATH.
var binDirs = []string{"/usr/local/bin", "/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/14/bin"}

// Cluster is a private PostgreSQL server.
type Cluster struct {
	t      testing.TB
	dir    string // the cluster's directory: data/, sock/, server.log
	data   string
	port   int
	initdb string
	pgctl  string
	asUser []string // runuser -u postgres -- when running as root
}

// New initialises a cluster in a fresh directory, starts it and returns
// it; the test's cleanup stops it (immediate) and removes it. It skips the
// test when the PostgreSQL server binaries (initdb, pg_ctl) are missing,
// except with CI=true, where that is a failure.
func New(t testing.TB) *Cluster {
	t.Helper()
	initdb, pgctl, err := binaries()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("pgtest: %v (CI=true: the private-cluster tests must run in CI)", err)
		}
		t.Skipf("pgtest: %v; install the PostgreSQL server (Debian: postgresql)", err)
	}
	c := &Cluster{t: t, initdb: initdb, pgctl: pgctl}
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		if _, err := user.Lookup("postgres"); err != nil {
			t.Fatalf("pgtest: running as root and there is no postgres user to run the server as: %v", err)
		}
		runuser, err := exec.LookPath("runuser")
		if err != nil {
			t.Fatalf("pgtest: running as root and runuser is missing: %v", err)
		}
		c.asUser = []string{runuser, "-u", "postgres", "--"}
	}
	cleanStale(t, pgctl)
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	c.dir, c.data = dir, filepath.Join(dir, "data")
	t.Cleanup(func() {
		_ = c.ctl("stop", "-m", string(Immediate), "-w", "-t", "30")
		os.RemoveAll(dir)
	})
	if err := os.WriteFile(filepath.Join(dir, "owner"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sock"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := c.chown(); err != nil {
		t.Fatalf("pgtest: handing %s to the postgres user: %v", dir, err)
	}
	if out, err := c.run(c.initdb, "-D", c.data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"); err != nil {
		t.Fatalf("pgtest: initdb: %v\n%s", err, out)
	}
	// A free port may be taken by the time the server binds it: try a
	// few.
	for attempt := 1; ; attempt++ {
		c.port = freePort(t)
		conf := fmt.Sprintf(`
listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = '%s'
max_connections = 100
shared_buffers = 16MB
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
`, c.port, filepath.Join(dir, "sock"))
		f, err := os.OpenFile(filepath.Join(c.data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.WriteString(conf)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		err = c.Start()
		if err == nil {
			break
		}
		if attempt == 3 {
			t.Fatalf("pgtest: %v", err)
		}
	}
	return c
}

// binaries finds initdb and pg_ctl: on $PATH, else in the usual
// directories.
func binaries() (initdb, pgctl string, err error) {
	find := func(name string) string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		for _, d := range binDirs {
			p := filepath.Join(d, name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return p
			}
		}
		return ""
	}
	initdb, pgctl = find("initdb"), find("pg_ctl")
	if initdb == "" || pgctl == "" {
		return "", "", fmt.Errorf("the PostgreSQL server binaries initdb and pg_ctl are not on $PATH nor in %s", strings.Join(binDirs, ", "))
	}
	// pg_ctl starts the postgres next to it.
	if _, err := os.Stat(filepath.Join(filepath.Dir(pgctl), "postgres")); err != nil {
		if real, rerr := filepath.EvalSymlinks(pgctl); rerr == nil {
			pgctl = real
		}
	}
	return initdb, pgctl, nil
}

// cleanStale stops and removes the clusters of test processes that are
// gone (killed before their cleanup ran).
func cleanStale(t testing.TB, pgctl string) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner"))
		if err != nil {
			continue // being set up, or not ours
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || alive(pid) {
			continue
		}
		stale := &Cluster{t: t, dir: d, data: filepath.Join(d, "data"), pgctl: pgctl}
		if os.Geteuid() == 0 {
			stale.asUser = []string{"runuser", "-u", "postgres", "--"}
		}
		_ = stale.ctl("stop", "-m", string(Immediate), "-w", "-t", "30")
		if err := os.RemoveAll(d); err == nil {
			t.Logf("pgtest: removed the stale cluster %s (its test process %d is gone)", d, pid)
		}
	}
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (c *Cluster) chown() error {
	if c.asUser == nil {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.Walk(c.dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// run runs a PostgreSQL binary (as the postgres user when root), its
// output to a file: pg_ctl start leaves the server running, and a pipe it
// inherited would keep the command from ending.
func (c *Cluster) run(bin string, args ...string) (string, error) {
	argv := append(append(append([]string{}, c.asUser...), bin), args...)
	out, err := os.CreateTemp("", prefix+"out-")
	if err != nil {
		return "", err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	err = cmd.Run()
	b, _ := os.ReadFile(out.Name())
	return string(b), err
}

func (c *Cluster) ctl(args ...string) error {
	args = append([]string{"-D", c.data}, args...)
	out, err := c.run(c.pgctl, args...)
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// DSN is the URL of the cluster's postgres database (user postgres,
// trust authentication) over TCP on 127.0.0.1.
func (c *Cluster) DSN() string {
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)), Path: "/postgres", RawQuery: "sslmode=disable"}
	return u.String()
}

// Port is the TCP port the server listens on.
func (c *Cluster) Port() int { return c.port }

// Log returns the server's log so far.
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
	return string(b)
}

// Start starts the server and waits until it accepts connections.
func (c *Cluster) Start() error {
	return c.ctl("start", "-w", "-t", "60", "-l", filepath.Join(c.dir, "server.log"))
}

// Stop stops the server with mode and waits until it is gone.
func (c *Cluster) Stop(mode Mode) error {
	return c.ctl("stop", "-m", string(mode), "-w", "-t", "60")
}

// Restart stops the server with mode, starts it again and waits until it
// accepts connections (pg_ctl restart).
func (c *Cluster) Restart(mode Mode) error {
	return c.ctl("restart", "-m", string(mode), "-w", "-t", "60", "-l", filepath.Join(c.dir, "server.log"))
}
