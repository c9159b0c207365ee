#!/usr/bin/env python3
"""Points boto3 (the AWS SDK for Python) at `orgguard sim serve` and checks the
calls tools built on it make: paging, trusted access, delegated
administrators, the resource policy, account creation and closure,
invitations, an empty policy description, and AWS-shaped errors as boto3's
modelled exceptions.

    scripts/boto3-test.py                  # uses ./bin/orgguard
    ORGGUARD=/path/to/orgguard scripts/boto3-test.py

Exits 0 when every check passes, 1 on the first failure, 77 when boto3 is
not installed (scripts/test-env.sh installs Debian's python3-boto3).
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import boto3
    import botocore.exceptions
except ImportError:
    print("boto3-test: boto3 is not installed (apt-get install python3-boto3)", file=sys.stderr)
    sys.exit(77)


def fail(msg):
    print("boto3-test: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def expect_error(code, fn, **kwargs):
    try:
        fn(**kwargs)
    except botocore.exceptions.ClientError as e:
        got = e.response["Error"]["Code"]
        if got != code:
            fail("%s(%s) raised %s, want %s" % (fn.__name__, kwargs, got, code))
        return e
    fail("%s(%s) succeeded, want %s" % (fn.__name__, kwargs, code))


def main():
    orgguard = os.environ.get("ORGGUARD", "./bin/orgguard")
    with tempfile.TemporaryDirectory() as tmp:
        state = os.path.join(tmp, "state.json")
        subprocess.run([orgguard, "sim", "generate", "--accounts", "45", "--seed", "3", "--out", state],
                       check=True, stdout=subprocess.DEVNULL)
        initial = json.load(open(state))
        server = subprocess.Popen([orgguard, "sim", "serve", "--listen", "127.0.0.1:0", "--state", state,
                                   "--log-level", "warn"], stdout=subprocess.PIPE, text=True)
        try:
            endpoint = server.stdout.readline().strip()
            if not endpoint.startswith("http://127.0.0.1:"):
                fail("no endpoint printed by sim serve (got %r)" % endpoint)
            print("boto3-test: boto3 %s against %s" % (boto3.__version__, endpoint))
            run(boto3.client("organizations", endpoint_url=endpoint, region_name="us-east-1",
                             aws_access_key_id="test", aws_secret_access_key="test"), initial)
        finally:
            server.terminate()
            server.wait(timeout=15)
    print("boto3-test: ok")


def run(c, s):
    mgmt = s["organization"]["managementAccountId"]
    accounts = sorted(a["id"] for a in s["accounts"])
    members = sorted(a["id"] for a in s["accounts"] if a["id"] != mgmt and a["status"] == "ACTIVE")

    got = [a["Id"] for p in c.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 7}) for a in p["Accounts"]]
    if sorted(got) != accounts:
        fail("list_accounts over pages of 7 returned %d accounts, want %d" % (len(got), len(accounts)))

    p = c.create_policy(Name="no-description", Description="", Type="SERVICE_CONTROL_POLICY",
                        Content='{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}')
    if p["Policy"]["PolicySummary"]["Description"] != "":
        fail("create_policy with an empty description: %s" % p)
    c.delete_policy(PolicyId=p["Policy"]["PolicySummary"]["Id"])

    svc = "guardduty.amazonaws.com"
    expect_error("ConstraintViolationException", c.register_delegated_administrator, AccountId=members[0], ServicePrincipal=svc)
    c.enable_aws_service_access(ServicePrincipal=svc)
    enabled = [e["ServicePrincipal"] for e in c.list_aws_service_access_for_organization()["EnabledServicePrincipals"]]
    if enabled != [svc]:
        fail("trusted services = %s" % enabled)
    c.register_delegated_administrator(AccountId=members[0], ServicePrincipal=svc)
    expect_error("AccountAlreadyRegisteredException", c.register_delegated_administrator, AccountId=members[0], ServicePrincipal=svc)
    admins = [a["Id"] for a in c.list_delegated_administrators(ServicePrincipal=svc)["DelegatedAdministrators"]]
    if admins != [members[0]]:
        fail("delegated administrators = %s" % admins)
    c.deregister_delegated_administrator(AccountId=members[0], ServicePrincipal=svc)
    expect_error("AccountNotRegisteredException", c.list_delegated_services_for_account, AccountId=members[0])
    c.disable_aws_service_access(ServicePrincipal=svc)

    expect_error("ResourcePolicyNotFoundException", c.describe_resource_policy)
    c.put_resource_policy(Content='{"Version":"2012-10-17","Statement":[]}')
    c.delete_resource_policy()

    expect_error("InvalidInputException", c.describe_effective_policy, PolicyType="TAG_POLICY", TargetId=s["root"]["id"])

    req = c.create_account(Email="boto3@example.com", AccountName="boto3")["CreateAccountStatus"]
    st = c.describe_create_account_status(CreateAccountRequestId=req["Id"])["CreateAccountStatus"]
    if st["State"] != "SUCCEEDED":
        fail("describe_create_account_status = %s" % st)
    c.close_account(AccountId=st["AccountId"])
    expect_error("AccountAlreadyClosedException", c.close_account, AccountId=st["AccountId"])
    c.remove_account_from_organization(AccountId=st["AccountId"])
    expect_error("MasterCannotLeaveOrganizationException", c.remove_account_from_organization, AccountId=mgmt)

    h = c.invite_account_to_organization(Target={"Id": "210987654321", "Type": "ACCOUNT"})["Handshake"]
    if h["State"] != "OPEN":
        fail("invitation = %s" % h)
    e = expect_error("HandshakeConstraintViolationException", c.invite_account_to_organization, Target={"Id": members[1], "Type": "ACCOUNT"})
    if e.response.get("Reason") != "ALREADY_IN_AN_ORGANIZATION":
        fail("inviting a member: reason %s" % e.response.get("Reason"))
    listed = [x["Id"] for x in c.list_handshakes_for_organization(Filter={"ActionType": "INVITE"})["Handshakes"]]
    if listed != [h["Id"]]:
        fail("handshakes = %s" % listed)


if __name__ == "__main__":
    main()
