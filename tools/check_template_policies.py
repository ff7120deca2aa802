#!/usr/bin/env python3
"""Checks the trust boundaries template.yaml draws, so they stay drawn.

- Least privilege: an IAM grant on `*` is only for actions that take no
  resource ARN (listed below, each with why); an ARN must name this
  account (or carry an `s3:ResourceAccount` condition where the ARN cannot,
  as for S3 buckets) and must not be all of a service's resources of a
  kind that rule sources or the like could narrow (`s3:::*/*`,
  `parameter/*`).
- Log files: the stack's trail bucket denies object writes under AWSLogs/
  to anyone but CloudTrail for the stack's trail (`aws:SourceArn`).
- Findings: the findings topic's policy denies `sns:Publish` to every
  principal but the functions the template grants publishing on it.
- Deferred remediations: the remediator's retry queue denies
  `sqs:SendMessage` to every principal but the remediator's role (the
  remediator trusts that queue's messages as requests it deferred).
- Rejected records and a tripped remediation rate limit raise alarms.

`--self-test` breaks a copy of the template in each of those ways and
checks that every break is reported (and the template as it is, not).
"""
import copy
import sys

import yaml

TEMPLATE = "template.yaml"

# Actions whose Service Authorization Reference entry lists no resource
# type, so `*` is the only Resource IAM accepts for them.
NO_RESOURCE_ACTIONS = {
    "cloudwatch:PutMetricData": "no resource types; narrowed by cloudwatch:namespace",
    "cloudtrail:ListPublicKeys": "no resource types",
    "cloudtrail:LookupEvents": "no resource types",
    "ec2:DescribeSecurityGroups": "Describe* calls take no resource ARN",
    "ec2:DescribeSecurityGroupRules": "Describe* calls take no resource ARN",
    "ec2:DescribeSnapshots": "Describe* calls take no resource ARN",
    "ec2:DescribeImages": "Describe* calls take no resource ARN",
    "sts:GetCallerIdentity": "no resource types",
}

# ARN resource parts that mean "every one there is" where the template
# knows (or is told by a parameter) which ones it needs.
TOO_WIDE = {
    # Bucket-level "*" is checked apart: it needs s3:ResourceAccount.
    "s3": lambda resource: resource == "*/*",
    "ssm": lambda resource: resource in ("*", "parameter/*"),
}


class Loader(yaml.SafeLoader):
    pass


def tagged(loader, suffix, node):
    """`!Ref x` as {"Ref": "x"}, `!Sub s` as {"Fn::Sub": s}, and so on."""
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {name: value}


Loader.add_multi_constructor("!", tagged)


def as_list(value):
    return value if isinstance(value, list) else [value]


def branches(value):
    """The values an `Fn::If` may take (the value itself otherwise)."""
    if isinstance(value, dict) and "Fn::If" in value:
        _, then, other = value["Fn::If"]
        return branches(then) + branches(other)
    return [value]


def policy_documents(resources):
    """(where, policy document) for every inline IAM policy."""
    for name, res in resources.items():
        props = res.get("Properties", {})
        if res.get("Type") == "AWS::Serverless::Function":
            for policy in as_list(props.get("Policies", [])):
                for doc in branches(policy):
                    if isinstance(doc, dict) and "Statement" in doc:
                        yield name, doc
        elif res.get("Type") == "AWS::IAM::Role":
            for policy in as_list(props.get("Policies", [])):
                for choice in branches(policy):
                    if isinstance(choice, dict) and "PolicyDocument" in choice:
                        yield f"{name}/{choice.get('PolicyName')}", choice["PolicyDocument"]


def arn_text(resource):
    """The ARN a Resource entry spells out, `*`, or None (a reference)."""
    if isinstance(resource, str):
        return resource
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        sub = resource["Fn::Sub"]
        return sub if isinstance(sub, str) else sub[0]
    return None


