#!/usr/bin/env python3
"""`make demo`: the whole trailguard pipeline, locally, against moto.

Starts moto on 127.0.0.1, creates what the stack would (trail bucket, topics
with SQS subscriptions, tables, a security group with SSH open to the world,
a trail), uploads the bundled real CloudTrail logs under the real key layout,
then drives each function through the real Lambda runtime path
(`cargo lambda watch` + `cargo lambda invoke`) and prints what happened:
CIS metrics read back from CloudWatch, findings received through SQS, and the
remediation of the security group through the stack's real chain: a log file
with the AuthorizeSecurityGroupIngress call goes to the notifier, its finding
is published on the findings topic, the remediator's subscription (with the
filter policy read from template.yaml) delivers it, and the remediator acts,
first in dry run, then enabled. The EventBridge path follows as a shorter
stage.

Exits non-zero if any stage failed; stops every process it started.
"""
import atexit
import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".demo"
SAMPLES = ROOT / "engine/tests/data/invictus-stratus"
ACCOUNT = "218007301253"
REGION = "us-east-1"
BUCKET = "trailguard-demo-trail"
PREFIX = f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2023/07/10/"
TABLE = "trailguard-ledger"
CORRELATION_TABLE = "trailguard-correlations"
AUDIT_TABLE = "trailguard-audit"
REMEDIATOR_ROLE = f"arn:aws:iam::{ACCOUNT}:role/trailguard-remediator"
BOLD, DIM, GREEN, RED, RESET = ("\033[1m", "\033[2m", "\033[32m", "\033[31m", "\033[0m") if sys.stdout.isatty() else ("",) * 5

processes = []
results = []


def stage(title):
    print(f"\n{BOLD}==> {title}{RESET}", flush=True)


def ok(name, detail=""):
    results.append((name, True, detail))
    print(f"{GREEN}ok{RESET} {name} {DIM}{detail}{RESET}", flush=True)


def fail(name, detail):
    results.append((name, False, detail))
    print(f"{RED}FAILED{RESET} {name}: {detail}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd, env=None, log=None):
    out = open(log, "w") if log else subprocess.DEVNULL
    p = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
    processes.append(p)
    return p


def stop(p):
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    if p in processes:
        processes.remove(p)


@atexit.register
def cleanup():
    for p in list(processes):
        stop(p)


def wait_http(url, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return True
        except Exception:
            time.sleep(0.3)
    return False


def wait_port(port, seconds, proc):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.5)
    return False


class Functions:
    """`cargo lambda watch` serving every function of the workspace."""

    def __init__(self, env_vars, label):
        self.port = free_port()
        env_file = WORK / f"{label}.env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in env_vars.items()))
        self.proc = start(
            ["cargo", "lambda", "watch", "-A", "127.0.0.1", "-P", str(self.port), "--env-file", str(env_file)],
            env=os.environ.copy(),
            log=WORK / f"watch-{label}.log",
        )
        if not wait_port(self.port, 300, self.proc):
            raise RuntimeError(f"cargo lambda watch did not start (see {WORK}/watch-{label}.log)")

    def invoke(self, name, event, label):
        data = WORK / f"{label}.json"
        data.write_text(json.dumps(event))
        out = subprocess.run(
            ["cargo", "lambda", "invoke", name, "-A", "127.0.0.1", "-P", str(self.port), "--data-file", str(data), "-o", "json"],
            cwd=ROOT, capture_output=True, text=True, timeout=1200,
        )
        if out.returncode != 0:
            raise RuntimeError(f"invoke {name} failed: {out.stderr.strip() or out.stdout.strip()}")
        return json.loads(out.stdout) if out.stdout.strip() else None

    def close(self):
        stop(self.proc)


def table(headers, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)] if rows else [len(h) for h in headers]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(BOLD + line.format(*headers) + RESET)
    for r in rows:
        print(line.format(*[str(x) for x in r]))


