#!/usr/bin/env python3
"""Renders template.yaml, as deployed, to the routing the end-to-end test
builds in moto (`e2e/tests/stack.rs`).

The template is transformed by the SAM translator (the one `sam deploy`
uses), conditions and intrinsic functions are evaluated for the given
parameters, and every resource that moves data is printed, fully resolved,
as JSON on stdout: buckets and their notifications, topics, queues (with
redrive policies), subscriptions (raw delivery, filter policies, redrive),
event source mappings, EventBridge rules and targets, tables, trails, and
each function with its binary, environment and role policy.

Physical names are the logical ids (buckets: lower case with the account),
so every ARN is known before anything exists; the test checks that moto
answers the same ARNs.

Why not moto's CloudFormation: measured with moto 5.2.5, CreateStack of the
transformed template fails (HTTP 500) and moto's CloudFormation has no
AWS::SNS::Subscription, AWS::SQS::QueuePolicy, AWS::SNS::TopicPolicy,
AWS::S3::BucketPolicy or AWS::CloudTrail::Trail: the routing would be lost.

A resource type this script does not know fails the run, so a new kind of
wiring cannot be skipped silently.

Usage: stack_routing.py [--account ID] [--region R] [Param=Value ...]
"""
import argparse
import copy
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Types that carry no routing the test can exercise, and why.
IGNORED = {
    "AWS::CloudWatch::Alarm": "alarms read metrics; the test reads the metrics themselves",
    "AWS::CloudWatch::Dashboard": "a dashboard reads metrics; engine/tests/dashboard.rs checks it",
    "AWS::Logs::LogGroup": "log retention only",
    "AWS::Lambda::Permission": "moto cannot invoke Lambda; the test invokes handlers",
    "AWS::SNS::TopicPolicy": "service-principal resource policies: moto does not evaluate them",
    "AWS::SQS::QueuePolicy": "service-principal resource policies: moto does not evaluate them",
    "AWS::S3::BucketPolicy": "service-principal resource policies: moto does not evaluate them",
    "AWS::IAM::Role": "read through the functions that assume them",
}

NO_VALUE = object()


