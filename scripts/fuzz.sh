#!/usr/bin/env bash
# Runs every Fuzz* target in the module for a short time each (default 5s).
# A finding (a failing input written to testdata/fuzz) fails at once; a run
# that fails without a finding (the fuzzing engine's own worker trouble on a
# loaded machine, such as "context deadline exceeded") is tried up to three
# times, and its output is shown either way.
set -euo pipefail
t="${1:-5s}"
cd "$(dirname "$0")/.."
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
while read -r f; do
	pkg="./$(dirname "${f#./}")"
	for fn in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //'); do
		echo "fuzz: $pkg $fn ($t)"
		for try in 1 2 3; do
			if go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$t" "$pkg" >"$log" 2>&1; then
				break
			fi
			tail -n 30 "$log"
			if grep -q 'Failing input written to' "$log" || [ "$try" = 3 ]; then
				echo "fuzz: FAIL $pkg $fn"
				status=1
				break
			fi
			echo "fuzz: $pkg $fn failed without a finding (the fuzzing engine's own trouble, e.g. its context deadline on a loaded machine); retrying"
		done
	done
done < <(grep -rl --include='*_test.go' '^func Fuzz' . | sort)
[ "$status" = 0 ] && echo "fuzz: done"
exit "$status"
