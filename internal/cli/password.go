package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// readPassword reads a new password: from the first line of standard
// input with fromStdin (for scripts: `printf '%s\n' "$PW" | orgguard user
// add ... --password-stdin`), else from the terminal without echo, asked
// twice. Without a terminal and without --password-stdin it refuses: a
// password never comes from a flag, where it would stay in the shell's
// history and the process list.
func readPassword(e *env, who string, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(io.LimitReader(e.stdin, 1<<16)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", badInput(fmt.Errorf("reading the password from standard input: %w", err))
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line == "" {
			return "", badInput(errors.New("--password-stdin: standard input holds no password"))
		}
		return line, nil
	}
	f, ok := e.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", badInput(errors.New("no terminal to ask for the password on: pass it on standard input with --password-stdin"))
	}
	ask := func(prompt string) (string, error) {
		fmt.Fprint(e.stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", withCode(ExitInternal, fmt.Errorf("reading the password from the terminal: %w", err))
		}
		return string(b), nil
	}
	pw, err := ask(fmt.Sprintf("New password for %s: ", who))
	if err != nil {
		return "", err
	}
	again, err := ask("Again: ")
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", badInput(errors.New("the two passwords differ; nothing was changed"))
	}
	return pw, nil
}
