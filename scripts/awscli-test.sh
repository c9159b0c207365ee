#!/usr/bin/env bash
# Points the real AWS CLI at `orgguard sim serve` and checks what it sees:
# the tree (list-roots, list-children, list-accounts over many pages, with
# the CLI's own paging and with --starting-token by hand), attaching and
# detaching a policy, moving an account and back, and AWS-shaped errors.
# Works with aws-cli 1.x and 2.x (Debian's awscli). Checks use python3
# (jq is not needed). Exits non-zero on the first mismatch.
#
#   scripts/awscli-test.sh              # uses ./bin/orgguard, else builds it
#   ORGGUARD=/path/to/orgguard scripts/awscli-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

command -v aws >/dev/null 2>&1 || { echo "awscli-test: the AWS CLI (aws) is not installed" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "awscli-test: python3 is not installed" >&2; exit 1; }

tmp="$(mktemp -d)"
server_pid=
cleanup() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "awscli-test: FAIL: $*" >&2
	if [ -f "$tmp/server.log" ]; then
		echo "--- server log (last 20 lines)" >&2
		tail -n 20 "$tmp/server.log" >&2
	fi
	exit 1
}
step() { echo "awscli-test: $*"; }

orgguard="${ORGGUARD:-./bin/orgguard}"
if [ ! -x "$orgguard" ]; then
	step "building orgguard"
	go build -o "$tmp/orgguard" ./cmd/orgguard
	orgguard="$tmp/orgguard"
fi

# Isolate the CLI from the user's configuration; any credentials work.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_CONFIG_FILE="$tmp/aws-config" AWS_SHARED_CREDENTIALS_FILE="$tmp/aws-credentials"
export AWS_PAGER="" AWS_DEFAULT_OUTPUT=json
unset AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_ORGANIZATIONS || true
: >"$AWS_CONFIG_FILE"
: >"$AWS_SHARED_CREDENTIALS_FILE"
step "$(aws --version 2>&1 | head -n 1)"

state="$tmp/state.json"
"$orgguard" sim generate --accounts 60 --seed 5 --out "$state" >/dev/null
cp "$state" "$tmp/initial.json"

# Start the server on a free port; it prints its endpoint on stdout.
"$orgguard" sim serve --listen 127.0.0.1:0 --state "$state" --log-level warn >"$tmp/endpoint" 2>"$tmp/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
	[ -s "$tmp/endpoint" ] && break
	kill -0 "$server_pid" 2>/dev/null || fail "orgguard sim serve exited early"
	sleep 0.1
done
endpoint="$(head -n 1 "$tmp/endpoint")"
case "$endpoint" in http://127.0.0.1:*) ;; *) fail "no endpoint printed by sim serve (got '$endpoint')" ;; esac
step "server at $endpoint"

org() { aws --endpoint-url "$endpoint" --output json organizations "$@"; }

# check PY_EXPR JSON_FILE...: evaluates a python3 expression with the files
# loaded as j[0], j[1], ... and the initial state as s; fails when false.
check() {
	local what="$1" expr="$2"
	shift 2
	python3 - "$expr" "$tmp/initial.json" "$@" <<'PY' || fail "$what"
import json, sys
expr, state = sys.argv[1], json.load(open(sys.argv[2]))
j = [json.load(open(p)) for p in sys.argv[3:]]
s = state
root = s["root"]["id"]
accounts = {a["id"]: a for a in s["accounts"]}
ous = {o["id"]: o for o in s["organizationalUnits"]}
attach = {(a["policyId"], a["targetId"]) for a in s["attachments"]}
ok = eval(expr)
if not ok:
    print("expression false: " + expr, file=sys.stderr)
    for i, v in enumerate(j):
        print("j[%d] = %s" % (i, json.dumps(v)[:600]), file=sys.stderr)
    sys.exit(1)
PY
}

# py EXPR: prints a value computed from the initial state.
py() {
	python3 - "$1" "$tmp/initial.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[2]))
root = s["root"]["id"]
accounts = {a["id"]: a for a in s["accounts"]}
ous = {o["id"]: o for o in s["organizationalUnits"]}
attach = {(a["policyId"], a["targetId"]) for a in s["attachments"]}
print(eval(sys.argv[1]))
PY
}

step "list-roots"
org list-roots >"$tmp/roots.json"
check "list-roots returns the root" 'len(j[0]["Roots"]) == 1 and j[0]["Roots"][0]["Id"] == root' "$tmp/roots.json"

step "describe-organization"
org describe-organization >"$tmp/org.json"
check "describe-organization" 'j[0]["Organization"]["Id"] == s["organization"]["id"] and j[0]["Organization"]["MasterAccountId"] == s["organization"]["managementAccountId"]' "$tmp/org.json"

step "list-children (OUs and accounts under the root, pages of 2)"
org list-children --parent-id "$(py root)" --child-type ORGANIZATIONAL_UNIT --page-size 2 >"$tmp/child-ous.json"
check "list-children ORGANIZATIONAL_UNIT" 'sorted(c["Id"] for c in j[0]["Children"]) == sorted(o for o in ous if ous[o]["parentId"] == root) and all(c["Type"] == "ORGANIZATIONAL_UNIT" for c in j[0]["Children"])' "$tmp/child-ous.json"
org list-children --parent-id "$(py root)" --child-type ACCOUNT --page-size 2 >"$tmp/child-accts.json"
check "list-children ACCOUNT" 'sorted(c["Id"] for c in j[0]["Children"]) == sorted(a for a in accounts if accounts[a]["parentId"] == root)' "$tmp/child-accts.json"

