#!/usr/bin/env python3
"""Writes engine/tests/data/benign/routine-activity.json.gz: a CloudTrail log
file of routine work, the background against which trailguard's noise budget
is measured (delivery/tests/noise_budget.rs, docs/detections.md).

Every record is one of the event shapes below, each taken from where AWS
documents it (the CloudTrail user guide's examples, the service's "Logging
API calls with CloudTrail" page) and named in the comment above it. The
shapes are repeated with fresh ids, times and resource names in the
proportions a small account sees in an afternoon: mostly reads by
applications and AWS services, some console browsing, and a few deployments.
Deterministic: the same file every run (fixed seed, fixed times).

    python3 tools/benign_corpus.py            # rewrite the file
    python3 tools/benign_corpus.py --check    # fail if it is out of date
"""

import gzip
import io
import json
import random
import sys
import uuid
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "engine/tests/data/benign/routine-activity.json.gz"
ACCT = "111122223333"
REGION = "eu-west-1"
rng = random.Random(18)


def role_session(role, session, service_linked=False, path="/"):
    issuer_arn = (f"arn:aws:iam::{ACCT}:role/aws-service-role/{path}/{role}" if service_linked
                  else f"arn:aws:iam::{ACCT}:role/{role}")
    return {
        "type": "AssumedRole", "principalId": f"AROA{role.upper()[:12]:X<12}EXAMPLE:{session}",
        "arn": f"arn:aws:sts::{ACCT}:assumed-role/{role}/{session}", "accountId": ACCT,
        "accessKeyId": "ASIAQXYZEXAMPLE" + "".join(rng.choice("ABCDEFGHIJKLMNOP") for _ in range(5)),
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": f"AROA{role.upper()[:12]:X<12}EXAMPLE",
                              "arn": issuer_arn, "accountId": ACCT, "userName": role},
            "webIdFederationData": {},
            "attributes": {"creationDate": "2025-03-11T13:02:11Z", "mfaAuthenticated": "false"},
        },
    }


def service(name):
    return {"type": "AWSService", "invokedBy": name}


# Identities of the account.
PIPELINE = lambda: role_session("github-actions-deploy", f"GitHubActions-{rng.randrange(10**9)}")
SSO_ADMIN = lambda: {**role_session("AWSReservedSSO_AdministratorAccess_0a1b2c3d4e5f6789", "dana@example.com",
                                     path="sso.amazonaws.com"), "arn": f"arn:aws:sts::{ACCT}:assumed-role/AWSReservedSSO_AdministratorAccess_0a1b2c3d4e5f6789/dana@example.com"}
SSO_DEV = lambda: role_session("AWSReservedSSO_ReadOnly_9f8e7d6c5b4a3210", "erik@example.com")
APP = lambda: role_session("orders-api-role", "orders-api")
WORKER = lambda: role_session("ecs-worker-task-role", "7f3e2a1b9c8d4e5f")
CONFIG_SLR = lambda: role_session("AWSServiceRoleForConfig", "AWSConfig-Describe", True, "config.amazonaws.com")
INSPECTOR_SLR = lambda: role_session("AWSServiceRoleForAmazonInspector2", "AmazonInspector2", True, "inspector2.amazonaws.com")
ACCESS_ANALYZER_SLR = lambda: role_session("AWSServiceRoleForAccessAnalyzer", "access-analyzer", True, "access-analyzer.amazonaws.com")
TA_SLR = lambda: role_session("AWSServiceRoleForTrustedAdvisor", "TrustedAdvisor_" + ACCT, True, "trustedadvisor.amazonaws.com")

CONSOLE_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36"
SDK_UA = "aws-sdk-java/2.25.11 Linux/5.10.210-201.852.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. exec-env/AWS_ECS_FARGATE"
BOTO_UA = "Boto3/1.34.54 md/Botocore#1.34.54 ua/2.0 os/linux#5.10.209 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.54"
TF_UA = "APN/1.0 HashiCorp/1.0 Terraform/1.7.4 (+https://www.terraform.io) terraform-provider-aws/5.40.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.25.2 os/linux lang/go#1.21.8 md/GOOS#linux md/GOARCH#amd64"
CFN_UA = "cloudformation.amazonaws.com"


