#!/usr/bin/env bash
# Brings up what the test suite needs on this machine, idempotently:
# PostgreSQL on 127.0.0.1:5432, the AWS CLI (Debian's awscli), boto3
# (Debian's python3-boto3), and Chromium (Debian's chromium, with a Japanese
# font for readable screenshots) for the browser tests of internal/web.
# It prints the environment variables the tests read.
set -euo pipefail

apt_updated=
need_pkg() { # need_pkg COMMAND PACKAGE
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "test-env: $1 is missing; install the Debian package $2" >&2
		return 1
	fi
	if [ -z "$apt_updated" ]; then
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >&2
}

# PostgreSQL: these machines run one on 127.0.0.1:5432; start it when it is not running.
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
	if command -v pg_ctlcluster >/dev/null 2>&1; then
		for v in /etc/postgresql/*; do
			pg_ctlcluster --skip-systemctl-redirect "$(basename "$v")" main start >&2 || true
		done
	fi
	for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
if command -v pg_isready >/dev/null 2>&1 && pg_isready -h 127.0.0.1 -p 5432 -q; then
	echo "ORGGUARD_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
else
	echo "test-env: PostgreSQL is not running on 127.0.0.1:5432; its tests will be skipped" >&2
fi

need_pkg aws awscli || true

# Chromium for internal/web/webtest: the browser tests skip without it,
# except under CI=true, where they fail. Screenshots go to ORGGUARD_ARTIFACTS.
if need_pkg chromium chromium; then
	if command -v fc-list >/dev/null 2>&1 && ! fc-list :lang=ja | grep -q .; then
		if [ "$(id -u)" = 0 ]; then
			[ -n "$apt_updated" ] || { DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2; apt_updated=1; }
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >&2 || true
		else
			echo "test-env: no Japanese font; install the Debian package fonts-noto-cjk for readable screenshots" >&2
		fi
	fi
else
	echo "test-env: the browser tests will be skipped (or fail under CI=true)" >&2
fi
echo "ORGGUARD_ARTIFACTS=${ORGGUARD_ARTIFACTS:-$PWD/.artifacts}"

# boto3 for scripts/boto3-test.py: Debian's python3-boto3 when python3 lacks it.
if ! python3 -c 'import boto3' >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ]; then
		[ -n "$apt_updated" ] || DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-boto3 >&2 || true
	else
		echo "test-env: boto3 is missing; install the Debian package python3-boto3" >&2
	fi
fi
