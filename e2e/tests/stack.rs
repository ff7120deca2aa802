//! The stack as `template.yaml` wires it, end to end in moto.
//!
//! The routing is rendered from the template (`tools/stack_routing.py`,
//! through the SAM translator) and built in moto as written: the trail
//! bucket's notification, the delivery topic, each function's queue,
//! subscription and dead-letter queue, the findings topic and the
//! remediator's subscription with its filter policy, the EventBridge rules,
//! the tables. Each function signs as a user holding exactly its role's
//! policy, but moto (5.2.5) runs without IAM enforcement here: with it on,
//! moto refuses the signature of any SNS or EC2 request whose parameters
//! hold a space (every finding and audit publish), whatever the policy
//! says. `moto_refuses_what_a_policy_does_not_grant` keeps the enforcement
//! mechanism itself under test. Real CloudTrail log files are
//! uploaded under CloudTrail's key layout, and every function is driven by
//! what its queue or tap really holds. A change to the template's wiring
//! that breaks a route fails this test.

#[path = "stack/metrics.rs"]
mod cis;
#[path = "stack/drive.rs"]
mod drive;
#[path = "stack/functions.rs"]
mod functions;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

use aws_sdk_ec2::types::{Filter, IpPermission, IpRange};
use serde_json::{Value, json};
use testkit::{Moto, assert_schema_valid, ingress_rules, repo_root, sample_files};
use trailguard_e2e::deploy::{Deployed, deploy};
use trailguard_e2e::routing::Routing;

use crate::drive::{Pass, depth, pass};
use crate::functions::Functions;

/// The deployment under test: the one action exercised enabled, changes on.
const PARAMETERS: &[&str] = &["RemediateSecurityGroupOpenIngress=true", "DryRun=false"];
const ACTION: &str = "security-group-open-ingress";
/// Where CloudTrail put the bundled samples (account 218007301253).
const SAMPLE_PREFIX: &str = "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/";
const WORLD_SSH: &str = "tcp 22-22 0.0.0.0/0";
const PRIVATE_SSH: &str = "tcp 22-22 10.0.0.0/8";

/// A security group in moto's EC2 with SSH open to the world (and to
/// 10.0.0.0/8), and the id of the world-open rule. No spaces in its texts:
/// with IAM enforced, moto (5.2.5) fails the signature of an EC2 request
/// carrying one (AuthFailure).
async fn world_open_group(ec2: &aws_sdk_ec2::Client) -> (String, String) {
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .expect("CreateVpc")
        .vpc
        .and_then(|v| v.vpc_id)
        .expect("a VPC id");
    let group = ec2
        .create_security_group()
        .group_name("web")
        .description("web-tier")
        .vpc_id(vpc)
        .send()
        .await
        .expect("CreateSecurityGroup")
        .group_id
        .expect("a group id");
    let ssh = |cidr: &str, description: &str| {
        IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(22)
            .to_port(22)
            .ip_ranges(
                IpRange::builder()
                    .cidr_ip(cidr)
                    .description(description)
                    .build(),
            )
            .build()
    };
    ec2.authorize_security_group_ingress()
        .group_id(&group)
        .ip_permissions(ssh("0.0.0.0/0", "temporary-ssh"))
        .ip_permissions(ssh("10.0.0.0/8", "office"))
        .send()
        .await
        .expect("AuthorizeSecurityGroupIngress");
    let rules = ec2
        .describe_security_group_rules()
        .filters(Filter::builder().name("group-id").values(&group).build())
        .send()
        .await
        .expect("DescribeSecurityGroupRules");
    let world = rules
        .security_group_rules()
        .iter()
        .find(|r| r.is_egress() == Some(false) && r.cidr_ipv4() == Some("0.0.0.0/0"))
        .and_then(|r| r.security_group_rule_id())
        .expect("the world-open rule")
        .to_owned();
    (group, world)
}

/// The CloudTrail record of the call that opened `group` to the world.
/// The bundled detonation logs hold no such call, so the record is the
/// documented shape of `events/remediator/` with the group and rule ids
/// of the group moto made.
fn opening_record(group: &str, rule: &str) -> Value {
    let path =
        repo_root().join("events/remediator/eventbridge-authorize-security-group-ingress.json");
    let event: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("the sample")).expect("JSON");
    let mut record = event["detail"].clone();
    record["requestParameters"]["groupId"] = json!(group);
    let created = &mut record["responseElements"]["securityGroupRuleSet"]["items"][0];
    created["groupId"] = json!(group);
    created["securityGroupRuleId"] = json!(rule);
    record
}

