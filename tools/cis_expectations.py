#!/usr/bin/env python3
"""Independent expectations for the CIS metrics: per control, per minute of
eventTime, how many records of the given CloudTrail log files match.

Each control is a plain Python predicate written from the CIS/Security Hub
text, deliberately sharing nothing with trailguard's filter-pattern engine,
so tests can compare the two. Prints JSON: {"MetricName": {"epochMinute": n}},
or with --events {"MetricName": ["eventID", ...]}.
"""
import calendar
import gzip
import json
import sys
import time


def name_in(*names):
    return lambda r: r.get("eventName") in names


def src(source, pred):
    return lambda r: r.get("eventSource") == source and pred(r)


def ident(r):
    u = r.get("userIdentity")
    return u if isinstance(u, dict) else {}


def errcode(r):
    c = r.get("errorCode")
    return c if isinstance(c, str) else ""


CONTROLS = {
    "RootAccountUsage": lambda r: ident(r).get("type") == "Root"
    and "invokedBy" not in ident(r)
    and "eventType" in r
    and r.get("eventType") != "AwsServiceEvent",
    "UnauthorizedAPICalls": lambda r: errcode(r).endswith("UnauthorizedOperation")
    or errcode(r).startswith("AccessDenied"),
    "ConsoleSigninWithoutMFA": lambda r: r.get("eventName") == "ConsoleLogin"
    and isinstance(r.get("additionalEventData"), dict)
    and "MFAUsed" in r["additionalEventData"]
    and r["additionalEventData"]["MFAUsed"] != "Yes"
    and ident(r).get("type") == "IAMUser"
    and isinstance(r.get("responseElements"), dict)
    and r["responseElements"].get("ConsoleLogin") == "Success",
    "IAMPolicyChanges": name_in(
        "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy",
        "PutRolePolicy", "PutUserPolicy", "CreatePolicy", "DeletePolicy",
        "CreatePolicyVersion", "DeletePolicyVersion", "AttachRolePolicy", "DetachRolePolicy",
        "AttachUserPolicy", "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy"),
    "CloudTrailChanges": name_in("CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"),
    "ConsoleSigninFailures": lambda r: r.get("eventName") == "ConsoleLogin"
    and r.get("errorMessage") == "Failed authentication",
    "DisableOrDeleteCMK": src("kms.amazonaws.com", name_in("DisableKey", "ScheduleKeyDeletion")),
    "S3BucketPolicyChanges": src("s3.amazonaws.com", name_in(
        "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle",
        "PutBucketReplication", "DeleteBucketPolicy", "DeleteBucketCors",
        "DeleteBucketLifecycle", "DeleteBucketReplication")),
    "AWSConfigChanges": src("config.amazonaws.com", name_in(
        "StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel",
        "PutConfigurationRecorder")),
    "SecurityGroupChanges": name_in(
        "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
        "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "CreateSecurityGroup",
        "DeleteSecurityGroup"),
    "NACLChanges": name_in(
        "CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl",
        "DeleteNetworkAclEntry", "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation"),
    "NetworkGatewayChanges": name_in(
        "CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway",
        "CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway"),
    "RouteTableChanges": name_in(
        "CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation",
        "DeleteRouteTable", "DeleteRoute", "DisassociateRouteTable"),
    "VPCChanges": name_in(
        "CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection",
        "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection",
        "RejectVpcPeeringConnection", "AttachClassicLinkVpc", "DetachClassicLinkVpc",
        "DisableVpcClassicLink", "EnableVpcClassicLink"),
    "OrganizationsChanges": src("organizations.amazonaws.com", name_in(
        "AcceptHandshake", "AttachPolicy", "CreateAccount", "CreateOrganizationalUnit",
        "CreatePolicy", "DeclineHandshake", "DeleteOrganization", "DeleteOrganizationalUnit",
        "DeletePolicy", "DetachPolicy", "DisablePolicyType", "EnablePolicyType",
        "InviteAccountToOrganization", "LeaveOrganization", "MoveAccount",
        "RemoveAccountFromOrganization", "UpdatePolicy", "UpdateOrganizationalUnit")),
}


def minute(event_time):
    t = calendar.timegm(time.strptime(event_time, "%Y-%m-%dT%H:%M:%SZ"))
    return t - t % 60


def main(paths):
    if paths and paths[0] == "--events":
        events = {name: [] for name in CONTROLS}
        for path in paths[1:]:
            with gzip.open(path, "rt") as f:
                for r in json.load(f)["Records"]:
                    for name, pred in CONTROLS.items():
                        if pred(r):
                            events[name].append(r["eventID"])
        json.dump({k: sorted(v) for k, v in events.items() if v}, sys.stdout, sort_keys=True)
        return
    counts = {name: {} for name in CONTROLS}
    for path in paths:
        with gzip.open(path, "rt") as f:
            for r in json.load(f)["Records"]:
                for name, pred in CONTROLS.items():
                    if pred(r):
                        m = str(minute(r["eventTime"]))
                        counts[name][m] = counts[name].get(m, 0) + 1
    json.dump({k: v for k, v in counts.items() if v}, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
