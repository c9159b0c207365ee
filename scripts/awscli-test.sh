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

step "create-policy with an empty description (accepted, as by AWS)"
org create-policy --name no-description --description "" --type SERVICE_CONTROL_POLICY \
	--content '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}' >"$tmp/nodesc.json"
check "the policy has an empty description" 'j[0]["Policy"]["PolicySummary"]["Description"] == ""' "$tmp/nodesc.json"
org delete-policy --policy-id "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Policy"]["PolicySummary"]["Id"])' "$tmp/nodesc.json")"

step "trusted access and delegated administrators"
org enable-aws-service-access --service-principal securityhub.amazonaws.com
org list-aws-service-access-for-organization >"$tmp/access.json"
check "securityhub is trusted" '[p["ServicePrincipal"] for p in j[0]["EnabledServicePrincipals"]] == ["securityhub.amazonaws.com"]' "$tmp/access.json"
admin="$(py 'sorted(a for a in accounts if a != s["organization"]["managementAccountId"] and accounts[a]["status"] == "ACTIVE")[0]')"
org register-delegated-administrator --account-id "$admin" --service-principal securityhub.amazonaws.com
if org register-delegated-administrator --account-id "$admin" --service-principal securityhub.amazonaws.com 2>"$tmp/reg.err"; then
	fail "registering a delegated administrator twice succeeded"
fi
grep -q AccountAlreadyRegisteredException "$tmp/reg.err" || fail "registering twice: $(cat "$tmp/reg.err")"
org list-delegated-administrators --service-principal securityhub.amazonaws.com >"$tmp/admins.json"
check "the delegated administrator is listed" "[a['Id'] for a in j[0]['DelegatedAdministrators']] == ['$admin']" "$tmp/admins.json"
org list-delegated-services-for-account --account-id "$admin" >"$tmp/services.json"
check "its delegated service is listed" '[d["ServicePrincipal"] for d in j[0]["DelegatedServices"]] == ["securityhub.amazonaws.com"]' "$tmp/services.json"
org deregister-delegated-administrator --account-id "$admin" --service-principal securityhub.amazonaws.com
org disable-aws-service-access --service-principal securityhub.amazonaws.com

step "the resource policy"
if org describe-resource-policy 2>"$tmp/rp.err"; then fail "describing a missing resource policy succeeded"; fi
grep -q ResourcePolicyNotFoundException "$tmp/rp.err" || fail "describe-resource-policy: $(cat "$tmp/rp.err")"
org put-resource-policy --content '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"organizations:DescribeOrganization","Resource":"*"}]}' >"$tmp/rp.json"
check "put-resource-policy returns its ID" 'j[0]["ResourcePolicy"]["ResourcePolicySummary"]["Id"].startswith("rp-")' "$tmp/rp.json"
org delete-resource-policy

step "effective policies exclude SCPs"
if org describe-effective-policy --policy-type TAG_POLICY --target-id "$admin" 2>"$tmp/eff.err"; then fail "an effective tag policy exists without tag policies"; fi
grep -q EffectivePolicyNotFoundException "$tmp/eff.err" || fail "describe-effective-policy: $(cat "$tmp/eff.err")"

step "create-account, describe-create-account-status, close-account, remove-account-from-organization"
org create-account --email new-account@example.com --account-name "new account" >"$tmp/create.json"
check "create-account is IN_PROGRESS" 'j[0]["CreateAccountStatus"]["State"] == "IN_PROGRESS"' "$tmp/create.json"
req="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["CreateAccountStatus"]["Id"])' "$tmp/create.json")"
org describe-create-account-status --create-account-request-id "$req" >"$tmp/status.json"
check "the account was created" 'j[0]["CreateAccountStatus"]["State"] == "SUCCEEDED" and len(j[0]["CreateAccountStatus"]["AccountId"]) == 12' "$tmp/status.json"
new_account="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["CreateAccountStatus"]["AccountId"])' "$tmp/status.json")"
org close-account --account-id "$new_account"
org describe-account --account-id "$new_account" >"$tmp/closed.json"
check "the closed account is SUSPENDED" 'j[0]["Account"]["Status"] == "SUSPENDED"' "$tmp/closed.json"
if org close-account --account-id "$new_account" 2>"$tmp/close.err"; then fail "closing an account twice succeeded"; fi
grep -q AccountAlreadyClosedException "$tmp/close.err" || fail "closing twice: $(cat "$tmp/close.err")"
org remove-account-from-organization --account-id "$new_account"
if org describe-account --account-id "$new_account" 2>/dev/null; then fail "the removed account is still there"; fi

step "invite-account-to-organization and list-handshakes-for-organization"
org invite-account-to-organization --target Id=210987654321,Type=ACCOUNT --notes "welcome" >"$tmp/invite.json"
check "the invitation is an open handshake" 'j[0]["Handshake"]["State"] == "OPEN" and j[0]["Handshake"]["Action"] == "INVITE"' "$tmp/invite.json"
if org invite-account-to-organization --target Id=210987654321,Type=ACCOUNT 2>"$tmp/dupinv.err"; then fail "a second open invitation succeeded"; fi
grep -q DuplicateHandshakeException "$tmp/dupinv.err" || fail "inviting twice: $(cat "$tmp/dupinv.err")"
org list-handshakes-for-organization --filter ActionType=INVITE >"$tmp/handshakes.json"
check "the invitation is listed" 'len(j[0]["Handshakes"]) == 1' "$tmp/handshakes.json"

step "a foreign Host header is refused (DNS rebinding)"
code="$(python3 - "$endpoint" <<'PY'
import sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1], data=b"{}", method="POST", headers={
    "Host": "rebind.example.com", "Content-Type": "application/x-amz-json-1.1",
    "X-Amz-Target": "AWSOrganizationsV20161128.ListRoots"})
try:
    print(urllib.request.urlopen(req).status)
except urllib.error.HTTPError as e:
    print(e.code)
PY
)"
[ "$code" = 403 ] || fail "a request with Host rebind.example.com got $code, want 403"

step "stopping the server"
kill -TERM "$server_pid"
rc=0
wait "$server_pid" || rc=$?
server_pid=
[ "$rc" = 0 ] || fail "sim serve exited with $rc after SIGTERM"

step "the saved state equals the initial one (every change was undone)"
check "state after the round trip" 'sorted((a["policyId"], a["targetId"]) for a in j[0]["attachments"]) == sorted(attach) and {a["id"]: a["parentId"] for a in j[0]["accounts"]} == {a: accounts[a]["parentId"] for a in accounts}' "$state"

echo "awscli-test: ok"