step "list-organizational-units-for-parent"
org list-organizational-units-for-parent --parent-id "$(py root)" --page-size 3 >"$tmp/ous-0.json"
check "list-organizational-units-for-parent of the root" 'sorted(o["Id"] for o in j[0]["OrganizationalUnits"]) == sorted(o for o in ous if ous[o]["parentId"] == root)' "$tmp/ous-0.json"

step "list-accounts with the CLI's paging (pages of 7)"
org list-accounts --page-size 7 >"$tmp/accounts.json"
check "list-accounts returns every account once" 'sorted(a["Id"] for a in j[0]["Accounts"]) == sorted(accounts)' "$tmp/accounts.json"

step "list-accounts by hand with --max-items and --starting-token"
org list-accounts --page-size 5 --max-items 25 >"$tmp/accounts-p0.json"
check "first 25 accounts and a NextToken" 'len(j[0]["Accounts"]) == 25 and j[0].get("NextToken")' "$tmp/accounts-p0.json"
token="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["NextToken"])' "$tmp/accounts-p0.json")"
org list-accounts --page-size 5 --starting-token "$token" >"$tmp/accounts-p1.json"
check "the rest of the accounts after --starting-token" 'sorted(a["Id"] for a in j[0]["Accounts"] + j[1]["Accounts"]) == sorted(accounts) and not j[1].get("NextToken")' "$tmp/accounts-p0.json" "$tmp/accounts-p1.json"

# Pick a member account under an OU, a customer SCP not attached to it, and
# another OU to move it to.
account="$(py 'sorted(a for a in accounts if accounts[a]["parentId"] != root and a != s["organization"]["managementAccountId"])[0]')"
source_parent="$(py "accounts['$account']['parentId']")"
policy="$(py "sorted(p['id'] for p in s['policies'] if p['type'] == 'SERVICE_CONTROL_POLICY' and not p['awsManaged'] and (p['id'], '$account') not in attach)[0]")"
dest="$(py "sorted(o for o in ous if o != '$source_parent')[0]")"
step "account $account in $source_parent; policy $policy; destination $dest"

step "attach-policy"
org attach-policy --policy-id "$policy" --target-id "$account"
org list-policies-for-target --target-id "$account" --filter SERVICE_CONTROL_POLICY >"$tmp/attached.json"
check "the policy is attached" "'$policy' in [p['Id'] for p in j[0]['Policies']]" "$tmp/attached.json"
org list-targets-for-policy --policy-id "$policy" >"$tmp/targets.json"
check "list-targets-for-policy names the account" "any(t['TargetId'] == '$account' and t['Type'] == 'ACCOUNT' for t in j[0]['Targets'])" "$tmp/targets.json"

step "attach-policy again fails with DuplicatePolicyAttachmentException"
if org attach-policy --policy-id "$policy" --target-id "$account" 2>"$tmp/dup.err"; then
	fail "attaching the policy twice succeeded"
fi
grep -q DuplicatePolicyAttachmentException "$tmp/dup.err" || fail "attaching twice: $(cat "$tmp/dup.err")"

step "detach-policy"
org detach-policy --policy-id "$policy" --target-id "$account"
org list-policies-for-target --target-id "$account" --filter SERVICE_CONTROL_POLICY >"$tmp/detached.json"
check "the policy is detached" "'$policy' not in [p['Id'] for p in j[0]['Policies']]" "$tmp/detached.json"

step "move-account to $dest and back"
org move-account --account-id "$account" --source-parent-id "$source_parent" --destination-parent-id "$dest"
org list-parents --child-id "$account" >"$tmp/moved.json"
check "the account is in the destination" "j[0]['Parents'] == [{'Id': '$dest', 'Type': 'ORGANIZATIONAL_UNIT'}]" "$tmp/moved.json"
if org move-account --account-id "$account" --source-parent-id "$source_parent" --destination-parent-id "$dest" 2>"$tmp/move.err"; then
	fail "moving the account from a parent it is not in succeeded"
fi
grep -q "NotFoundException" "$tmp/move.err" || fail "moving from the wrong source: $(cat "$tmp/move.err")"
org move-account --account-id "$account" --source-parent-id "$dest" --destination-parent-id "$source_parent"
org list-parents --child-id "$account" >"$tmp/back.json"
check "the account is back" "j[0]['Parents'][0]['Id'] == '$source_parent'" "$tmp/back.json"

step "errors are AWS-shaped"
if org describe-account --account-id 000000000000 2>"$tmp/notfound.err"; then
	fail "describing a missing account succeeded"
fi
grep -q AccountNotFoundException "$tmp/notfound.err" || fail "describe-account of a missing account: $(cat "$tmp/notfound.err")"

step "stopping the server"
kill -TERM "$server_pid"
rc=0
wait "$server_pid" || rc=$?
server_pid=
[ "$rc" = 0 ] || fail "sim serve exited with $rc after SIGTERM"

step "the saved state equals the initial one (every change was undone)"
check "state after the round trip" 'sorted((a["policyId"], a["targetId"]) for a in j[0]["attachments"]) == sorted(attach) and {a["id"]: a["parentId"] for a in j[0]["accounts"]} == {a: accounts[a]["parentId"] for a in accounts}' "$state"

echo "awscli-test: ok"