/// `record` as CloudTrail delivers it: a gzipped log file, written to a
/// temporary file, and its key in CloudTrail's layout
/// (`AWSLogs/{account}/CloudTrail/{region}/{yyyy}/{mm}/{dd}/{account}_CloudTrail_{region}_{yyyymmddThhmmZ}_{unique}.json.gz`).
fn log_file(record: &Value) -> (PathBuf, String) {
    let field = |name: &str| record[name].as_str().expect(name).to_owned();
    let (account, region, time) = (
        field("recipientAccountId"),
        field("awsRegion"),
        field("eventTime"),
    );
    let (date, clock) = (&time[..10], &time[11..16]);
    let stamp = format!("{}T{}Z", date.replace('-', ""), clock.replace(':', ""));
    let name = format!("{account}_CloudTrail_{region}_{stamp}_e2eWorldOpenSsh0.json.gz");
    let key = format!(
        "AWSLogs/{account}/CloudTrail/{region}/{}/{name}",
        date.replace('-', "/")
    );
    let path = std::env::temp_dir().join(format!("trailguard-e2e-{}-{name}", std::process::id()));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json!({ "Records": [record] }).to_string().as_bytes())
        .expect("gzip");
    std::fs::write(&path, gz.finish().expect("gzip")).expect("a temporary log file");
    (path, key)
}

/// The findings in SNS envelopes, with the `remediation` attribute of each.
fn findings(envelopes: &[Value]) -> Vec<(Value, Option<String>)> {
    envelopes
        .iter()
        .map(|e| {
            let finding = serde_json::from_str(e["Message"].as_str().expect("a Message"))
                .expect("a JSON finding");
            let attribute = e["MessageAttributes"]["remediation"]["Value"]
                .as_str()
                .map(str::to_owned);
            (finding, attribute)
        })
        .collect()
}

fn ids<'a>(findings: impl IntoIterator<Item = &'a Value>) -> BTreeSet<String> {
    findings
        .into_iter()
        .map(|f| f["id"].as_str().expect("a finding id").to_owned())
        .collect()
}

/// The audit records the remediator's invocations returned.
fn audit_records(pass: &Pass) -> Vec<Value> {
    pass.responses
        .iter()
        .flat_map(|(_, r)| r["records"].as_array().cloned().unwrap_or_default())
        .collect()
}

struct Stack {
    moto: Moto,
    routing: Routing,
    deployed: Deployed,
    functions: Functions,
    sqs: aws_sdk_sqs::Client,
    /// An operator's subscription to every finding (SNS envelopes).
    observer: String,
}

impl Stack {
    async fn start() -> Stack {
        let routing = Routing::render(PARAMETERS).unwrap_or_else(|e| panic!("{e}"));
        let moto = Moto::start();
        let sdk = moto.sdk_config().await;
        let deployed = deploy(&routing, &sdk).await;
        let findings_topic = &routing
            .functions
            .iter()
            .find(|f| f.binary == "notifier")
            .expect("a notifier")
            .environment["TRAILGUARD_FINDINGS_TOPIC_ARN"];
        let observer = moto
            .queue_on_topic(findings_topic, "findings-observer", false)
            .await;
        let functions = Functions::start(&moto, &routing).await;
        Stack {
            sqs: aws_sdk_sqs::Client::new(&sdk),
            moto,
            routing,
            deployed,
            functions,
            observer,
        }
    }

    async fn pass(&self) -> Pass {
        pass(&self.sqs, &self.routing, &self.deployed, &self.functions).await
    }

