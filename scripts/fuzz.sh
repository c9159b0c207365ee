#!/usr/bin/env bash
# Runs every Fuzz* target in the module for a short time each (default 5s).
set -euo pipefail
t="${1:-5s}"
cd "$(dirname "$0")/.."
grep -rl --include='*_test.go' '^func Fuzz' . | while read -r f; do
	pkg="./$(dirname "${f#./}")"
	grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //' | while read -r fn; do
		echo "fuzz: $pkg $fn ($t)"
		go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$t" "$pkg" >/dev/null
	done
done
echo "fuzz: done"