def same_as_cli(findings):
    """Prints the findings with `trailguard scan --format table` over the
    sample files (notifier settings: min severity low, flood cap 100, repeats
    folded per hour) and says whether the CLI finds the same finding ids the
    topic delivered."""
    # --workspace: the feature set `make test` built with, so nothing recompiles.
    subprocess.run(["cargo", "build", "--workspace", "--bins"], cwd=ROOT, check=True)
    cli = [str(ROOT / "target/debug/trailguard"), "scan", "--min-severity", "low", "--flood-cap", "100",
           "--repeat-window", "3600", str(SAMPLES)]
    env = {**os.environ, "COLUMNS": os.environ.get("COLUMNS", "120")}
    scanned = subprocess.run(cli + ["--format", "json"], capture_output=True, text=True, env=env)
    if scanned.returncode not in (0, 1):
        print(scanned.stderr, flush=True)
        return False
    subprocess.run(cli + ["--format", "table"], env=env)
    # Flood summaries' ids name the file, which is a path here and a key there.
    # A burst folded in two files is one id: the notifier's dedup publishes
    # it once, the CLI's JSON has it once per file.
    # A correlation's window can complete at another event when files arrive
    # one by one than in a scan of them all (docs/correlations.md): for
    # correlations the number of findings per rule is compared.
    single = lambda fs: {f["id"]: f["rule"]["id"] for f in fs
                         if f["what"].get("eventName") != "trailguard:FloodSummary" and not f.get("correlation")}
    windows = lambda fs: sorted(f["rule"]["id"] for f in fs if f.get("correlation"))
    scanned_findings = json.loads(scanned.stdout)["findings"]
    topic, scan = single(findings), single(scanned_findings)
    for label, mine, other in (("only on the topic", topic, scan), ("only in the scan", scan, topic)):
        for fid in sorted(set(mine) - set(other)):
            print(f"{label}: {fid} ({mine[fid]})", flush=True)
    same_windows = windows(findings) == windows(scanned_findings)
    if not same_windows:
        print(f"correlations on the topic {windows(findings)}, in the scan {windows(scanned_findings)}", flush=True)
    return topic.keys() == scan.keys() and same_windows


def sqs_batch(keys):
    """The SQS batch the stack delivers (one S3 notification per message),
    built from the real-shaped sample `events/sqs-s3.json`."""
    template = json.loads((ROOT / "events/sqs-s3.json").read_text())
    records = []
    for i, key in enumerate(keys):
        message = json.loads(json.dumps(template["Records"][0]))
        body = json.loads(message["body"])
        body["Records"][0]["s3"]["bucket"]["name"] = BUCKET
        body["Records"][0]["s3"]["object"]["key"] = key
        message["messageId"] = f"demo-{i}"
        message["body"] = json.dumps(body)
        records.append(message)
    return {"Records": records}


def drain(sqs, url, want=None, seconds=10):
    messages = []
    deadline = time.time() + seconds
    while time.time() < deadline:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        for m in got:
            messages.append(m)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if not got and (want is None or len(messages) >= want):
            break
    return messages


def sg_rules(ec2, group_id):
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])["SecurityGroupRules"]
    return sorted(
        (r["SecurityGroupRuleId"], r["IpProtocol"], r.get("FromPort"), r.get("ToPort"), r.get("CidrIpv4") or r.get("CidrIpv6"))
        for r in rules if not r["IsEgress"]
    )