    /// Checks every dead-letter queue, function queue and tap is empty.
    async fn assert_settled(&self) {
        for arn in &self.routing.dead_letter_queue_arns {
            assert_eq!(
                depth(&self.sqs, self.deployed.queue_url(arn)).await,
                0,
                "dead letters in {arn}"
            );
        }
        for mapping in &self.routing.event_source_mappings {
            let url = self.deployed.queue_url(&mapping.queue_arn);
            assert_eq!(
                depth(&self.sqs, url).await,
                0,
                "left in {}",
                mapping.queue_arn
            );
        }
        for tap in self
            .deployed
            .subscription_taps
            .iter()
            .chain(&self.deployed.rule_taps)
            // moto fires scheduled rules (the integrity gap check) on its own clock.
            .filter(|tap| !tap.scheduled)
        {
            assert_eq!(
                depth(&self.sqs, &tap.queue_url).await,
                0,
                "left for {}",
                tap.route
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn log_files_become_metrics_findings_and_one_remediation_as_the_template_wires_them() {
    // The functions' warnings explain a failed message.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .with_test_writer()
        .try_init();
    let stack = Stack::start().await;
    let sdk = stack.moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let (group, world_rule) = world_open_group(&ec2).await;
    assert!(
        ingress_rules(&ec2, &group)
            .await
            .contains(&WORLD_SSH.to_owned())
    );
    let opening = opening_record(&group, &world_rule);
    let (opening_file, opening_key) = log_file(&opening);

    // Log files where the trail puts them: the real samples and the opening.
    let bucket = &stack.routing.buckets[0].name;
    let s3 = stack.moto.s3().await;
    let mut files = sample_files();
    let mut uploads: Vec<(PathBuf, String)> = files
        .iter()
        .map(|f| {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (f.clone(), format!("{SAMPLE_PREFIX}{name}"))
        })
        .collect();
    uploads.push((opening_file.clone(), opening_key));
    files.push(opening_file);
    for (file, key) in &uploads {
        let body = std::fs::read(file).expect("a log file");
        s3.put_object()
            .bucket(bucket)
            .key(key)
            .body(body.into())
            .send()
            .await
            .expect("PutObject");
    }

    let first = stack.pass().await;

    // Every function fed by a queue on a topic got every log file (moto may
    // also send S3's test event when the notification is configured, which
    // is not counted). The remediator's retry queue is fed by the
    // remediator alone, and only when its rate limit trips.
    let subscribed: BTreeSet<&str> = stack
        .routing
        .subscriptions
        .iter()
        .map(|s| s.endpoint.as_str())
        .collect();
    let log_fed: Vec<_> = stack
        .routing
        .event_source_mappings
        .iter()
        .filter(|m| subscribed.contains(m.queue_arn.as_str()))
        .collect();
    for mapping in &log_fed {
        let got = first
            .delivered
            .iter()
            .filter(|(f, body)| f == &mapping.function && !body.contains("s3:TestEvent"))
            .count();
        assert_eq!(got, uploads.len(), "{} deliveries", mapping.function);
    }

    // CIS metrics, as an independent count of the same files has them.
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let namespace = &stack.routing.parameters["MetricNamespace"];
    let expected = cis::expected(&files);
    assert!(
        expected.contains_key("SecurityGroupChanges"),
        "{expected:?}"
    );
    assert_eq!(cis::read_back(&cw, namespace, &expected).await, expected);

    // Findings on the findings topic: valid Finding v1, each once.
    let published = findings(&stack.moto.drain_queue(&stack.observer).await);
    let all: Vec<Value> = published.iter().map(|(f, _)| f.clone()).collect();
    assert_schema_valid("schemas/finding.v1.schema.json", &all);
    assert_eq!(ids(&all).len(), all.len(), "a finding published twice");
    let remediable: Vec<&(Value, Option<String>)> =
        published.iter().filter(|(_, a)| a.is_some()).collect();
    for (finding, attribute) in &remediable {
        assert_eq!(
            finding["remediation"]["action"].as_str(),
            attribute.as_deref(),
            "{finding}"
        );
    }
    let opened: Vec<_> = published
        .iter()
        .filter(|(f, _)| f["eventId"] == opening["eventID"])
        .collect();
    assert!(!opened.is_empty(), "no finding for the world-open group");
    assert!(
        opened.iter().all(|(_, a)| a.as_deref() == Some(ACTION)),
        "{opened:?}"
    );

    // The remediator got exactly the remediable findings, through the
    // template's filter policy, and nothing else.
    let (received, rest): (Vec<_>, Vec<_>) = findings(
        &first
            .notified
            .iter()
            .map(|(_, e)| e.clone())
            .collect::<Vec<_>>(),
    )
    .into_iter()
    .partition(|(_, a)| a.is_some());
    assert!(
        rest.is_empty(),
        "the remediator got findings no action handles: {rest:?}"
    );
    assert_eq!(
        ids(received.iter().map(|(f, _)| f)),
        ids(remediable.iter().map(|(f, _)| f))
    );
    assert!(
        remediable.len() < published.len(),
        "every finding is remediable?"
    );

    // One change, from the finding path: the world-open rule is gone.
    let records = audit_records(&first);
    let acted: Vec<&Value> = records
        .iter()
        .filter(|r| r["outcome"]["kind"] == "acted")
        .collect();
    assert_eq!(acted.len(), 1, "{records:#?}");
    assert_eq!(acted[0]["action"], ACTION);
    assert!(
        acted[0]["resource"]
            .as_str()
            .unwrap_or_default()
            .contains(&group),
        "{}",
        acted[0]
    );
    assert_eq!(
        ingress_rules(&ec2, &group).await,
        vec![PRIVATE_SSH.to_owned()]
    );

    // The EventBridge path: the template's pattern passes the call (and
    // not a read), and the change it triggers was already made.
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    let entry = |record: &Value| {
        aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .source("aws.ec2")
            .detail_type("AWS API Call via CloudTrail")
            .detail(record.to_string())
            .build()
    };
    let mut read = opening.clone();
    read["eventName"] = json!("DescribeSecurityGroups");
    read["eventID"] = json!("00000000-0000-4000-8000-00000000e2e0");
    let put = events
        .put_events()
        .entries(entry(&opening))
        .entries(entry(&read))
        .send()
        .await
        .expect("PutEvents");
    assert_eq!(put.failed_entry_count(), 0);
    let rule_tap = stack
        .deployed
        .rule_taps
        .iter()
        .find(|t| t.function == "RemediatorFunction")
        .expect("the remediator's rule");
    let delivered = stack.moto.drain_queue(&rule_tap.queue_url).await;
    assert_eq!(delivered.len(), 1, "{delivered:#?}");
    assert_eq!(delivered[0]["detail"]["eventID"], opening["eventID"]);
    // EventBridge writes the account into every event; moto 5.2.5 leaves
    // it out, and the remediator trusts no event whose envelope lacks it.
    let mut event = delivered[0].clone();
    if event.get("account").is_none() {
        event["account"] = json!(stack.routing.account);
    }
    let response = stack
        .functions
        .get("RemediatorFunction")
        .invoke(event)
        .await
        .unwrap_or_else(|e| panic!("the EventBridge trigger failed: {e}"));
    assert_eq!(response["records"], json!([]), "{response}");
    assert_eq!(
        response["redelivered"],
        json!([acted[0]["id"]]),
        "{response}"
    );

    stack.assert_settled().await;

    // Every object delivered again: nothing new anywhere.
    let sns = aws_sdk_sns::Client::new(&sdk);
    let delivery_topic = &stack.routing.buckets[0].topic_notifications[0].topic_arn;
    let first_metrics_function = &stack.routing.event_source_mappings[0].function;
    for (_, body) in first
        .delivered
        .iter()
        .filter(|(f, _)| f == first_metrics_function)
    {
        sns.publish()
            .topic_arn(delivery_topic)
            .message(body)
            .send()
            .await
            .expect("Publish");
    }
    let again = stack.pass().await;
    for mapping in &log_fed {
        let got = again
            .delivered
            .iter()
            .filter(|(f, _)| f == &mapping.function)
            .count();
        let republished = first
            .delivered
            .iter()
            .filter(|(f, _)| f == first_metrics_function)
            .count();
        assert_eq!(got, republished, "{} redeliveries", mapping.function);
        assert!(got >= uploads.len(), "{} redeliveries", mapping.function);
    }
    assert!(
        again.notified.is_empty(),
        "the remediator was invoked again: {:?}",
        again.notified
    );
    assert!(
        stack.moto.drain_queue(&stack.observer).await.is_empty(),
        "findings published again"
    );
    assert_eq!(cis::read_back(&cw, namespace, &expected).await, expected);
    assert_eq!(
        ingress_rules(&ec2, &group).await,
        vec![PRIVATE_SSH.to_owned()]
    );
    stack.assert_settled().await;
    let _ = std::fs::remove_file(&uploads[uploads.len() - 1].0);
}

/// The least-privilege run proves something only while moto enforces IAM:
/// a principal without `sns:Publish` is refused it.
#[tokio::test]
async fn moto_refuses_what_a_policy_does_not_grant() {
    let moto = Moto::start_enforcing_iam().await;
    let topic = aws_sdk_sns::Client::new(&moto.sdk_config().await)
        .create_topic()
        .name("t")
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn
        .unwrap_or_default();
    let only_sqs = json!({"Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*"}]});
    let key = moto.iam_user("only-sqs", &only_sqs).await;
    let sdk = moto.sdk_config_as(&key).await;
    let refused = aws_sdk_sns::Client::new(&sdk)
        .publish()
        .topic_arn(&topic)
        .message("m")
        .send()
        .await;
    let err = refused.expect_err("moto let an unauthorised publish through");
    assert!(format!("{err:?}").contains("AccessDenied"), "{err:?}");
    aws_sdk_sqs::Client::new(&sdk)
        .list_queues()
        .send()
        .await
        .expect("granted");
}