def resource_problems(where, actions, resource, condition):
    text = arn_text(resource)
    if text is None:
        return []
    if text.startswith("${"):
        return []  # another resource's ARN, made by CloudFormation
    if text == "*":
        return [
            f"{where}: {action} on '*', but it takes a resource ARN"
            for action in actions
            if action not in NO_RESOURCE_ACTIONS
        ]
    # Pseudo parameters hold colons of their own: spell them out first.
    for pseudo, value in (("${AWS::Partition}", "aws"), ("${AWS::Region}", "us-east-1"),
                          ("${AWS::AccountId}", "111122223333")):
        text = text.replace(pseudo, value)
    parts = text.split(":", 5)
    if len(parts) < 6:
        return [f"{where}: {text!r} is not an ARN"]
    service, account, rest = parts[2], parts[4], parts[5]
    problems = []
    wide = TOO_WIDE.get(service)
    if wide and wide(rest):
        problems.append(f"{where}: {text!r} grants every {service} resource; name them")
    bound = any(
        "s3:ResourceAccount" in keys or "aws:ResourceAccount" in keys
        for keys in (condition or {}).values()
    )
    if service == "s3" and rest.startswith("*") and not bound:
        problems.append(f"{where}: {text!r} spans every account's buckets; "
                        "add an s3:ResourceAccount condition")
    if account == "*":
        problems.append(f"{where}: {text!r} names any account; use ${{AWS::AccountId}}")
    return problems


def grant_problems(resources):
    problems = []
    for where, doc in policy_documents(resources):
        for statement in as_list(doc.get("Statement", [])):
            if statement.get("Effect") != "Allow":
                continue
            actions = as_list(statement.get("Action", []))
            here = f"{where} {statement.get('Sid', '')}".strip()
            for resource in as_list(statement.get("Resource", [])):
                for choice in branches(resource):
                    problems += resource_problems(here, actions, choice,
                                                  statement.get("Condition"))
    return problems


def bucket_problems(resources):
    policy = resources.get("TrailBucketPolicy", {}).get("Properties", {})
    for statement in as_list(policy.get("PolicyDocument", {}).get("Statement", [])):
        writes = "s3:PutObject" in as_list(statement.get("Action", []))
        logs = any("AWSLogs/" in (arn_text(r) or "") for r in as_list(statement.get("Resource")))
        source = statement.get("Condition", {}).get("ArnNotEquals", {}).get("aws:SourceArn")
        if statement.get("Effect") == "Deny" and statement.get("Principal") == "*" \
                and writes and logs and source is not None:
            return []
    return ["TrailBucketPolicy: no Deny of s3:PutObject under AWSLogs/ "
            "for requests whose aws:SourceArn is not the trail"]


def publisher(resource_name, resources):
    """The role ARN reference of a function or role that may publish."""
    if resources[resource_name].get("Type") == "AWS::IAM::Role":
        return ["Fn::GetAtt", resource_name]
    role = resources[resource_name].get("Properties", {}).get("Role")
    if isinstance(role, dict) and "Fn::GetAtt" in role:
        return ["Fn::GetAtt", role["Fn::GetAtt"][0]]
    return ["Fn::GetAtt", f"{resource_name}Role"]


def topic_problems(resources):
    publishers = set()
    for where, doc in policy_documents(resources):
        for statement in as_list(doc.get("Statement", [])):
            if "sns:Publish" in as_list(statement.get("Action", [])) and \
                    {"Ref": "FindingsTopic"} in as_list(statement.get("Resource")):
                publishers.add(tuple(publisher(where.split("/")[0], resources)))
    for name, res in resources.items():
        props = res.get("Properties", {})
        if res.get("Type") != "AWS::SNS::TopicPolicy" or \
                {"Ref": "FindingsTopic"} not in as_list(props.get("Topics")):
            continue
        for statement in as_list(props.get("PolicyDocument", {}).get("Statement", [])):
            allowed = statement.get("Condition", {}).get("ArnNotEquals", {}).get("aws:PrincipalArn")
            if statement.get("Effect") != "Deny" or allowed is None or \
                    "sns:Publish" not in as_list(statement.get("Action", [])):
                continue
            named = {("Fn::GetAtt", a["Fn::GetAtt"][0]) for a in as_list(allowed)
                     if isinstance(a, dict) and "Fn::GetAtt" in a}
            missing = publishers - named
            if missing:
                return [f"{name}: granted publishers {sorted(m[1] for m in missing)} "
                        "are denied by the topic policy"]
            return []
    return ["FindingsTopic: no topic policy denying sns:Publish to all but the stack's publishers"]