def main():
    WORK.mkdir(exist_ok=True)
    stage("Starting moto on 127.0.0.1")
    moto_port = free_port()
    # moto in the logs' account: the remediator acts only in the account of
    # the findings topic, which must be the events' own.
    start([str(ROOT / ".venv/bin/moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)],
          env={**os.environ, "MOTO_ACCOUNT_ID": ACCOUNT}, log=WORK / "moto.log")
    endpoint = f"http://127.0.0.1:{moto_port}"
    if not wait_http(endpoint + "/moto-api/data.json", 30):
        fail("moto", "did not start")
        return
    ok("moto", endpoint)
    aws_env = {
        "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true",
    }
    os.environ.update(aws_env)
    session = boto3.session.Session(region_name=REGION)
    client = lambda name: session.client(name, endpoint_url=endpoint)
    s3, sns, sqs, ddb, ec2, cw, ct = (client(n) for n in ("s3", "sns", "sqs", "dynamodb", "ec2", "cloudwatch", "cloudtrail"))

    stage("Creating the resources the stack would")
    s3.create_bucket(Bucket=BUCKET)
    for t in (TABLE, AUDIT_TABLE):
        ddb.create_table(TableName=t, BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "pk" if t == TABLE else "id", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk" if t == TABLE else "id", "KeyType": "HASH"}])
    # The notifier's correlation state, keyed as template.yaml's CorrelationTable.
    ddb.create_table(TableName=CORRELATION_TABLE, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("pk", "sk")],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    findings_topic = sns.create_topic(Name="trailguard-findings")["TopicArn"]
    audit_topic = sns.create_topic(Name="trailguard-audit")["TopicArn"]
    queues = {}
    for name, topic in (("findings-inbox", findings_topic), ("audit-inbox", audit_topic)):
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
        queues[name] = url
    # The remediator's retry queue (rate-limited requests wait there).
    retry_url = sqs.create_queue(QueueName="remediator-retry")["QueueUrl"]
    retry_arn = sqs.get_queue_attributes(QueueUrl=retry_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="demo-web", Description="demo", VpcId=vpc)["GroupId"]
    opened = ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
    ])
    ct.create_trail(Name="demo-trail", S3BucketName=BUCKET)
    ct.start_logging(Name="demo-trail")
    ok("resources", f"bucket {BUCKET}, topics, queues, tables, security group {group}, trail demo-trail")

    stage("Uploading the bundled real CloudTrail logs")
    keys = []
    for f in sorted(SAMPLES.glob("*.json.gz")):
        key = PREFIX + f.name
        s3.put_object(Bucket=BUCKET, Key=key, Body=f.read_bytes())
        keys.append(key)
    ok("upload", f"{len(keys)} files under s3://{BUCKET}/{PREFIX}")

    stage("Building and starting the functions (cargo lambda watch; the first build takes a few minutes)")
    common = {
        **aws_env,
        "TRAILGUARD_IDEMPOTENCY_TABLE": TABLE, "TRAILGUARD_DEDUP_TABLE": TABLE,
        "TRAILGUARD_CORRELATION_TABLE": CORRELATION_TABLE,
        "TRAILGUARD_MAX_DATAPOINT_AGE_DAYS": "0",
        "TRAILGUARD_FINDINGS_TOPIC_ARN": findings_topic,
        "TRAILGUARD_AUDIT_TABLE": AUDIT_TABLE, "TRAILGUARD_AUDIT_TOPIC_ARN": audit_topic,
        "TRAILGUARD_RATE_TABLE": TABLE,
        "TRAILGUARD_RETRY_QUEUE_URL": retry_url, "TRAILGUARD_RETRY_QUEUE_ARN": retry_arn,
        "TRAILGUARD_OWN_ROLE_ARNS": REMEDIATOR_ROLE,
        "TRAILGUARD_ENABLED_ACTIONS": "security-group-open-ingress",
        "RUST_LOG": "warn",
    }
    functions = Functions({**common, "TRAILGUARD_DRY_RUN": "true"}, "dry-run")
    ok("functions", f"listening on 127.0.0.1:{functions.port}")

    stage("metrics: the CIS metrics, read back from CloudWatch")
    batch = sqs_batch(keys)
    print(DIM + "building the metrics function on first invoke..." + RESET, flush=True)
    response = functions.invoke("metrics", batch, "metrics-event")
    failures = (response or {}).get("batchItemFailures", [])
    if failures:
        fail("metrics", f"failed messages: {failures}")
    rows = []
    # ListMetrics may name a metric once per stored datapoint.
    for name in sorted({m["MetricName"] for m in cw.list_metrics(Namespace="CloudTrailMetrics")["Metrics"]}):
        data = cw.get_metric_data(
            MetricDataQueries=[{"Id": "m", "MetricStat": {"Metric": {"Namespace": "CloudTrailMetrics", "MetricName": name}, "Period": 60, "Stat": "Sum"}}],
            StartTime=1688979960, EndTime=1689000000)["MetricDataResults"][0]
        for t, v in sorted(zip(data["Timestamps"], data["Values"])):
            rows.append((name, t.strftime("%Y-%m-%d %H:%M"), int(v)))
    table(("metric", "minute (eventTime)", "count"), sorted(rows))
    if rows and not failures:
        ok("metrics", f"{len(rows)} datapoints in CloudTrailMetrics")
    elif not failures:
        fail("metrics", "no datapoints read back")

    stage("notifier: findings received through the SNS -> SQS subscription")
    response = functions.invoke("notifier", batch, "notifier-event")
    failures = (response or {}).get("batchItemFailures", [])
    if failures:
        fail("notifier", f"failed messages: {failures}")
    findings = [json.loads(m["Body"]) for m in drain(sqs, queues["findings-inbox"])]
    # Shown as `trailguard scan` shows them: the CLI over the same files with
    # the notifier's settings must find exactly what the topic delivered.
    same = same_as_cli(findings)
    if findings and not failures and same:
        ok("notifier", f"{len(findings)} findings, the same as `trailguard scan` finds")
    elif not failures:
        fail("notifier", "no findings received" if not findings else "the topic's findings differ from `trailguard scan`'s")

    remediation_stages(functions, common, s3, sns, sqs, ec2, findings_topic, queues, group, opened)


def remediator_filter_policy():
    """The FilterPolicy of the remediator's findings subscription, as written
    in template.yaml (cfn-lint's loader understands the !Ref/!GetAtt tags)."""
    from cfnlint.decode import cfn_yaml
    template = cfn_yaml.load(str(ROOT / "template.yaml"))
    events = template["Resources"]["RemediatorFunction"]["Properties"]["Events"]
    return json.loads(json.dumps(events["Findings"]["Properties"]["FilterPolicy"]))


def sg_record(group, opened, event_id):
    """The AuthorizeSecurityGroupIngress record of the AWS-shaped sample
    events/remediator/eventbridge-authorize-security-group-ingress.json,
    pointed at the demo's group and rules, under a fresh event id."""
    sample = json.loads((ROOT / "events/remediator/eventbridge-authorize-security-group-ingress.json").read_text())
    record = sample["detail"]
    record.update({"eventID": event_id, "recipientAccountId": ACCOUNT, "awsRegion": REGION})
    record["userIdentity"]["accountId"] = ACCOUNT
    record["requestParameters"]["groupId"] = group
    record["responseElements"]["securityGroupRuleSet"]["items"] = [
        {"groupId": group, "securityGroupRuleId": r["SecurityGroupRuleId"], "isEgress": False,
         "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "0.0.0.0/0"}
        for r in opened["SecurityGroupRules"] if r.get("CidrIpv4") == "0.0.0.0/0"]
    return record


def sns_lambda_event(notification, subscription_arn):
    """The Lambda SNS event for a notification received by a (non-raw) queue."""
    keys = {"SigningCertURL": "SigningCertUrl", "UnsubscribeURL": "UnsubscribeUrl"}
    sns = {keys.get(k, k): notification.get(k) for k in
           ("Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp",
            "SignatureVersion", "Signature", "SigningCertURL", "UnsubscribeURL")}
    sns["MessageAttributes"] = notification.get("MessageAttributes", {})
    return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
                         "EventSubscriptionArn": subscription_arn, "Sns": sns}]}