def event(identity, source, name, params=None, response=None, ua=SDK_UA, ip="198.51.100.10",
          read_only=True, category="Management", error=None, event_type="AwsApiCall", extra=None):
    record = {
        "eventVersion": "1.09", "userIdentity": identity, "eventSource": source, "eventName": name,
        "awsRegion": REGION, "sourceIPAddress": ip, "userAgent": ua,
        "requestParameters": params, "responseElements": response,
        "readOnly": read_only, "eventType": event_type, "managementEvent": category == "Management",
        "recipientAccountId": ACCT, "eventCategory": category,
    }
    if error:
        record["errorCode"], record["errorMessage"] = error
    if extra:
        record.update(extra)
    return record


def by_cloudformation(identity):
    """A call CloudFormation makes with the stack role (invokedBy)."""
    return {**identity, "invokedBy": "cloudformation.amazonaws.com"}


SHAPES = [
    # --- SDK reads by applications (CloudTrail user guide, "CloudTrail record contents";
    # KMS, Secrets Manager, SSM and STS "Logging API calls" pages) ---
    (120, lambda: event(APP(), "kms.amazonaws.com", "Decrypt",
        {"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": {"aws:lambda:FunctionArn": f"arn:aws:lambda:{REGION}:{ACCT}:function:orders-api"}},
        ua=BOTO_UA, ip="52.31.0.10")),
    (60, lambda: event(APP(), "secretsmanager.amazonaws.com", "GetSecretValue",
        {"secretId": f"arn:aws:secretsmanager:{REGION}:{ACCT}:secret:orders/db-AbCdEf"}, ua=BOTO_UA, ip="52.31.0.10")),
    (60, lambda: event(WORKER(), "ssm.amazonaws.com", "GetParameter",
        {"name": "/orders/feature-flags", "withDecryption": True}, ua=SDK_UA)),
    (80, lambda: event(WORKER(), "sts.amazonaws.com", "AssumeRole",
        {"roleArn": f"arn:aws:iam::{ACCT}:role/reporting-reader", "roleSessionName": "report-run", "durationSeconds": 900},
        {"credentials": {"accessKeyId": "ASIAQXYZEXAMPLEREPT", "sessionToken": "x", "expiration": "May 14, 2025, 11:00:00 AM"}},
        read_only=True)),
    (60, lambda: event(WORKER(), "dynamodb.amazonaws.com", "DescribeTable", {"tableName": "orders"})),
    (50, lambda: event(APP(), "sqs.amazonaws.com", "GetQueueAttributes",
        {"queueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCT}/orders", "attributeNames": ["ApproximateNumberOfMessages"]}, ua=BOTO_UA)),
    (30, lambda: event(APP(), "logs.amazonaws.com", "CreateLogStream",
        {"logGroupName": "/aws/lambda/orders-api", "logStreamName": "2025/03/11/[$LATEST]0a1b2c"}, ua=BOTO_UA, read_only=False)),
    # --- AWS services acting on their own (CloudTrail user guide, "AWS service events" and
    # the AWSService identity type; STS AssumeRole by a service principal) ---
    (80, lambda: event(service("lambda.amazonaws.com"), "sts.amazonaws.com", "AssumeRole",
        {"roleArn": f"arn:aws:iam::{ACCT}:role/orders-api-role", "roleSessionName": "orders-api"},
        ip="lambda.amazonaws.com", ua="lambda.amazonaws.com")),
    (40, lambda: event(service("cloudtrail.amazonaws.com"), "kms.amazonaws.com", "GenerateDataKey",
        {"keyId": f"arn:aws:kms:{REGION}:{ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab", "keySpec": "AES_256"},
        ip="cloudtrail.amazonaws.com", ua="cloudtrail.amazonaws.com")),
    (30, lambda: event(service("ecs-tasks.amazonaws.com"), "sts.amazonaws.com", "AssumeRole",
        {"roleArn": f"arn:aws:iam::{ACCT}:role/ecs-worker-task-role", "roleSessionName": "7f3e2a1b9c8d4e5f"},
        ip="ecs-tasks.amazonaws.com", ua="ecs-tasks.amazonaws.com")),
    # --- Service-linked roles (IAM user guide, "Using service-linked roles"; AWS Config,
    # Inspector, Access Analyzer and Trusted Advisor describing resources) ---
    (70, lambda: event(CONFIG_SLR(), "ec2.amazonaws.com", "DescribeSecurityGroups", {"securityGroupSet": {}, "filterSet": {}},
        ip="config.amazonaws.com", ua="config.amazonaws.com")),
    (40, lambda: event(CONFIG_SLR(), "iam.amazonaws.com", "GetRole", {"roleName": "orders-api-role"},
        ip="config.amazonaws.com", ua="config.amazonaws.com")),
    (50, lambda: event(INSPECTOR_SLR(), "ec2.amazonaws.com", "DescribeInstances", {"instancesSet": {}, "filterSet": {}},
        ip="inspector2.amazonaws.com", ua="inspector2.amazonaws.com")),
    (20, lambda: event(ACCESS_ANALYZER_SLR(), "s3.amazonaws.com", "GetBucketPolicyStatus", {"bucketName": "orders-exports", "policyStatus": ""},
        ip="access-analyzer.amazonaws.com", ua="access-analyzer.amazonaws.com")),
    (15, lambda: event(TA_SLR(), "ec2.amazonaws.com", "DescribeVolumes", {"volumeSet": {}, "filterSet": {}},
        ip="trustedadvisor.amazonaws.com", ua="trustedadvisor.amazonaws.com")),
    # A service-linked role denied a read it does not need (AccessDenied is routine for scanners).
    (10, lambda: event(CONFIG_SLR(), "s3.amazonaws.com", "GetBucketPolicy", {"bucketName": "orders-exports", "policy": ""},
        ip="config.amazonaws.com", ua="config.amazonaws.com", error=("NoSuchBucketPolicy", "The bucket policy does not exist"))),
    # --- Console browsing by SSO users (CloudTrail user guide, "Console sign-in events";
    # IAM Identity Center "Logging with CloudTrail") ---
    (4, lambda: event({"type": "AssumedRole", "principalId": "AROAQXYZEXAMPLESSO:dana@example.com",
                       "arn": f"arn:aws:sts::{ACCT}:assumed-role/AWSReservedSSO_AdministratorAccess_0a1b2c3d4e5f6789/dana@example.com",
                       "accountId": ACCT, "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "AWSReservedSSO_AdministratorAccess_0a1b2c3d4e5f6789"}}},
        "signin.amazonaws.com", "ConsoleLogin", None, {"ConsoleLogin": "Success"}, ua=CONSOLE_UA, ip="203.0.113.50",
        read_only=False, event_type="AwsConsoleSignIn",
        extra={"additionalEventData": {"MobileVersion": "No", "MFAUsed": "No"}})),
    (25, lambda: event(SSO_ADMIN(), "s3.amazonaws.com", "ListBuckets", {"Host": "s3.amazonaws.com"}, ua="[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488]", ip="203.0.113.50",
        extra={"sessionCredentialFromConsole": "true"})),
    (40, lambda: event(SSO_DEV(), "ec2.amazonaws.com", "DescribeInstances", {"instancesSet": {}, "filterSet": {}, "maxResults": 50}, ua=CONSOLE_UA, ip="203.0.113.51",
        extra={"sessionCredentialFromConsole": "true"})),
    (30, lambda: event(SSO_DEV(), "lambda.amazonaws.com", "ListFunctions20150331", {"functionVersion": "ALL", "maxItems": 50}, ua=CONSOLE_UA, ip="203.0.113.51",
        extra={"sessionCredentialFromConsole": "true"})),
    (30, lambda: event(SSO_DEV(), "cloudtrail.amazonaws.com", "LookupEvents", {"maxResults": 50}, ua=CONSOLE_UA, ip="203.0.113.51",
        extra={"sessionCredentialFromConsole": "true"})),
    (25, lambda: event(SSO_DEV(), "monitoring.amazonaws.com", "DescribeAlarms", {"maxRecords": 100}, ua=CONSOLE_UA, ip="203.0.113.51",
        extra={"sessionCredentialFromConsole": "true"})),
    # The read-only role browsing a page it may not read: the console shows "access denied".
    (15, lambda: event(SSO_DEV(), "iam.amazonaws.com", "GetAccountSummary", None, ua=CONSOLE_UA, ip="203.0.113.51",
        error=("AccessDenied", "User is not authorized to perform: iam:GetAccountSummary"), extra={"sessionCredentialFromConsole": "true"})),
    # --- Deployment pipelines (CloudFormation "Logging calls with CloudTrail": calls made
    # with the stack's credentials carry invokedBy cloudformation.amazonaws.com) ---
    (6, lambda: event(PIPELINE(), "cloudformation.amazonaws.com", "UpdateStack",
        {"stackName": "orders-api", "templateURL": "https://s3.amazonaws.com/deploy-artifacts/orders/template.yaml",
         "capabilities": ["CAPABILITY_IAM"], "parameters": [{"parameterKey": "Stage", "parameterValue": "prod"}]},
        {"stackId": f"arn:aws:cloudformation:{REGION}:{ACCT}:stack/orders-api/5c6e2a10-0000-11ef-0000-0a1b2c3d4e5f"},
        ua="aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1016-azure exe/x86_64.ubuntu.22", ip="20.42.0.1", read_only=False)),
    (6, lambda: event(by_cloudformation(PIPELINE()), "lambda.amazonaws.com", "UpdateFunctionCode20150331v2",
        {"functionName": "orders-api", "s3Bucket": "deploy-artifacts", "s3Key": f"orders/{rng.randrange(10**6)}.zip", "publish": False},
        ua=CFN_UA, ip="cloudformation.amazonaws.com", read_only=False)),
    (4, lambda: event(by_cloudformation(PIPELINE()), "iam.amazonaws.com", "PutRolePolicy",
        {"roleName": "orders-api-role", "policyName": "tables",
         "policyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"dynamodb:GetItem\",\"dynamodb:PutItem\"],\"Resource\":\"arn:aws:dynamodb:eu-west-1:111122223333:table/orders\"}]}"},
        ua=CFN_UA, ip="cloudformation.amazonaws.com", read_only=False)),
    (4, lambda: event(by_cloudformation(PIPELINE()), "ec2.amazonaws.com", "CreateRoute",
        {"routeTableId": "rtb-0a1b2c3d4e5f67890", "destinationCidrBlock": "0.0.0.0/0", "natGatewayId": "nat-0a1b2c3d4e5f67890"},
        {"_return": True}, ua=CFN_UA, ip="cloudformation.amazonaws.com", read_only=False)),
    (4, lambda: event(by_cloudformation(PIPELINE()), "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress",
        {"groupId": "sg-0a1b2c3d4e5f67890", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
         "ipRanges": {"items": [{"cidrIp": "10.0.0.0/16"}]}}]}}, {"_return": True}, ua=CFN_UA, ip="cloudformation.amazonaws.com", read_only=False)),
    # Terraform plan/apply reads (the provider's refresh) by the pipeline role.
    (40, lambda: event(PIPELINE(), "ec2.amazonaws.com", "DescribeVpcs", {"vpcSet": {"items": [{"vpcId": "vpc-0a1b2c3d"}]}, "filterSet": {}}, ua=TF_UA, ip="20.42.0.1")),
    (30, lambda: event(PIPELINE(), "iam.amazonaws.com", "GetRolePolicy", {"roleName": "orders-api-role", "policyName": "tables"}, ua=TF_UA, ip="20.42.0.1")),
    (30, lambda: event(PIPELINE(), "s3.amazonaws.com", "GetBucketVersioning", {"bucketName": "orders-exports", "versioning": "", "Host": "orders-exports.s3.eu-west-1.amazonaws.com"}, ua=TF_UA, ip="20.42.0.1")),
    (20, lambda: event(PIPELINE(), "sts.amazonaws.com", "GetCallerIdentity", None, ua=TF_UA, ip="20.42.0.1")),
    # A pipeline writing its artifact (S3 data event).
    (20, lambda: event(PIPELINE(), "s3.amazonaws.com", "PutObject",
        {"bucketName": "deploy-artifacts", "key": f"orders/{rng.randrange(10**6)}.zip", "x-amz-server-side-encryption": "aws:kms"},
        ua="aws-cli/2.15.30", ip="20.42.0.1", read_only=False, category="Data")),
]


def build():
    records = []
    minute = 0
    for count, make in SHAPES:
        for _ in range(count):
            record = make()
            minute += 1
            record["eventTime"] = f"2025-03-11T{13 + minute // 600 % 10:02d}:{minute // 10 % 60:02d}:{minute % 10 * 6:02d}Z"
            record["eventID"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            record["requestID"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            records.append(record)
    rng.shuffle(records)
    records.sort(key=lambda r: r["eventTime"])
    return records


def main():
    text = json.dumps({"Records": build()}, separators=(",", ":")).encode()
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz:
        gz.write(text)
    data = buffer.getvalue()
    if "--check" in sys.argv:
        current = OUT.read_bytes() if OUT.exists() else b""
        if gzip.decompress(current) != text:
            sys.exit(f"{OUT} is out of date: run python3 tools/benign_corpus.py")
        return
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(data)
    print(f"{OUT}: {len(json.loads(text)['Records'])} records")


if __name__ == "__main__":
    main()