class Stack:
    """The transformed template with parameters, pseudo parameters and physical names."""

    def __init__(self, template, params, account, region):
        self.t = template
        self.account, self.region, self.partition = account, region, "aws"
        self.params = {}
        for name, spec in template.get("Parameters", {}).items():
            value = params.pop(name, spec.get("Default"))
            if value is None:
                sys.exit(f"stack_routing: parameter {name} has no default and no value")
            self.params[name] = str(value)
        if params:
            sys.exit(f"stack_routing: unknown parameters {sorted(params)}")
        self.conditions = {}
        self.resources = {
            lid: r for lid, r in template["Resources"].items()
            if "Condition" not in r or self.condition(r["Condition"])
        }

    def condition(self, name):
        if name not in self.conditions:
            self.conditions[name] = self.resolve(self.t["Conditions"][name])
        return self.conditions[name]

    def name(self, lid):
        if self.t["Resources"][lid]["Type"] == "AWS::S3::Bucket":
            return f"{lid.lower()}-{self.account}"
        return lid

    def ref(self, lid):
        pseudo = {"AWS::AccountId": self.account, "AWS::Region": self.region,
                  "AWS::Partition": self.partition, "AWS::StackName": "trailguard",
                  "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": NO_VALUE}
        if lid in pseudo:
            return pseudo[lid]
        if lid in self.params:
            return self.params[lid]
        kind = self.t["Resources"][lid]["Type"]
        if kind == "AWS::SNS::Topic":
            return self.arn(lid)
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.amazonaws.com/{self.account}/{lid}"
        return self.name(lid)

    def arn(self, lid):
        kind, name = self.t["Resources"][lid]["Type"], self.name(lid)
        p, r, a = self.partition, self.region, self.account
        return {
            "AWS::S3::Bucket": f"arn:{p}:s3:::{name}",
            "AWS::SNS::Topic": f"arn:{p}:sns:{r}:{a}:{name}",
            "AWS::SQS::Queue": f"arn:{p}:sqs:{r}:{a}:{name}",
            "AWS::DynamoDB::Table": f"arn:{p}:dynamodb:{r}:{a}:table/{name}",
            "AWS::Lambda::Function": f"arn:{p}:lambda:{r}:{a}:function:{name}",
            "AWS::IAM::Role": f"arn:{p}:iam::{a}:role/{name}",
            "AWS::CloudTrail::Trail": f"arn:{p}:cloudtrail:{r}:{a}:trail/{name}",
            "AWS::Events::Rule": f"arn:{p}:events:{r}:{a}:rule/{name}",
        }[kind]

    def get_att(self, lid, attr):
        if attr == "Arn":
            return self.arn(lid)
        if attr in ("QueueName", "TopicName"):
            return self.name(lid)
        sys.exit(f"stack_routing: Fn::GetAtt {lid}.{attr} is not known")

    def sub(self, text, local):
        out, i = [], 0
        while (start := text.find("${", i)) >= 0:
            end = text.index("}", start)
            out.append(text[i:start])
            key = text[start + 2:end]
            if key in local:
                out.append(str(local[key]))
            elif "." in key:
                out.append(self.get_att(*key.split(".", 1)))
            else:
                out.append(str(self.ref(key)))
            i = end + 1
        out.append(text[i:])
        return "".join(out)

    def resolve(self, v):
        if isinstance(v, list):
            return [x for x in (self.resolve(x) for x in v) if x is not NO_VALUE]
        if not isinstance(v, dict):
            return v
        if len(v) == 1:
            (k, arg), = v.items()
            if k == "Ref":
                return self.ref(arg)
            if k == "Fn::GetAtt":
                return self.get_att(*(arg.split(".", 1) if isinstance(arg, str) else arg))
            if k == "Fn::Sub":
                text, local = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
                return self.sub(text, local)
            if k == "Fn::Join":
                return arg[0].join(str(x) for x in self.resolve(arg[1]))
            if k == "Fn::If":
                return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])
            if k == "Fn::Equals":
                a, b = self.resolve(arg)
                return str(a) == str(b)
            if k == "Fn::Not":
                return not self.resolve(arg[0])
            if k == "Fn::And":
                return all(self.resolve(x) for x in arg)
            if k == "Fn::Or":
                return any(self.resolve(x) for x in arg)
            if k == "Condition":
                return self.condition(arg)
            if k == "Fn::Select":
                return self.resolve(arg[1])[int(self.resolve(arg[0]))]
            if k.startswith("Fn::"):
                sys.exit(f"stack_routing: {k} is not supported")
        out = {}
        for k, x in v.items():
            x = self.resolve(x)
            if x is not NO_VALUE:
                out[k] = x
        return out

    def props(self, lid):
        return self.resolve(self.resources[lid].get("Properties", {}))

    def of_type(self, kind):
        return [lid for lid, r in self.resources.items() if r["Type"] == kind]


def bucket(s, lid):
    p = s.props(lid)
    n = p.get("NotificationConfiguration", {})
    unknown = set(n) - {"TopicConfigurations"}
    if unknown:
        sys.exit(f"stack_routing: {lid} notifications {sorted(unknown)} are not routed by the test")
    return {
        "id": lid, "name": s.name(lid), "arn": s.arn(lid),
        "versioning": p.get("VersioningConfiguration", {}).get("Status") == "Enabled",
        "topicNotifications": [{
            "topicArn": c["Topic"], "events": [c["Event"]],
            "filterRules": [{"name": r["Name"], "value": r["Value"]}
                            for r in c.get("Filter", {}).get("S3Key", {}).get("Rules", [])],
        } for c in n.get("TopicConfigurations", [])],
    }


QUEUE_ATTRIBUTES = ["VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "MaximumMessageSize",
                    "ReceiveMessageWaitTimeSeconds", "RedrivePolicy", "SqsManagedSseEnabled"]


def api_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return json.dumps(v, separators=(",", ":")) if isinstance(v, (dict, list)) else str(v)