def remediation_stages(functions, common, s3, sns, sqs, ec2, findings_topic, queues, group, opened):
    # The remediator's subscription, as the template writes it.
    url = sqs.create_queue(QueueName="remediator-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = remediator_filter_policy()
    subscription = sns.subscribe(TopicArn=findings_topic, Protocol="sqs", Endpoint=arn,
                                 Attributes={"FilterPolicy": json.dumps(policy)})["SubscriptionArn"]

    def through_the_chain(fns, label):
        """log file -> notifier -> findings topic -> remediator subscription -> remediator."""
        record = sg_record(group, opened, f"5f0c9a52-demo-4e7b-9d1c-{label}")
        key = f"{PREFIX}{ACCOUNT}_CloudTrail_{REGION}_20230710T1300Z_demo{label.replace('-', '')}.json.gz"
        s3.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(json.dumps({"Records": [record]}).encode()))
        response = fns.invoke("notifier", sqs_batch([key]), f"notifier-{label}")
        if (response or {}).get("batchItemFailures"):
            raise RuntimeError(f"notifier failed: {response}")
        drain(sqs, queues["findings-inbox"])
        delivered = drain(sqs, url, want=1)
        if not delivered:
            raise RuntimeError("no finding reached the remediator's subscription")
        before = sg_rules(ec2, group)
        for m in delivered:
            notification = json.loads(m["Body"])
            finding = json.loads(notification["Message"])
            attribute = notification.get("MessageAttributes", {}).get("remediation", {}).get("Value")
            print(f"{BOLD}finding{RESET} {finding['rule']['severity']} {finding['rule']['title']} "
                  f"({finding['id']}): remediation={attribute} on "
                  f"{finding.get('remediation', {}).get('resource')}")
            fns.invoke("remediator", sns_lambda_event(notification, subscription), f"remediator-{label}")
        after = sg_rules(ec2, group)
        print(f"{BOLD}security group {group} ingress before{RESET}")
        table(("rule id", "proto", "from", "to", "cidr"), before)
        print(f"{BOLD}after{RESET}")
        table(("rule id", "proto", "from", "to", "cidr"), after)
        audits = [json.loads(m["Body"]) for m in drain(sqs, queues["audit-inbox"], want=1)]
        for a in audits:
            print(f"{BOLD}audit{RESET} " + json.dumps({k: a.get(k) for k in
                  ("id", "action", "outcome", "dryRun", "resource", "ruleId", "findingId")}, default=str))
        return before, after, audits, len(delivered)

    stage(f"remediator via the findings topic, dry run (the default); filter policy {json.dumps(policy)}")
    try:
        before, after, audits, n = through_the_chain(functions, "dry-run")
        if before == after and audits and all(a.get("findingId") for a in audits):
            ok("remediation dry run", f"{n} remediable finding(s) delivered; rule kept, audited as would-act")
        else:
            fail("remediation dry run", "security group changed, or no audit record naming the finding")
    except Exception as e:
        fail("remediation dry run", str(e))
    functions.close()

    enabled = None
    stage("remediator via the findings topic, enabled: revokes exactly the world-open SSH rule")
    try:
        enabled = Functions({**common, "TRAILGUARD_DRY_RUN": "false"}, "enabled")
        before, after, audits, _ = through_the_chain(enabled, "enabled")
        gone = [r for r in before if r not in after]
        if len(gone) == 1 and gone[0][4] == "0.0.0.0/0" and any(a.get("outcome", {}).get("kind") == "acted" for a in audits):
            ok("remediation", f"revoked {gone[0][0]}; the 10.0.0.0/8 rule survives")
        else:
            fail("remediation", f"unexpected change: {gone}")
    except Exception as e:
        fail("remediation", str(e))

    stage("remediator via EventBridge (the same call seen directly): nothing left to do")
    try:
        record = sg_record(group, opened, "5f0c9a52-demo-4e7b-9d1c-eventbridge")
        trigger = {"version": "0", "id": "demo-trigger", "detail-type": "AWS API Call via CloudTrail",
                   "source": "aws.ec2", "account": ACCOUNT, "time": record["eventTime"], "region": REGION,
                   "resources": [], "detail": record}
        enabled.invoke("remediator", trigger, "remediator-eventbridge")
        audits = [json.loads(m["Body"]) for m in drain(sqs, queues["audit-inbox"], want=1)]
        kinds = [a.get("outcome", {}).get("kind") for a in audits]
        if audits and all(k == "skippedAlreadyCompliant" for k in kinds):
            ok("eventbridge path", "audited as already compliant")
        else:
            fail("eventbridge path", f"outcomes {kinds}")
    except Exception as e:
        fail("eventbridge path", str(e))
    finally:
        if enabled:
            enabled.close()


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # any stage's unexpected error still ends in the summary
        fail("demo", repr(e))
    finally:
        cleanup()
    print(f"\n{BOLD}Summary{RESET}")
    for name, good, detail in results:
        print(f"  {(GREEN + 'ok' if good else RED + 'FAILED') + RESET:<12} {name} {DIM}{detail}{RESET}")
    sys.exit(0 if results and all(good for _, good, _ in results) else 1)