def retry_queue_problems(resources):
    """The remediator's retry queue takes messages from the remediator only."""
    queue = {"Ref": "RemediatorRetryQueue"}
    for name, res in resources.items():
        props = res.get("Properties", {})
        if res.get("Type") != "AWS::SQS::QueuePolicy" or queue not in as_list(props.get("Queues")):
            continue
        for statement in as_list(props.get("PolicyDocument", {}).get("Statement", [])):
            allowed = statement.get("Condition", {}).get("ArnNotEquals", {}).get("aws:PrincipalArn")
            if statement.get("Effect") == "Deny" and statement.get("Principal") == "*" and \
                    "sqs:SendMessage" in as_list(statement.get("Action", [])) and \
                    as_list(allowed) == [{"Fn::GetAtt": ["RemediatorRole", "Arn"]}]:
                return []
        return [f"{name}: no Deny of sqs:SendMessage to all but RemediatorRole"]
    return ["RemediatorRetryQueue: no queue policy denying sqs:SendMessage "
            "to all but the remediator"]


ALARMED_METRICS = ("RecordsRejected", "RemediationsRateLimited")


def alarm_problems(resources):
    alarmed = {res.get("Properties", {}).get("MetricName") for res in resources.values()
               if res.get("Type") == "AWS::CloudWatch::Alarm"}
    return [f"no alarm on {metric}" for metric in ALARMED_METRICS if metric not in alarmed]


def problems(template):
    resources = template["Resources"]
    return (grant_problems(resources) + bucket_problems(resources)
            + topic_problems(resources) + retry_queue_problems(resources)
            + alarm_problems(resources))


def statement(template, resource, sid=None, policy=None):
    """A statement of the template to break, found by Sid or policy name."""
    props = template["Resources"][resource]["Properties"]
    if "PolicyDocument" in props:
        docs = [props["PolicyDocument"]]
    else:
        docs = [d for p in props["Policies"] for d in branches(p)
                if isinstance(d, dict) and (policy is None or d.get("PolicyName") == policy)]
        docs = [d.get("PolicyDocument", d) for d in docs]
    for doc in docs:
        for s in as_list(doc.get("Statement", [])):
            if sid is None or s.get("Sid") == sid:
                return s
    raise KeyError((resource, sid, policy))


def self_test(template):
    assert problems(template) == [], problems(template)

    def cloudtrail_on_star(t):
        statement(t, "RemediatorRole", policy="cloudtrail-logging")["Resource"] = "*"

    def s3_any_account(t):
        del statement(t, "RemediatorRole", policy="s3-public-access")["Condition"]

    def rules_from_every_bucket(t):
        statement(t, "NotifierFunction", "ReadRuleObjects")["Resource"] = \
            {"Fn::Sub": "arn:${AWS::Partition}:s3:::*/*"}

    def every_parameter(t):
        statement(t, "MetricsFunction", "ReadRuleParameters")["Resource"] = \
            {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/*"}

    def anyone_writes_logs(t):
        doc = t["Resources"]["TrailBucketPolicy"]["Properties"]["PolicyDocument"]
        doc["Statement"] = [s for s in doc["Statement"] if s.get("Sid") != "DenyLogWritesButTheTrail"]

    def anyone_publishes(t):
        del t["Resources"]["FindingsTopicPolicy"]

    def new_publisher_not_in_topic_policy(t):
        policy = t["Resources"]["FindingsTopicPolicy"]["Properties"]["PolicyDocument"]
        allowed = policy["Statement"][0]["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
        allowed.remove({"Fn::GetAtt": ["RemediatorRole", "Arn"]})

    def retry_queue_on_star(t):
        statement(t, "RemediatorRole", "DeferRateLimited")["Resource"] = "*"

    def anyone_defers(t):
        del t["Resources"]["RemediatorRetryQueuePolicy"]

    def no_rejected_alarm(t):
        del t["Resources"]["RecordsRejectedAlarm"]

    def no_rate_limit_alarm(t):
        del t["Resources"]["RemediatorRateLimitedAlarm"]

    breaks = [cloudtrail_on_star, s3_any_account, rules_from_every_bucket, every_parameter,
              anyone_writes_logs, anyone_publishes, new_publisher_not_in_topic_policy,
              retry_queue_on_star, anyone_defers, no_rejected_alarm, no_rate_limit_alarm]
    for mutate in breaks:
        broken = copy.deepcopy(template)
        mutate(broken)
        found = problems(broken)
        assert found, f"{mutate.__name__}: not reported"
        print(f"self-test {mutate.__name__}: {found[0]}")


def main():
    template = yaml.load(open(TEMPLATE), Loader=Loader)
    if "--self-test" in sys.argv:
        self_test(template)
        return 0
    found = problems(template)
    for p in found:
        print(p, file=sys.stderr)
    if not found:
        print("IAM grants, trail bucket policy, findings topic policy and alarms checked")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