def queue(s, lid):
    p = s.props(lid)
    unknown = set(p) - set(QUEUE_ATTRIBUTES)
    if unknown:
        sys.exit(f"stack_routing: queue {lid} properties {sorted(unknown)} are not handled")
    return {"id": lid, "name": s.name(lid), "arn": s.arn(lid),
            "attributes": {k: api_value(v) for k, v in p.items()}}


def subscription(s, lid, function_of):
    p = s.props(lid)
    attrs = {}
    for key in ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy"):
        if key in p:
            attrs[key] = api_value(p[key])
    return {"id": lid, "topicArn": p["TopicArn"], "protocol": p["Protocol"], "endpoint": p["Endpoint"],
            "function": function_of.get(p["Endpoint"]), "attributes": attrs}


def table(s, lid):
    p = s.props(lid)
    return {"id": lid, "name": s.name(lid), "arn": s.arn(lid),
            "attributeDefinitions": p["AttributeDefinitions"], "keySchema": p["KeySchema"],
            "globalSecondaryIndexes": p.get("GlobalSecondaryIndexes", []),
            "timeToLive": p.get("TimeToLiveSpecification")}


def rule(s, lid, function_of):
    p = s.props(lid)
    return {"id": lid, "name": s.name(lid),
            "eventPattern": json.dumps(p["EventPattern"]) if "EventPattern" in p else None,
            "scheduleExpression": p.get("ScheduleExpression"),
            "targets": [{"id": t["Id"], "arn": t["Arn"], "function": function_of.get(t["Arn"]),
                         "deadLetterArn": t.get("DeadLetterConfig", {}).get("Arn")}
                        for t in p.get("Targets", [])]}


# IAM service prefixes moto checks under another name (its endpoint's).
MOTO_PREFIXES = {"cloudwatch": "monitoring"}


def for_moto(statements):
    """The statements as moto can enforce them, and what had to change.

    moto (5.2.5, iam/access_control.py) checks the action of every request,
    but matches resources only for S3 and SQS (and IAM, STS): other services
    are checked against "*", so a statement scoped to a topic or table
    would deny every call. Conditions are evaluated with no request context,
    so moto denies a statement that has one. Those parts are widened here;
    the actions stay exactly as written, plus moto's spelling of those it
    names after the endpoint rather than the IAM service (CloudWatch's
    `cloudwatch:` actions are checked as `monitoring:`).
    """
    enforced, widened = [], []
    for i, st in enumerate(statements):
        st = copy.deepcopy(st)
        label = st.get("Sid", f"#{i}")
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        respelled = [MOTO_PREFIXES[a.split(":")[0]] + ":" + a.split(":", 1)[1]
                     for a in actions if a.split(":")[0] in MOTO_PREFIXES]
        if respelled:
            st["Action"] = actions + respelled
            widened.append(f"{label}: also {respelled}, moto's spelling")
        if st.pop("Condition", None) is not None:
            widened.append(f"{label}: condition not evaluated by moto")
        resources = st.get("Resource", "*")
        resources = resources if isinstance(resources, list) else [resources]
        if all(r == "*" or r.startswith(("arn:aws:s3:", "arn:aws:sqs:")) for r in resources):
            st["Resource"] = resources
        else:
            st["Resource"] = "*"
            widened.append(f"{label}: resource {resources} not matched by moto")
        enforced.append(st)
    return {"Version": "2012-10-17", "Statement": enforced}, widened


def function(s, lid, esm_queues):
    p = s.props(lid)
    role_lid = s.resources[lid]["Properties"]["Role"]["Fn::GetAtt"][0]
    role = s.props(role_lid)
    statements = [st for pol in role.get("Policies", []) for st in pol["PolicyDocument"]["Statement"]]
    moto_policy, widened = for_moto(statements)
    return {
        "id": lid, "name": s.name(lid), "arn": s.arn(lid),
        "binary": s.resources[lid].get("Metadata", {}).get("BuildProperties", {}).get("Binary"),
        "environment": {k: str(v) for k, v in p.get("Environment", {}).get("Variables", {}).items()},
        "deadLetterArn": p.get("DeadLetterConfig", {}).get("TargetArn"),
        "roleArn": s.arn(role_lid),
        "policy": {"Version": "2012-10-17", "Statement": statements},
        "managedPolicies": role.get("ManagedPolicyArns", []),
        "motoPolicy": moto_policy, "widened": widened,
    }


def render(template, params, account, region):
    s = Stack(template, params, account, region)
    handled = {"AWS::S3::Bucket", "AWS::SNS::Topic", "AWS::SQS::Queue", "AWS::SNS::Subscription",
               "AWS::DynamoDB::Table", "AWS::Lambda::EventSourceMapping", "AWS::Events::Rule",
               "AWS::CloudTrail::Trail", "AWS::Lambda::Function"}
    unknown = {r["Type"] for r in s.resources.values()} - handled - set(IGNORED)
    if unknown:
        sys.exit(f"stack_routing: resource types {sorted(unknown)} are not rendered")
    function_of = {s.arn(f): f for f in s.of_type("AWS::Lambda::Function")}
    esms = []
    for lid in s.of_type("AWS::Lambda::EventSourceMapping"):
        p = s.props(lid)
        fn = p["FunctionName"]
        esms.append({"id": lid, "function": fn, "queueArn": p["EventSourceArn"],
                     "batchSize": p.get("BatchSize", 10),
                     "reportBatchItemFailures": "ReportBatchItemFailures" in p.get("FunctionResponseTypes", [])})
    trails = []
    for lid in s.of_type("AWS::CloudTrail::Trail"):
        p = s.props(lid)
        trails.append({"id": lid, "name": s.name(lid), "arn": s.arn(lid), "bucket": p["S3BucketName"],
                       "isLogging": p.get("IsLogging", False), "multiRegion": p.get("IsMultiRegionTrail", False),
                       "logFileValidation": p.get("EnableLogFileValidation", False)})
    functions = [function(s, f, esms) for f in s.of_type("AWS::Lambda::Function")]
    dead_letters = set()
    for q in s.of_type("AWS::SQS::Queue"):
        redrive = s.props(q).get("RedrivePolicy")
        if redrive:
            dead_letters.add(redrive["deadLetterTargetArn"])
    subscriptions = [subscription(s, x, function_of) for x in s.of_type("AWS::SNS::Subscription")]
    rules = [rule(s, x, function_of) for x in s.of_type("AWS::Events::Rule")]
    for sub in subscriptions:
        if "RedrivePolicy" in sub["attributes"]:
            dead_letters.add(json.loads(sub["attributes"]["RedrivePolicy"])["deadLetterTargetArn"])
    for r in rules:
        dead_letters.update(t["deadLetterArn"] for t in r["targets"] if t["deadLetterArn"])
    dead_letters.update(f["deadLetterArn"] for f in functions if f["deadLetterArn"])
    return {
        "account": account, "region": region, "parameters": s.params,
        "buckets": [bucket(s, b) for b in s.of_type("AWS::S3::Bucket")],
        "topics": [{"id": t, "name": s.name(t), "arn": s.arn(t)} for t in s.of_type("AWS::SNS::Topic")],
        "queues": [queue(s, q) for q in s.of_type("AWS::SQS::Queue")],
        "deadLetterQueueArns": sorted(dead_letters),
        "subscriptions": subscriptions,
        "tables": [table(s, t) for t in s.of_type("AWS::DynamoDB::Table")],
        "eventSourceMappings": esms,
        "rules": rules,
        "trails": trails,
        "functions": functions,
    }


def transform(path, region):
    from samtranslator.translator.transform import transform as sam_transform
    from samtranslator.yaml_helper import yaml_parse

    template = yaml_parse(path.read_text())
    for r in template["Resources"].values():
        # The translator wants an S3 code location; the code is not deployed here.
        if r["Type"] == "AWS::Serverless::Function":
            r["Properties"]["CodeUri"] = "s3://trailguard-code/function.zip"

    class NoManagedPolicies:
        def load(self):
            return {}

    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    return sam_transform(template, {}, NoManagedPolicies())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    ap.add_argument("--account", default="123456789012")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("params", nargs="*", metavar="Param=Value")
    args = ap.parse_args()
    params = dict(p.split("=", 1) for p in args.params)
    routing = render(transform(args.template, args.region), params, args.account, args.region)
    json.dump(routing, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
