//! The remediator end to end against moto: for every action a
//! noncompliant resource is made through the AWS API, the real handler is
//! fed real-shaped triggers built from `events/remediator/`, and the effect
//! is read back through the AWS API. Audit records are read back from
//! DynamoDB and from an SQS queue subscribed to the audit topic.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_ec2::types::{
    IpPermission, IpRange, Ipv6Range, OperationType, ResourceType, SnapshotAttributeName,
    TagSpecification,
};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde_json::{Value, json};
use testkit::{Moto, ingress_rules, repo_root};
use trailguard_engine::ObjectRef;
use trailguard_engine::clock::rfc3339_utc;
use trailguard_engine::findings::finding::MAX_MESSAGE_BYTES;
use trailguard_engine::findings::{Finding, FindingMessage};
use trailguard_engine::remediation::exemption::TagChange;
use trailguard_engine::remediation::{ActionKind, RemediationRequest, ResourceRef, audit_id};
use trailguard_remediation::execute::tag_history::TagHistory;
use trailguard_remediation::{RemediatorConfig, RemediatorService};

const ACCOUNT: &str = "123456789012";
const AUDIT_TABLE: &str = "trailguard-audit";
const RATE_TABLE: &str = "trailguard-rate";
const EXEMPT: &str = "trailguard:exempt";
/// The remediator's own role, and a session of it as CloudTrail names it.
const OWN_ROLE: &str = "arn:aws:iam::123456789012:role/trailguard-remediator";
const OWN_SESSION: &str = "arn:aws:sts::123456789012:assumed-role/trailguard-remediator/1764062043";
/// Longer than the epoch is old: one rate window for the whole test.
const ONE_WINDOW: &str = "10000000000";
/// The findings topic, as the samples' SNS envelopes name it.
const FINDINGS_TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:trailguard-findings";
/// An administrator who sets exemption tags.
const ADMIN: &str = "arn:aws:sts::123456789012:assumed-role/SecurityAdmin/bob";

/// A tag history that answers the same changes for every resource (moto
/// has no CloudTrail `LookupEvents`).
struct FixedHistory(Vec<TagChange>);

impl TagHistory for FixedHistory {
    fn changes<'a>(
        &'a self,
        _req: &'a RemediationRequest,
        _tag_key: &'a str,
        _now: u64,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<TagChange>, String>> + Send + 'a>> {
        let changes = self.0.clone();
        Box::pin(async move { Ok(changes) })
    }
}

/// Exemption tags set long ago by an administrator.
fn tagged_by_admin_long_ago() -> Arc<FixedHistory> {
    Arc::new(FixedHistory(vec![TagChange {
        at_epoch: 1_600_000_000,
        principal: Some(ADMIN.to_owned()),
    }]))
}

/// One moto, the audit table, rate table and topic, and a queue tapping the
/// topic; the findings topic and the retry queue.
struct Harness {
    moto: Moto,
    sdk: SdkConfig,
    dynamodb: aws_sdk_dynamodb::Client,
    topic_arn: String,
    queue_url: String,
    retry_queue_url: String,
    retry_queue_arn: String,
    /// `(audit id, outcome kind)` of every record the handler returned.
    returned: Mutex<Vec<(String, String)>>,
}

impl Harness {
    async fn start() -> Self {
        let moto = Moto::start();
        let sdk = moto.sdk_config().await;
        let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
        for (table, key) in [(AUDIT_TABLE, "id"), (RATE_TABLE, "pk")] {
            moto.create_table(table, key).await;
        }
        let sns = aws_sdk_sns::Client::new(&sdk);
        let topic_arn = sns
            .create_topic()
            .name("trailguard-audit")
            .send()
            .await
            .unwrap()
            .topic_arn
            .unwrap();
        let queue_url = moto.queue_on_topic(&topic_arn, "audit-tap", true).await;
        let findings = sns
            .create_topic()
            .name("trailguard-findings")
            .send()
            .await
            .unwrap()
            .topic_arn
            .unwrap();
        assert_eq!(findings, FINDINGS_TOPIC);
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let retry_queue_url = sqs
            .create_queue()
            .queue_name("trailguard-retry")
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let retry_queue_arn = "arn:aws:sqs:us-east-1:123456789012:trailguard-retry".to_owned();
        Harness {
            moto,
            sdk,
            dynamodb,
            topic_arn,
            queue_url,
            retry_queue_url,
            retry_queue_arn,
            returned: Mutex::new(Vec::new()),
        }
    }

    /// A service with the harness's tables, topics and queue, the own role
    /// set, exemption tags set long ago by an administrator, and `extra`
    /// variables on top.
    fn service(&self, extra: &[(&str, &str)]) -> RemediatorService {
        self.service_without_history(extra)
            .with_tag_history(tagged_by_admin_long_ago())
    }

    /// [`Harness::service`] reading tag history from moto's CloudTrail.
    fn service_without_history(&self, extra: &[(&str, &str)]) -> RemediatorService {
        let mut vars = vec![
            ("TRAILGUARD_AUDIT_TABLE", AUDIT_TABLE.to_owned()),
            ("TRAILGUARD_AUDIT_TOPIC_ARN", self.topic_arn.clone()),
            ("TRAILGUARD_RATE_TABLE", RATE_TABLE.to_owned()),
            ("TRAILGUARD_OWN_ROLE_ARNS", OWN_ROLE.to_owned()),
            ("TRAILGUARD_FINDINGS_TOPIC_ARN", FINDINGS_TOPIC.to_owned()),
            ("TRAILGUARD_RETRY_QUEUE_URL", self.retry_queue_url.clone()),
            ("TRAILGUARD_RETRY_QUEUE_ARN", self.retry_queue_arn.clone()),
        ];
        vars.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        RemediatorService::new(RemediatorConfig::from_vars(vars).unwrap(), &self.sdk)
    }

    /// Dry run (the default) with `action` enabled.
    fn dry_run(&self, action: &str) -> RemediatorService {
        self.service(&[("TRAILGUARD_ENABLED_ACTIONS", action)])
    }

    /// Changes allowed, `action` enabled.
    fn live(&self, action: &str) -> RemediatorService {
        self.service(&[
            ("TRAILGUARD_ENABLED_ACTIONS", action),
            ("TRAILGUARD_DRY_RUN", "false"),
        ])
    }

    /// Calls the real Lambda handler.
    async fn invoke(
        &self,
        service: &RemediatorService,
        payload: Value,
    ) -> Result<Value, Diagnostic> {
        let result =
            remediator::handler(service, LambdaEvent::new(payload, Context::default())).await;
        if let Ok(response) = &result {
            let records = response["records"].as_array().cloned().unwrap_or_default();
            let mut returned = self.returned.lock().unwrap();
            for record in records {
                returned.push((
                    record["id"].as_str().unwrap().to_owned(),
                    record["outcome"]["kind"].as_str().unwrap().to_owned(),
                ));
            }
        }
        result
    }

    /// Invokes and returns the single audit record of the response, after
    /// checking DynamoDB holds the same outcome for its id.
    async fn decide(&self, service: &RemediatorService, payload: Value) -> Value {
        let response = self
            .invoke(service, payload)
            .await
            .unwrap_or_else(|d| panic!("{}: {}", d.error_type, d.error_message));
        let records = response["records"].as_array().unwrap();
        assert_eq!(records.len(), 1, "{response}");
        let record = records[0].clone();
        let stored = self.stored(record["id"].as_str().unwrap()).await;
        assert_eq!(
            stored.get("outcome").map(String::as_str),
            record["outcome"]["kind"].as_str(),
            "{stored:?}"
        );
        record
    }

    /// The audit item with `id`, its attributes as strings.
    async fn stored(&self, id: &str) -> BTreeMap<String, String> {
        let item = self
            .dynamodb
            .get_item()
            .table_name(AUDIT_TABLE)
            .key("id", AttributeValue::S(id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
            .unwrap_or_else(|| panic!("no audit record {id}"));
        strings(item)
    }

    /// Every audit item.
    async fn all_stored(&self) -> Vec<BTreeMap<String, String>> {
        let items = self
            .dynamodb
            .scan()
            .table_name(AUDIT_TABLE)
            .send()
            .await
            .unwrap()
            .items
            .unwrap_or_default();
        items.into_iter().map(strings).collect()
    }

    /// Drains the queue tapping the audit topic.
    async fn published(&self) -> Vec<Value> {
        self.moto.drain_queue(&self.queue_url).await
    }

    /// Checks every record the handler returned was published on the
    /// audit topic, once, and nothing else was.
    async fn assert_all_published(&self) {
        let mut published: Vec<(String, String)> = self
            .published()
            .await
            .iter()
            .map(|m| {
                (
                    m["id"].as_str().unwrap().to_owned(),
                    m["outcome"]["kind"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let mut returned = self.returned.lock().unwrap().clone();
        published.sort();
        returned.sort();
        assert_eq!(published, returned);
    }
}

fn strings(item: HashMap<String, AttributeValue>) -> BTreeMap<String, String> {
    item.into_iter()
        .map(|(k, v)| {
            let text = match v {
                AttributeValue::S(s) | AttributeValue::N(s) => s,
                other => format!("{other:?}"),
            };
            (k, text)
        })
        .collect()
}

fn sample(name: &str) -> Value {
    let path = repo_root().join("events/remediator").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The trigger in `events/remediator/<name>` with its CloudTrail record
/// edited by `edit`, whichever envelope (EventBridge or SNS finding) holds it.
/// A finding is published anew by the notifier's own code for the edited
/// record (same rule, same log file), never patched by hand.
fn trigger(name: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let mut payload = sample(name);
    if payload.get("detail").is_some() {
        edit(&mut payload["detail"]);
        return payload;
    }
    let message = payload["Records"][0]["Sns"]["Message"].as_str().unwrap();
    let finding = FindingMessage::parse(message).unwrap();
    let mut record: Value = serde_json::from_str(finding.whole_raw_event().unwrap()).unwrap();
    edit(&mut record);
    let object = finding
        .log_file
        .as_ref()
        .map(|f| ObjectRef::new(f.bucket.clone(), f.key.clone()));
    let republished = Finding::new(finding.rule.into_owned(), &record, object.as_ref());
    payload["Records"][0]["Sns"]["Message"] = json!(republished.to_message(MAX_MESSAGE_BYTES));
    payload
}

fn kind(record: &Value) -> &str {
    record["outcome"]["kind"].as_str().unwrap()
}

fn reason(record: &Value) -> String {
    record["outcome"]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// How a resource is made exempt in the matrix.
enum Exemption<'a> {
    /// A second resource, carrying the exemption tag.
    Tagged(&'a str),
    /// The account, through `TRAILGUARD_EXEMPT_ACCOUNTS` (resources without tags).
    Account,
}

/// The checks every action goes through, on `target` (noncompliant):
/// dry run, exemption, own role, the change, a redelivery, a later event.
/// `point` writes a resource id and event id into a CloudTrail record;
/// `fixed` reads a resource back through the AWS API. Returns the acted record.
async fn matrix(
    h: &Harness,
    action: &str,
    sample_name: &str,
    point: impl Fn(&mut Value, &str),
    target: &str,
    exemption: Exemption<'_>,
    fixed: impl AsyncFn(&str) -> bool,
) -> Value {
    let event = |id: &str, step: &str, own: bool| {
        trigger(sample_name, |record| {
            point(record, id);
            record["eventID"] = json!(format!("{action}-{step}-0000-4000-8000-000000000000"));
            if own {
                record["userIdentity"]["arn"] = json!(OWN_SESSION);
            }
        })
    };
    assert!(!fixed(target).await, "{action}: {target} starts compliant");

    let disabled = h
        .decide(
            &h.service(&[("TRAILGUARD_DRY_RUN", "false")]),
            event(target, "off", false),
        )
        .await;
    assert_eq!(kind(&disabled), "skippedGuard", "{disabled}");
    assert!(
        reason(&disabled).contains("TRAILGUARD_ENABLED_ACTIONS"),
        "{disabled}"
    );

    let dry = h
        .decide(&h.dry_run(action), event(target, "dry", false))
        .await;
    assert_eq!(kind(&dry), "wouldAct", "{dry}");
    assert_eq!(dry["dryRun"], true);
    assert!(
        dry["plan"].is_object() && dry["before"].is_object(),
        "{dry}"
    );
    assert!(dry["after"].is_null());
    assert!(!fixed(target).await, "{action}: dry run changed {target}");

    let exempt = match exemption {
        Exemption::Tagged(other) => {
            let record = h
                .decide(&h.live(action), event(other, "tagged", false))
                .await;
            assert!(!fixed(other).await, "{action}: exempt {other} was changed");
            assert!(reason(&record).contains(EXEMPT), "{record}");
            record
        }
        Exemption::Account => {
            let service = h.service(&[
                ("TRAILGUARD_ENABLED_ACTIONS", action),
                ("TRAILGUARD_DRY_RUN", "false"),
                ("TRAILGUARD_EXEMPT_ACCOUNTS", ACCOUNT),
            ]);
            let record = h.decide(&service, event(target, "account", false)).await;
            assert!(!fixed(target).await, "{action}: exempt account changed");
            record
        }
    };
    assert_eq!(kind(&exempt), "skippedExempt", "{exempt}");

    let own = h.decide(&h.live(action), event(target, "own", true)).await;
    assert_eq!(kind(&own), "skippedGuard", "{own}");
    assert!(reason(&own).contains("own role"), "{own}");
    assert!(
        !fixed(target).await,
        "{action}: the loop guard let a change through"
    );

    let payload = event(target, "live", false);
    let acted = h.decide(&h.live(action), payload.clone()).await;
    assert_eq!(kind(&acted), "acted", "{acted}");
    assert_eq!(acted["dryRun"], false);
    assert!(acted["after"].is_object(), "{acted}");
    assert!(fixed(target).await, "{action}: {target} not fixed");

    // The same trigger again (a redelivery): not run, not re-audited.
    let again = h.invoke(&h.live(action), payload).await.unwrap();
    assert_eq!(again["records"], json!([]), "{again}");
    assert_eq!(again["redelivered"], json!([acted["id"]]));
    let stored = h.stored(acted["id"].as_str().unwrap()).await;
    assert_eq!(stored.get("outcome").map(String::as_str), Some("acted"));

    // A later, identical call, through the other envelope: nothing left to do.
    let other_sample = match sample_name.strip_prefix("eventbridge-") {
        Some(rest) => format!("sns-finding-{rest}"),
        None => sample_name.replacen("sns-finding-", "eventbridge-", 1),
    };
    let later_payload = trigger(&other_sample, |record| {
        point(record, target);
        record["eventID"] = json!(format!("{action}-later-0000-4000-8000-000000000000"));
    });
    let later = h.decide(&h.live(action), later_payload).await;
    assert_eq!(kind(&later), "skippedAlreadyCompliant", "{later}");
    assert!(fixed(target).await);
    acted
}

// --- security groups ---------------------------------------------------------

async fn vpc(ec2: &aws_sdk_ec2::Client, cidr: &str) -> String {
    ec2.create_vpc()
        .cidr_block(cidr)
        .send()
        .await
        .unwrap()
        .vpc
        .unwrap()
        .vpc_id
        .unwrap()
}

async fn open_group(
    ec2: &aws_sdk_ec2::Client,
    vpc: &str,
    name: &str,
    tags: &[(&str, &str)],
) -> String {
    let mut create = ec2
        .create_security_group()
        .group_name(name)
        .description("web tier")
        .vpc_id(vpc);
    if !tags.is_empty() {
        let mut spec = TagSpecification::builder().resource_type(ResourceType::SecurityGroup);
        for (k, v) in tags {
            spec = spec.tags(aws_sdk_ec2::types::Tag::builder().key(*k).value(*v).build());
        }
        create = create.tag_specifications(spec.build());
    }
    let id = create.send().await.unwrap().group_id.unwrap();
    let rule = |port: i32| {
        IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(port)
            .to_port(port)
    };
    ec2.authorize_security_group_ingress()
        .group_id(&id)
        .ip_permissions(
            rule(22)
                .ip_ranges(
                    IpRange::builder()
                        .cidr_ip("0.0.0.0/0")
                        .description("temporary ssh")
                        .build(),
                )
                .build(),
        )
        .ip_permissions(
            rule(22)
                .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/8").build())
                .build(),
        )
        .ip_permissions(
            rule(443)
                .ipv6_ranges(Ipv6Range::builder().cidr_ipv6("::/0").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    id
}

fn point_group(record: &mut Value, group_id: &str) {
    record["requestParameters"]["groupId"] = json!(group_id);
    record["responseElements"]["securityGroupRuleSet"]["items"][0]["groupId"] = json!(group_id);
}

#[tokio::test]
async fn security_group_world_ingress_is_revoked_and_nothing_else() {
    let h = Harness::start().await;
    let ec2 = aws_sdk_ec2::Client::new(&h.sdk);
    let vpc = vpc(&ec2, "10.0.0.0/16").await;
    let web = open_group(&ec2, &vpc, "web", &[("team", "web")]).await;
    let tagged = open_group(&ec2, &vpc, "bastion", &[(EXEMPT, "approved in SEC-1234")]).await;
    let world_ssh = "tcp 22-22 0.0.0.0/0".to_owned();
    let fixed = async |id: &str| !ingress_rules(&ec2, id).await.contains(&world_ssh);

    let action = "security-group-open-ingress";
    let acted = matrix(
        &h,
        action,
        "eventbridge-authorize-security-group-ingress.json",
        point_group,
        &web,
        Exemption::Tagged(&tagged),
        fixed,
    )
    .await;

    // Only the private ssh rule survives: with no port allowed (the
    // default) the world-open 443 rule goes as well.
    assert_eq!(
        ingress_rules(&ec2, &web).await,
        vec!["tcp 22-22 10.0.0.0/8".to_owned()]
    );
    // `before` holds full rule definitions, so a person can re-add them.
    let revoked = acted["plan"]["revoke"].as_array().unwrap();
    assert_eq!(revoked.len(), 2, "{acted}");
    let ssh = revoked
        .iter()
        .find(|r| r["cidrIpv4"] == "0.0.0.0/0")
        .unwrap();
    assert_eq!(ssh["protocol"], "tcp");
    assert_eq!(ssh["fromPort"], 22);
    assert_eq!(ssh["description"], "temporary ssh");
    assert!(ssh["ruleId"].as_str().unwrap().starts_with("sgr-"));
    assert_eq!(acted["before"]["ingressRules"].as_array().unwrap().len(), 3);
    assert_eq!(acted["after"]["ingressRules"].as_array().unwrap().len(), 1);
    // The audit id is the documented function of event, action and resource.
    let expected_id = audit_id(
        "security-group-open-ingress-live-0000-4000-8000-000000000000",
        ActionKind::SecurityGroupOpenIngress,
        &ResourceRef::SecurityGroup {
            group_id: web.clone(),
        },
    );
    assert_eq!(acted["id"], json!(expected_id));
    let stored = h.stored(&expected_id).await;
    assert_eq!(stored.get("action").map(String::as_str), Some(action));
    assert!(stored.get("before").unwrap().contains("temporary ssh"));

    // With 443 allowed, a world-open 443 rule survives while ssh goes.
    let allowed = open_group(&ec2, &vpc, "public-web", &[]).await;
    let service = h.service(&[
        ("TRAILGUARD_ENABLED_ACTIONS", action),
        ("TRAILGUARD_DRY_RUN", "false"),
        ("TRAILGUARD_ALLOWED_PORTS", "443"),
    ]);
    let payload = trigger("eventbridge-authorize-security-group-ingress.json", |r| {
        point_group(r, &allowed);
        r["eventID"] = json!("c0ffee00-0000-4000-8000-000000000443");
    });
    assert_eq!(kind(&h.decide(&service, payload).await), "acted");
    assert_eq!(
        ingress_rules(&ec2, &allowed).await,
        vec![
            "tcp 22-22 10.0.0.0/8".to_owned(),
            "tcp 443-443 ::/0".to_owned()
        ]
    );
    h.assert_all_published().await;
}

// --- CloudTrail ----------------------------------------------------------------

async fn stopped_trail(h: &Harness, name: &str, tags: &[(&str, &str)]) -> String {
    let s3 = h_s3(h);
    let bucket = format!("{name}-logs");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&h.sdk);
    let mut create = cloudtrail.create_trail().name(name).s3_bucket_name(&bucket);
    for (k, v) in tags {
        create = create.tags_list(
            aws_sdk_cloudtrail::types::Tag::builder()
                .key(*k)
                .value(*v)
                .build()
                .unwrap(),
        );
    }
    let arn = create.send().await.unwrap().trail_arn.unwrap();
    cloudtrail.start_logging().name(name).send().await.unwrap();
    cloudtrail.stop_logging().name(name).send().await.unwrap();
    arn
}

fn h_s3(h: &Harness) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(&h.sdk)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

#[tokio::test]
async fn stopped_trail_is_restarted() {
    let h = Harness::start().await;
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&h.sdk);
    stopped_trail(&h, "org-trail", &[]).await;
    stopped_trail(&h, "forensics-trail", &[(EXEMPT, "")]).await;
    let fixed = async |name: &str| {
        cloudtrail
            .get_trail_status()
            .name(name)
            .send()
            .await
            .unwrap()
            .is_logging
            == Some(true)
    };
    let acted = matrix(
        &h,
        "cloudtrail-logging",
        "sns-finding-stop-logging.json",
        |record, name| record["requestParameters"]["name"] = json!(name),
        "org-trail",
        Exemption::Tagged("forensics-trail"),
        fixed,
    )
    .await;
    let published = sample("sns-finding-stop-logging.json");
    let finding: Value =
        serde_json::from_str(published["Records"][0]["Sns"]["Message"].as_str().unwrap()).unwrap();
    assert_eq!(
        acted["ruleId"], finding["rule"]["id"],
        "the finding's rule is recorded"
    );
    // The matrix re-published the finding for its own event id.
    let republished = trailguard_engine::findings::finding::finding_id(
        finding["rule"]["id"].as_str().unwrap(),
        acted["triggerEventId"].as_str().unwrap(),
    );
    assert_eq!(
        acted["findingId"],
        json!(republished),
        "and the finding itself"
    );
    assert_eq!(acted["before"]["isLogging"], false);
    assert_eq!(acted["after"]["isLogging"], true);
    assert_eq!(acted["plan"]["region"], "us-east-1");
    h.assert_all_published().await;
}

// --- S3 ------------------------------------------------------------------------

async fn public_bucket(h: &Harness, name: &str, tags: &[(&str, &str)]) {
    let s3 = h_s3(h);
    s3.create_bucket().bucket(name).send().await.unwrap();
    // New buckets get a full block; the attacker removed it.
    s3.delete_public_access_block()
        .bucket(name)
        .send()
        .await
        .unwrap();
    let policy = json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{name}/*")
    }]});
    s3.put_bucket_policy()
        .bucket(name)
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
    if !tags.is_empty() {
        let mut tagging = aws_sdk_s3::types::Tagging::builder();
        for (k, v) in tags {
            tagging = tagging.tag_set(
                aws_sdk_s3::types::Tag::builder()
                    .key(*k)
                    .value(*v)
                    .build()
                    .unwrap(),
            );
        }
        s3.put_bucket_tagging()
            .bucket(name)
            .tagging(tagging.build().unwrap())
            .send()
            .await
            .unwrap();
    }
}

/// The bucket's public access block as four flags, `None` when it has none.
async fn block(s3: &aws_sdk_s3::Client, bucket: &str) -> Option<[bool; 4]> {
    match s3.get_public_access_block().bucket(bucket).send().await {
        Ok(out) => {
            let c = out.public_access_block_configuration.unwrap();
            Some([
                c.block_public_acls.unwrap_or(false),
                c.ignore_public_acls.unwrap_or(false),
                c.block_public_policy.unwrap_or(false),
                c.restrict_public_buckets.unwrap_or(false),
            ])
        }
        Err(e) => {
            let text = aws_sdk_s3::error::DisplayErrorContext(&e).to_string();
            assert!(
                text.contains("NoSuchPublicAccessBlockConfiguration"),
                "{text}"
            );
            None
        }
    }
}

#[tokio::test]
async fn public_bucket_gets_a_full_public_access_block() {
    let h = Harness::start().await;
    let s3 = h_s3(&h);
    public_bucket(&h, "customer-exports", &[]).await;
    public_bucket(&h, "public-website", &[(EXEMPT, "static site")]).await;
    let fixed = async |bucket: &str| block(&s3, bucket).await == Some([true; 4]);
    let acted = matrix(
        &h,
        "s3-public-access",
        "eventbridge-put-bucket-policy.json",
        |record, bucket| record["requestParameters"]["bucketName"] = json!(bucket),
        "customer-exports",
        Exemption::Tagged("public-website"),
        fixed,
    )
    .await;
    // There was no block before: undo is DeletePublicAccessBlock.
    assert_eq!(acted["plan"]["previous"], Value::Null);
    assert_eq!(acted["before"]["policyPublic"], true);
    assert_eq!(block(&s3, "public-website").await, None);

    // A finding about a lowered block on a private bucket: the block is
    // completed, and the partial block it had is kept for undo.
    s3.create_bucket()
        .bucket("private-data")
        .send()
        .await
        .unwrap();
    s3.put_public_access_block()
        .bucket("private-data")
        .public_access_block_configuration(
            aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(false)
                .restrict_public_buckets(false)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let payload = trigger("sns-finding-delete-bucket-public-access-block.json", |r| {
        r["requestParameters"]["bucketName"] = json!("private-data");
    });
    let record = h.decide(&h.live("s3-public-access"), payload).await;
    assert_eq!(kind(&record), "acted", "{record}");
    assert_eq!(record["plan"]["previous"]["blockPublicPolicy"], false);
    assert_eq!(record["plan"]["previous"]["blockPublicAcls"], true);
    assert!(fixed("private-data").await);
    // The same call again later (a new event id, else it is a redelivery).
    let payload = trigger("eventbridge-delete-bucket-public-access-block.json", |r| {
        r["requestParameters"]["bucketName"] = json!("private-data");
        r["eventID"] = json!("1a7e1a7e-0000-4000-8000-000000000000");
    });
    let record = h.decide(&h.live("s3-public-access"), payload).await;
    assert_eq!(kind(&record), "skippedAlreadyCompliant", "{record}");
    h.assert_all_published().await;
}

// --- EBS snapshots -------------------------------------------------------------

async fn public_snapshot(ec2: &aws_sdk_ec2::Client, tags: &[(&str, &str)]) -> String {
    let volume = ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(8)
        .send()
        .await
        .unwrap()
        .volume_id
        .unwrap();
    let mut create = ec2.create_snapshot().volume_id(volume);
    if !tags.is_empty() {
        let mut spec = TagSpecification::builder().resource_type(ResourceType::Snapshot);
        for (k, v) in tags {
            spec = spec.tags(aws_sdk_ec2::types::Tag::builder().key(*k).value(*v).build());
        }
        create = create.tag_specifications(spec.build());
    }
    let id = create.send().await.unwrap().snapshot_id.unwrap();
    ec2.modify_snapshot_attribute()
        .snapshot_id(&id)
        .attribute(SnapshotAttributeName::CreateVolumePermission)
        .operation_type(OperationType::Add)
        .group_names("all")
        .send()
        .await
        .unwrap();
    id
}

async fn snapshot_groups(ec2: &aws_sdk_ec2::Client, id: &str) -> Vec<String> {
    ec2.describe_snapshot_attribute()
        .snapshot_id(id)
        .attribute(SnapshotAttributeName::CreateVolumePermission)
        .send()
        .await
        .unwrap()
        .create_volume_permissions()
        .iter()
        .filter_map(|p| p.group().map(|g| g.as_str().to_owned()))
        .collect()
}

#[tokio::test]
async fn public_snapshot_is_made_private() {
    let h = Harness::start().await;
    let ec2 = aws_sdk_ec2::Client::new(&h.sdk);
    let snapshot = public_snapshot(&ec2, &[("Name", "db-backup")]).await;
    let shared = public_snapshot(&ec2, &[(EXEMPT, "public dataset")]).await;
    assert_eq!(
        snapshot_groups(&ec2, &snapshot).await,
        vec!["all".to_owned()]
    );
    let fixed = async |id: &str| snapshot_groups(&ec2, id).await.is_empty();
    let acted = matrix(
        &h,
        "snapshot-public",
        "sns-finding-modify-snapshot-attribute.json",
        |record, id| record["requestParameters"]["snapshotId"] = json!(id),
        &snapshot,
        Exemption::Tagged(&shared),
        fixed,
    )
    .await;
    // The read-back through DescribeSnapshotAttribute, in the record too.
    assert_eq!(acted["before"]["createVolumeGroups"], json!(["all"]));
    assert_eq!(acted["after"]["createVolumeGroups"], json!([]));
    h.assert_all_published().await;
}

// --- AMIs ----------------------------------------------------------------------

async fn public_image(ec2: &aws_sdk_ec2::Client, name: &str, tags: &[(&str, &str)]) -> String {
    let base = ec2
        .describe_images()
        .owners("amazon")
        .send()
        .await
        .unwrap()
        .images()
        .first()
        .and_then(|i| i.image_id().map(str::to_owned))
        .unwrap();
    let instance = ec2
        .run_instances()
        .image_id(base)
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .unwrap()
        .instances()
        .first()
        .and_then(|i| i.instance_id().map(str::to_owned))
        .unwrap();
    let mut create = ec2.create_image().instance_id(instance).name(name);
    if !tags.is_empty() {
        let mut spec = TagSpecification::builder().resource_type(ResourceType::Image);
        for (k, v) in tags {
            spec = spec.tags(aws_sdk_ec2::types::Tag::builder().key(*k).value(*v).build());
        }
        create = create.tag_specifications(spec.build());
    }
    let id = create.send().await.unwrap().image_id.unwrap();
    ec2.modify_image_attribute()
        .image_id(&id)
        .launch_permission(
            aws_sdk_ec2::types::LaunchPermissionModifications::builder()
                .add(
                    aws_sdk_ec2::types::LaunchPermission::builder()
                        .group(aws_sdk_ec2::types::PermissionGroup::All)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    id
}

async fn launch_groups(ec2: &aws_sdk_ec2::Client, id: &str) -> Vec<String> {
    ec2.describe_image_attribute()
        .image_id(id)
        .attribute(aws_sdk_ec2::types::ImageAttributeName::LaunchPermission)
        .send()
        .await
        .unwrap()
        .launch_permissions()
        .iter()
        .filter_map(|p| p.group().map(|g| g.as_str().to_owned()))
        .collect()
}

#[tokio::test]
async fn public_image_is_made_private() {
    let h = Harness::start().await;
    let ec2 = aws_sdk_ec2::Client::new(&h.sdk);
    let image = public_image(&ec2, "golden-2026-11", &[]).await;
    let marketplace = public_image(&ec2, "community-build", &[(EXEMPT, "published")]).await;
    assert_eq!(launch_groups(&ec2, &image).await, vec!["all".to_owned()]);
    let fixed = async |id: &str| launch_groups(&ec2, id).await.is_empty();
    let acted = matrix(
        &h,
        "image-public",
        "eventbridge-modify-image-attribute.json",
        |record, id| record["requestParameters"]["imageId"] = json!(id),
        &image,
        Exemption::Tagged(&marketplace),
        fixed,
    )
    .await;
    assert_eq!(acted["plan"]["removeGroup"], "all");
    h.assert_all_published().await;
}

// --- KMS -------------------------------------------------------------------------

async fn doomed_key(kms: &aws_sdk_kms::Client, tags: &[(&str, &str)]) -> String {
    let mut create = kms.create_key().description("payments data key");
    for (k, v) in tags {
        create = create.tags(
            aws_sdk_kms::types::Tag::builder()
                .tag_key(*k)
                .tag_value(*v)
                .build()
                .unwrap(),
        );
    }
    let id = create.send().await.unwrap().key_metadata.unwrap().key_id;
    kms.schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    id
}

async fn key_state(kms: &aws_sdk_kms::Client, id: &str) -> String {
    let meta = kms
        .describe_key()
        .key_id(id)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    meta.key_state
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default()
}

fn sqs_wrapped(payload: &Value) -> Value {
    let notification = json!({
        "Type": "Notification",
        "MessageId": "0f9e8d7c-6b5a-4f3e-2d1c-0b9a8f7e6d5c",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:trailguard-findings",
        "Message": payload.to_string(),
        "Timestamp": "2026-11-25T09:19:42.118Z"
    });
    json!({"Records": [{
        "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        "body": notification.to_string(),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1764062382118"},
        "messageAttributes": {},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:trailguard-remediation",
        "awsRegion": "us-east-1"
    }]})
}

#[tokio::test]
async fn scheduled_key_deletion_is_cancelled() {
    let h = Harness::start().await;
    let kms = aws_sdk_kms::Client::new(&h.sdk);
    let key = doomed_key(&kms, &[]).await;
    let retired = doomed_key(&kms, &[(EXEMPT, "retired on purpose")]).await;
    let fixed = async |id: &str| key_state(&kms, id).await != "PendingDeletion";
    let acted = matrix(
        &h,
        "kms-key-deletion",
        "eventbridge-schedule-key-deletion.json",
        |record, id| record["requestParameters"]["keyId"] = json!(id),
        &key,
        Exemption::Tagged(&retired),
        fixed,
    )
    .await;
    // Cancelling leaves the key disabled, as the plan says.
    assert_eq!(key_state(&kms, &key).await, "Disabled");
    assert_eq!(acted["plan"]["resultingState"], "Disabled");
    assert!(
        acted["plan"]["cancelledDeletionDate"].is_string(),
        "{acted}"
    );
    assert_eq!(acted["after"]["keyState"], "Disabled");

    // The same trigger through SQS (an SNS subscription without raw
    // delivery) is refused: the topic in a queued notification was written
    // by whoever sent the message, so only the retry queue is trusted.
    let third = doomed_key(&kms, &[]).await;
    let payload = trigger("eventbridge-schedule-key-deletion.json", |r| {
        r["requestParameters"]["keyId"] = json!(third);
        r["eventID"] = json!("5e5e5e5e-0000-4000-8000-000000000000");
    });
    let record = h
        .decide(&h.live("kms-key-deletion"), sqs_wrapped(&payload))
        .await;
    assert_eq!(kind(&record), "refused", "{record}");
    assert!(
        reason(&record).contains("only from the retry queue"),
        "{record}"
    );
    assert_eq!(key_state(&kms, &third).await, "PendingDeletion");
    h.assert_all_published().await;
}

// --- AWS Config ------------------------------------------------------------------

async fn stopped_recorder(h: &Harness, config: &aws_sdk_config::Client, with_channel: bool) {
    config
        .put_configuration_recorder()
        .configuration_recorder(
            aws_sdk_config::types::ConfigurationRecorder::builder()
                .name("default")
                .role_arn("arn:aws:iam::123456789012:role/aws-config")
                .build(),
        )
        .send()
        .await
        .unwrap();
    if with_channel {
        add_channel(h, config).await;
        config
            .start_configuration_recorder()
            .configuration_recorder_name("default")
            .send()
            .await
            .unwrap();
        config
            .stop_configuration_recorder()
            .configuration_recorder_name("default")
            .send()
            .await
            .unwrap();
    }
}

/// A delivery channel: AWS Config starts no recorder without one.
async fn add_channel(h: &Harness, config: &aws_sdk_config::Client) {
    h_s3(h)
        .create_bucket()
        .bucket("config-history")
        .send()
        .await
        .unwrap();
    config
        .put_delivery_channel()
        .delivery_channel(
            aws_sdk_config::types::DeliveryChannel::builder()
                .name("default")
                .s3_bucket_name("config-history")
                .build(),
        )
        .send()
        .await
        .unwrap();
}

async fn recording(config: &aws_sdk_config::Client, name: &str) -> bool {
    config
        .describe_configuration_recorder_status()
        .configuration_recorder_names(name)
        .send()
        .await
        .unwrap()
        .configuration_recorders_status()
        .first()
        .map(|s| s.recording())
        .unwrap()
}

#[tokio::test]
async fn stopped_config_recorder_is_restarted_and_a_failure_is_retried() {
    let h = Harness::start().await;
    let config = aws_sdk_config::Client::new(&h.sdk);
    let action = "config-recorder";
    let sample_name = "sns-finding-stop-configuration-recorder.json";

    // Without a delivery channel the start fails: audited as failed, the
    // invocation errors, and a redelivery retries once the channel exists.
    stopped_recorder(&h, &config, false).await;
    let payload = trigger(sample_name, |r| {
        r["eventID"] = json!("fa11ed00-0000-4000-8000-000000000000")
    });
    let err = h
        .invoke(&h.live(action), payload.clone())
        .await
        .unwrap_err();
    assert_eq!(err.error_type, "RemediationFailed");
    assert!(
        err.error_message.contains("NoAvailableDeliveryChannel"),
        "{}",
        err.error_message
    );
    let failed = h.all_stored().await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].get("outcome").map(String::as_str), Some("failed"));
    assert!(!recording(&config, "default").await);
    add_channel(&h, &config).await;
    let retried = h.decide(&h.live(action), payload).await;
    assert_eq!(kind(&retried), "acted", "{retried}");
    assert_eq!(
        retried["id"].as_str(),
        failed[0].get("id").map(String::as_str)
    );
    assert!(recording(&config, "default").await);
    config
        .stop_configuration_recorder()
        .configuration_recorder_name("default")
        .send()
        .await
        .unwrap();

    // Recorders carry no tags here, so the account is the exemption.
    matrix(
        &h,
        action,
        sample_name,
        |record, name| record["requestParameters"]["configurationRecorderName"] = json!(name),
        "default",
        Exemption::Account,
        async |name: &str| recording(&config, name).await,
    )
    .await;
    // The failed attempt was published too, then the retry's outcome.
    let published = h.published().await;
    let kinds: Vec<&str> = published
        .iter()
        .map(|m| m["outcome"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"failed"));
    assert_eq!(
        kinds.iter().filter(|k| **k == "acted").count(),
        2,
        "{kinds:?}"
    );
}

// --- IAM access keys -----------------------------------------------------------

async fn user_with_key(iam: &aws_sdk_iam::Client, user: &str, tags: &[(&str, &str)]) -> String {
    let mut create = iam.create_user().user_name(user);
    for (k, v) in tags {
        create = create.tags(
            aws_sdk_iam::types::Tag::builder()
                .key(*k)
                .value(*v)
                .build()
                .unwrap(),
        );
    }
    create.send().await.unwrap();
    let key = iam
        .create_access_key()
        .user_name(user)
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    format!("{user} {}", key.access_key_id)
}

async fn key_status(iam: &aws_sdk_iam::Client, user_and_key: &str) -> String {
    let (user, key) = user_and_key.split_once(' ').unwrap();
    iam.list_access_keys()
        .user_name(user)
        .send()
        .await
        .unwrap()
        .access_key_metadata()
        .iter()
        .find(|k| k.access_key_id() == Some(key))
        .and_then(|k| k.status().map(|s| s.as_str().to_owned()))
        .unwrap()
}

/// Points a `CreateAccessKey` record at a key moto made just now, as the
/// event that created it.
fn point_key(record: &mut Value, user_and_key: &str) {
    let (user, key) = user_and_key.split_once(' ').unwrap();
    record["eventTime"] = json!(rfc3339_utc(
        u64::try_from(trailguard_engine::clock::now()).unwrap_or(0)
    ));
    record["requestParameters"]["userName"] = json!(user);
    record["responseElements"]["accessKey"]["userName"] = json!(user);
    record["responseElements"]["accessKey"]["accessKeyId"] = json!(key);
}

#[tokio::test]
async fn deny_listed_users_new_key_is_deactivated() {
    let h = Harness::start().await;
    let iam = aws_sdk_iam::Client::new(&h.sdk);
    let backup = user_with_key(&iam, "svc-backup", &[]).await;
    let legacy = user_with_key(&iam, "ci-legacy", &[(EXEMPT, "migration until Q1")]).await;
    let alice = user_with_key(&iam, "alice", &[]).await;
    let deny = "svc-backup, ci-legacy";
    let action = "iam-access-key";

    // `all` leaves access keys out: it must be named.
    let all = h.service(&[
        ("TRAILGUARD_ENABLED_ACTIONS", "all"),
        ("TRAILGUARD_DRY_RUN", "false"),
        ("TRAILGUARD_DENY_LISTED_USERS", deny),
    ]);
    let payload = trigger("eventbridge-create-access-key.json", |r| {
        point_key(r, &backup);
        r["eventID"] = json!("a11a11a1-0000-4000-8000-000000000000");
    });
    let record = h.decide(&all, payload).await;
    assert_eq!(kind(&record), "skippedGuard", "{record}");
    assert_eq!(key_status(&iam, &backup).await, "Active");

    // The deny list is configuration; the standard services get it here.
    let with_deny = |extra: &[(&'static str, &'static str)]| {
        let mut vars = vec![("TRAILGUARD_DENY_LISTED_USERS", deny)];
        vars.extend_from_slice(extra);
        h.service(&vars)
    };
    let live = with_deny(&[
        ("TRAILGUARD_ENABLED_ACTIONS", action),
        ("TRAILGUARD_DRY_RUN", "false"),
    ]);

    // A user off the deny list keeps an active key.
    let payload = trigger("sns-finding-create-access-key.json", |r| {
        point_key(r, &alice);
        r["eventID"] = json!("a11ce000-0000-4000-8000-000000000000");
    });
    let record = h.decide(&live, payload).await;
    assert_eq!(kind(&record), "skippedNotApplicable", "{record}");
    assert!(reason(&record).contains("alice"));
    assert_eq!(key_status(&iam, &alice).await, "Active");

    // A root key is reported, not touched.
    let payload = trigger("eventbridge-create-access-key.json", |r| {
        r["eventID"] = json!("2007a000-0000-4000-8000-000000000000");
        r["requestParameters"] = Value::Null;
        r["responseElements"]["accessKey"]["userName"] = Value::Null;
        r["userIdentity"] = json!({"type": "Root", "principalId": ACCOUNT,
            "arn": "arn:aws:iam::123456789012:root", "accountId": ACCOUNT});
    });
    let record = h.decide(&live, payload).await;
    assert_eq!(kind(&record), "skippedNotApplicable", "{record}");
    assert!(reason(&record).contains("root"), "{record}");

    // The standard matrix, with the deny list in every service it makes.
    let matrix_harness = DenyListed { h: &h, deny };
    matrix_harness
        .run(action, &backup, &legacy, async |k: &str| {
            key_status(&iam, k).await == "Inactive"
        })
        .await;
    h.assert_all_published().await;
}

/// The matrix for `iam-access-key`, whose services also need the deny list.
struct DenyListed<'a> {
    h: &'a Harness,
    deny: &'a str,
}

impl DenyListed<'_> {
    async fn run(
        &self,
        action: &str,
        target: &str,
        tagged: &str,
        fixed: impl AsyncFn(&str) -> bool,
    ) {
        let h = self.h;
        let service = |extra: &[(&str, &str)]| {
            let mut vars = vec![("TRAILGUARD_DENY_LISTED_USERS", self.deny)];
            vars.extend_from_slice(extra);
            h.service(&vars)
        };
        let live = service(&[
            ("TRAILGUARD_ENABLED_ACTIONS", action),
            ("TRAILGUARD_DRY_RUN", "false"),
        ]);
        let dry = service(&[("TRAILGUARD_ENABLED_ACTIONS", action)]);
        let event = |id: &str, step: &str, own: bool| {
            trigger("sns-finding-create-access-key.json", |record| {
                point_key(record, id);
                record["eventID"] = json!(format!("{action}-{step}-0000-4000-8000-000000000000"));
                if own {
                    record["userIdentity"]["arn"] = json!(OWN_SESSION);
                }
            })
        };
        let record = h.decide(&dry, event(target, "dry", false)).await;
        assert_eq!(kind(&record), "wouldAct", "{record}");
        assert!(!fixed(target).await);
        let record = h.decide(&live, event(tagged, "tagged", false)).await;
        assert_eq!(kind(&record), "skippedExempt", "{record}");
        assert!(!fixed(tagged).await);
        let record = h.decide(&live, event(target, "own", true)).await;
        assert_eq!(kind(&record), "skippedGuard", "{record}");
        assert!(!fixed(target).await);
        let payload = event(target, "live", false);
        let acted = h.decide(&live, payload.clone()).await;
        assert_eq!(kind(&acted), "acted", "{acted}");
        assert_eq!(acted["plan"]["newStatus"], "Inactive");
        assert!(fixed(target).await);
        let again = h.invoke(&live, payload).await.unwrap();
        assert_eq!(again["redelivered"], json!([acted["id"]]));
        let later = trigger("eventbridge-create-access-key.json", |record| {
            point_key(record, target);
            record["eventID"] = json!(format!("{action}-later-0000-4000-8000-000000000000"));
        });
        let record = h.decide(&live, later).await;
        assert_eq!(kind(&record), "skippedAlreadyCompliant", "{record}");
    }
}

// --- the rate limit ------------------------------------------------------------

#[tokio::test]
async fn rate_limit_trips_after_the_budget_and_dry_runs_do_not_count() {
    let h = Harness::start().await;
    let ec2 = aws_sdk_ec2::Client::new(&h.sdk);
    let vpc = vpc(&ec2, "10.1.0.0/16").await;
    let mut groups = Vec::new();
    for name in ["a", "b", "c", "d"] {
        groups.push(open_group(&ec2, &vpc, name, &[]).await);
    }
    let action = "security-group-open-ingress";
    let limits = [
        ("TRAILGUARD_RATE_MAX_ACTIONS", "2"),
        ("TRAILGUARD_RATE_WINDOW_SECS", ONE_WINDOW),
    ];
    let mut live_vars = vec![
        ("TRAILGUARD_ENABLED_ACTIONS", action),
        ("TRAILGUARD_DRY_RUN", "false"),
    ];
    live_vars.extend(limits);
    let live = h.service(&live_vars);
    let mut dry_vars = vec![("TRAILGUARD_ENABLED_ACTIONS", action)];
    dry_vars.extend(limits);
    let dry = h.service(&dry_vars);
    let event = |group: &str, n: usize| {
        trigger("eventbridge-authorize-security-group-ingress.json", |r| {
            point_group(r, group);
            r["eventID"] = json!(format!("7a7e0000-0000-4000-8000-{n:012}"));
        })
    };

    for (n, group) in groups.iter().enumerate() {
        let record = h.decide(&dry, event(group, 100 + n)).await;
        assert_eq!(kind(&record), "wouldAct", "dry runs never meet the limit");
    }
    let mut kinds = Vec::new();
    for (n, group) in groups.iter().enumerate() {
        let record = h.decide(&live, event(group, n)).await;
        kinds.push(kind(&record).to_owned());
        if kind(&record) == "deferred" {
            assert!(record["outcome"]["untilEpoch"].as_u64().unwrap() >= 10_000_000_000);
            assert!(
                record["plan"].is_object(),
                "the change it would have made is recorded"
            );
        }
    }
    assert_eq!(kinds, ["acted", "acted", "deferred", "deferred"]);
    let world_ssh = "tcp 22-22 0.0.0.0/0".to_owned();
    for (n, group) in groups.iter().enumerate() {
        assert_eq!(
            ingress_rules(&ec2, group).await.contains(&world_ssh),
            n >= 2,
            "{group}"
        );
    }
    // One counter item, holding the two admitted changes.
    let counters = h
        .dynamodb
        .scan()
        .table_name(RATE_TABLE)
        .send()
        .await
        .unwrap();
    let counters: Vec<_> = counters.items().iter().cloned().map(strings).collect();
    assert_eq!(counters.len(), 1, "{counters:?}");
    assert_eq!(
        counters[0].get("pk").map(String::as_str),
        Some("rate#123456789012#0")
    );
    assert_eq!(counters[0].get("count").map(String::as_str), Some("2"));

    // A redelivery in the full window is deferred again, never acted on.
    let again = h.invoke(&live, event(&groups[2], 2)).await.unwrap();
    assert_eq!(
        again["records"][0]["outcome"]["kind"], "deferred",
        "{again}"
    );
    assert!(ingress_rules(&ec2, &groups[2]).await.contains(&world_ssh));
    // Dry runs still describe what they would do.
    assert_eq!(
        kind(&h.decide(&dry, event(&groups[3], 200)).await),
        "wouldAct"
    );
    h.assert_all_published().await;
}

// --- rejected triggers -----------------------------------------------------------

#[tokio::test]
async fn an_sqs_batch_fails_only_its_unreadable_message() {
    let h = Harness::start().await;
    let ec2 = aws_sdk_ec2::Client::new(&h.sdk);
    let vpc = vpc(&ec2, "10.3.0.0/16").await;
    let group = open_group(&ec2, &vpc, "web", &[]).await;
    let rules_before = ingress_rules(&ec2, &group).await;
    let live = h.live("all");

    // Through the delivery pipeline: each message of the retry queue's
    // batch answers for itself. A readable trigger that is no deferred
    // request is refused and audited; a body that is not JSON fails its
    // message alone, audited as rejected, and Lambda retries only it.
    let event = trigger("eventbridge-authorize-security-group-ingress.json", |r| {
        r["requestParameters"]["groupId"] = json!(group);
    });
    let message = |id: &str, body: &str| {
        json!({
            "messageId": id,
            "body": body,
            "eventSource": "aws:sqs",
            "eventSourceARN": h.retry_queue_arn,
            "awsRegion": "us-east-1"
        })
    };
    let batch = json!({"Records": [
        message("m-readable", &event.to_string()),
        message("m-broken", "{oops"),
    ]});
    let response = h
        .invoke(&live, batch)
        .await
        .unwrap_or_else(|d| panic!("{}: {}", d.error_type, d.error_message));
    assert_eq!(
        response["batchItemFailures"],
        json!([{"itemIdentifier": "m-broken"}]),
        "{response}"
    );
    let records = response["records"].as_array().cloned().unwrap_or_default();
    assert_eq!(records.len(), 1, "{response}");
    assert_eq!(kind(&records[0]), "refused", "{response}");

    let stored = h.all_stored().await;
    let outcomes: Vec<&str> = stored
        .iter()
        .filter_map(|r| r.get("outcome").map(String::as_str))
        .collect();
    assert_eq!(outcomes.len(), 2, "{stored:?}");
    assert!(outcomes.contains(&"refused") && outcomes.contains(&"rejected"));
    assert!(
        stored.iter().any(|r| r
            .get("outcomeDetail")
            .is_some_and(|d| d.starts_with("SQS message m-broken: `body` is not JSON"))),
        "{stored:?}"
    );
    assert_eq!(ingress_rules(&ec2, &group).await, rules_before);
}

#[tokio::test]
async fn malformed_trigger_is_rejected_audited_and_changes_nothing() {
    let h = Harness::start().await;
    let ec2 = aws_sdk_ec2::Client::new(&h.sdk);
    let vpc = vpc(&ec2, "10.2.0.0/16").await;
    let group = open_group(&ec2, &vpc, "web", &[]).await;
    let rules_before = ingress_rules(&ec2, &group).await;
    let live = h.live("all");

    let payload = sample("eventbridge-malformed-missing-group-id.json");
    let err = h.invoke(&live, payload).await.unwrap_err();
    assert_eq!(err.error_type, "TriggerRejected");
    assert_eq!(
        err.error_message,
        "trigger rejected: Lambda input: detail.requestParameters.groupId missing"
    );

    // An SNS record whose finding is not JSON names the message.
    let mut sns = sample("sns-finding-authorize-security-group-ingress.json");
    let sns_at = format!(
        "Lambda input > SNS message {}",
        sns["Records"][0]["Sns"]["MessageId"]
            .as_str()
            .unwrap_or_default()
    );
    sns["Records"][0]["Sns"]["Message"] =
        json!("{\"schemaVersion\": \"1.1\", \"rule\": {\"id\": \"cis-security-group-changes\"");
    let err = h.invoke(&live, sns).await.unwrap_err();
    assert!(
        err.error_message.starts_with(&format!(
            "trigger rejected: {sns_at}: `Message` is not JSON"
        )),
        "{}",
        err.error_message
    );

    // A finding whose event names no action's resource type correctly.
    let finding = trigger("sns-finding-authorize-security-group-ingress.json", |r| {
        r["requestParameters"]["groupId"] = json!("launch-wizard-1");
    });
    let err = h.invoke(&live, finding).await.unwrap_err();
    assert!(
        err.error_message.contains(&format!(
            "{sns_at}: rawEvent.requestParameters.groupId invalid"
        )),
        "{}",
        err.error_message
    );

    assert_eq!(
        ingress_rules(&ec2, &group).await,
        rules_before,
        "a rejected trigger changed the group"
    );
    let stored = h.all_stored().await;
    assert_eq!(stored.len(), 3, "{stored:?}");
    assert!(
        stored
            .iter()
            .all(|r| r.get("outcome").map(String::as_str) == Some("rejected"))
    );
    assert!(stored.iter().all(|r| !r.contains_key("action")));
    assert!(
        stored
            .iter()
            .any(|r| r.get("outcomeDetail").map(String::as_str)
                == Some("Lambda input: detail.requestParameters.groupId missing"))
    );
    let published = h.published().await;
    assert_eq!(published.len(), 3);
    assert!(published.iter().all(|m| m["outcome"]["kind"] == "rejected"));
    assert!(
        published
            .iter()
            .any(|m| m["outcome"]["error"]
                == "Lambda input: detail.requestParameters.groupId missing")
    );
}

// --- authentic triggers ------------------------------------------------------------

#[tokio::test]
async fn forged_findings_are_refused_and_audited_and_the_real_one_still_acts() {
    let h = Harness::start().await;
    let ec2 = aws_sdk_ec2::Client::new(&h.sdk);
    let vpc = vpc(&ec2, "10.3.0.0/16").await;
    let group = open_group(&ec2, &vpc, "web", &[]).await;
    let rules_before = ingress_rules(&ec2, &group).await;
    let live = h.live("security-group-open-ingress");
    let finding = |edit: &dyn Fn(&mut Value)| {
        trigger("sns-finding-authorize-security-group-ingress.json", |r| {
            point_group(r, &group);
            r["eventID"] = json!("f0f0f0f0-0000-4000-8000-000000000000");
            edit(r);
        })
    };

    // Published on a topic anyone in the account may publish to.
    let mut other_topic = finding(&|_| {});
    other_topic["Records"][0]["Sns"]["TopicArn"] =
        json!("arn:aws:sns:us-east-1:123456789012:open-to-all");
    let wrong_topic = h.decide(&live, other_topic).await;
    // On the findings topic, but naming another account.
    let foreign = h
        .decide(
            &live,
            finding(&|r| r["recipientAccountId"] = json!("210987654321")),
        )
        .await;
    // A bare finding, invoked directly: no envelope AWS wrote.
    let mut bare: Value = serde_json::from_str(
        finding(&|_| {})["Records"][0]["Sns"]["Message"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    bare["id"] = json!("bare");
    let direct = h.decide(&live, bare).await;
    // An EventBridge event whose envelope names another region.
    let eventbridge = trigger("eventbridge-authorize-security-group-ingress.json", |r| {
        point_group(r, &group);
        r["eventID"] = json!("f0f0f0f0-0000-4000-8000-000000000000");
    });
    let mut elsewhere = eventbridge.clone();
    elsewhere["region"] = json!("eu-west-1");
    let wrong_region = h.decide(&live, elsewhere).await;

    for (record, why) in [
        (&wrong_topic, "not from the findings topic"),
        (&foreign, "names account 210987654321"),
        (&direct, "no envelope"),
        (&wrong_region, "not the region EventBridge delivered it in"),
    ] {
        assert_eq!(kind(record), "refused", "{record}");
        assert!(reason(record).contains(why), "{why}: {record}");
        assert!(record["before"].is_null(), "nothing was read: {record}");
    }
    assert_eq!(ingress_rules(&ec2, &group).await, rules_before);

    // The refusals kept their own ids: the authentic trigger for the same
    // event still acts.
    let acted = h.decide(&live, eventbridge).await;
    assert_eq!(kind(&acted), "acted", "{acted}");
    assert!(
        !ingress_rules(&ec2, &group)
            .await
            .contains(&"tcp 22-22 0.0.0.0/0".to_owned())
    );
    let stored = h.all_stored().await;
    let refused = stored
        .iter()
        .filter(|r| r.get("outcome").map(String::as_str) == Some("refused"))
        .count();
    assert_eq!(refused, 4, "{stored:?}");
    h.assert_all_published().await;
}

#[tokio::test]
async fn a_forged_finding_naming_an_old_key_does_not_deactivate_it() {
    let h = Harness::start().await;
    let iam = aws_sdk_iam::Client::new(&h.sdk);
    let backup = user_with_key(&iam, "svc-backup", &[]).await;
    let live = h.service(&[
        ("TRAILGUARD_ENABLED_ACTIONS", "iam-access-key"),
        ("TRAILGUARD_DRY_RUN", "false"),
        ("TRAILGUARD_DENY_LISTED_USERS", "svc-backup"),
    ]);
    // A finding on the findings topic, naming the workload's key, with the
    // sample's event time: days before the key was made.
    let forged = trigger("sns-finding-create-access-key.json", |r| {
        point_key(r, &backup);
        r["eventTime"] = json!("2026-01-05T09:14:03Z");
        r["eventID"] = json!("01d0a000-0000-4000-8000-000000000000");
    });
    let record = h.decide(&live, forged).await;
    assert_eq!(kind(&record), "skippedNotApplicable", "{record}");
    assert!(reason(&record).contains("older key"), "{record}");
    assert!(record["before"]["createdEpoch"].is_i64(), "{record}");
    assert_eq!(key_status(&iam, &backup).await, "Active");

    // Another user's key under the deny-listed user's name is not found.
    let alice = user_with_key(&iam, "alice", &[]).await;
    let (_, alice_key) = alice.split_once(' ').unwrap();
    let borrowed = trigger("sns-finding-create-access-key.json", |r| {
        point_key(r, &format!("svc-backup {alice_key}"));
        r["eventID"] = json!("01d0a000-0000-4000-8000-000000000001");
    });
    let record = h.decide(&live, borrowed).await;
    assert_eq!(kind(&record), "skippedNotApplicable", "{record}");
    assert_eq!(key_status(&iam, &alice).await, "Active");

    // The key the event created is deactivated.
    let genuine = trigger("sns-finding-create-access-key.json", |r| {
        point_key(r, &backup);
        r["eventID"] = json!("01d0a000-0000-4000-8000-000000000002");
    });
    let record = h.decide(&live, genuine).await;
    assert_eq!(kind(&record), "acted", "{record}");
    assert_eq!(key_status(&iam, &backup).await, "Inactive");
    h.assert_all_published().await;
}

// --- self-granted exemptions ---------------------------------------------------------

#[tokio::test]
async fn a_self_set_exemption_tag_does_not_exempt_and_an_earlier_admin_tag_does() {
    let h = Harness::start().await;
    let ec2 = aws_sdk_ec2::Client::new(&h.sdk);
    let vpc = vpc(&ec2, "10.4.0.0/16").await;
    let exempt = [(EXEMPT, "vendor appliance")];
    let self_tagged = open_group(&ec2, &vpc, "self-tagged", &exempt).await;
    let admin_tagged = open_group(&ec2, &vpc, "admin-tagged", &exempt).await;
    let no_history = open_group(&ec2, &vpc, "no-history", &exempt).await;
    let world_ssh = "tcp 22-22 0.0.0.0/0".to_owned();
    let action = "security-group-open-ingress";
    let vars = [
        ("TRAILGUARD_ENABLED_ACTIONS", action),
        ("TRAILGUARD_DRY_RUN", "false"),
    ];
    let change_at: i64 = 1_795_000_000;
    let event = |group: &str, n: u32| {
        trigger("sns-finding-authorize-security-group-ingress.json", |r| {
            point_group(r, group);
            r["eventID"] = json!(format!("5e1f0000-0000-4000-8000-{n:012}"));
            r["eventTime"] = json!(rfc3339_utc(change_at.unsigned_abs()));
        })
    };
    let changer = "arn:aws:sts::123456789012:assumed-role/Admin/alice";

    // Tagged by the changer (another session of the same role), a few
    // seconds after the change.
    let self_set = h
        .service_without_history(&vars)
        .with_tag_history(Arc::new(FixedHistory(vec![TagChange {
            at_epoch: change_at + 5,
            principal: Some("arn:aws:sts::123456789012:assumed-role/Admin/alice-2".to_owned()),
        }])));
    let record = h.decide(&self_set, event(&self_tagged, 1)).await;
    assert_eq!(kind(&record), "acted", "{record}");
    let note = record["note"].as_str().unwrap_or_default();
    assert!(
        note.contains("not honoured") && note.contains("who made the change"),
        "{record}"
    );
    assert!(!ingress_rules(&ec2, &self_tagged).await.contains(&world_ssh));
    assert!(record["principal"] == changer, "{record}");

    // Tagged a day before the change by an administrator.
    let earlier = h
        .service_without_history(&vars)
        .with_tag_history(Arc::new(FixedHistory(vec![TagChange {
            at_epoch: change_at - 86_400,
            principal: Some(ADMIN.to_owned()),
        }])));
    let record = h.decide(&earlier, event(&admin_tagged, 2)).await;
    assert_eq!(kind(&record), "skippedExempt", "{record}");
    assert!(
        ingress_rules(&ec2, &admin_tagged)
            .await
            .contains(&world_ssh)
    );

    // Nothing in the history (moto's CloudTrail has no LookupEvents): the
    // tag is not honoured.
    let record = h
        .decide(&h.service_without_history(&vars), event(&no_history, 3))
        .await;
    assert_eq!(kind(&record), "acted", "{record}");
    assert!(
        record["note"]
            .as_str()
            .unwrap_or_default()
            .contains("not honoured"),
        "{record}"
    );
    assert!(!ingress_rules(&ec2, &no_history).await.contains(&world_ssh));
    let stored = h.stored(record["id"].as_str().unwrap()).await;
    assert!(
        stored
            .get("note")
            .is_some_and(|n| n.contains("not honoured")),
        "{stored:?}"
    );
    h.assert_all_published().await;
}

// --- a tripped rate limit --------------------------------------------------------------

#[tokio::test]
async fn a_tripped_breaker_alarms_reports_and_runs_the_request_after_the_window() {
    let h = Harness::start().await;
    let ec2 = aws_sdk_ec2::Client::new(&h.sdk);
    let vpc = vpc(&ec2, "10.5.0.0/16").await;
    let mut groups = Vec::new();
    for name in ["first", "second", "third"] {
        groups.push(open_group(&ec2, &vpc, name, &[]).await);
    }
    let findings_tap = h
        .moto
        .queue_on_topic(FINDINGS_TOPIC, "findings-tap", true)
        .await;
    let action = "security-group-open-ingress";
    let live = h.service(&[
        ("TRAILGUARD_ENABLED_ACTIONS", action),
        ("TRAILGUARD_DRY_RUN", "false"),
        ("TRAILGUARD_RATE_MAX_ACTIONS", "1"),
        ("TRAILGUARD_RATE_WINDOW_SECS", "3600"),
    ]);
    let event = |group: &str, n: usize| {
        trigger("eventbridge-authorize-security-group-ingress.json", |r| {
            point_group(r, group);
            r["eventID"] = json!(format!("b4ea0000-0000-4000-8000-{n:012}"));
        })
    };
    let world_ssh = "tcp 22-22 0.0.0.0/0".to_owned();
    // Two seconds before a window ends: the deferral's delay is two seconds.
    let window_end: u64 = 1_800_000_000 / 3600 * 3600 + 3600;
    let now = window_end - 2;
    let decide_at = async |payload: Value, at: u64| {
        let response = live.handle(&payload, at).await.unwrap();
        response["records"][0].clone()
    };

    let first = decide_at(event(&groups[0], 0), now).await;
    assert_eq!(kind(&first), "acted", "{first}");
    let second = decide_at(event(&groups[1], 1), now).await;
    assert_eq!(kind(&second), "deferred", "{second}");
    assert_eq!(second["outcome"]["untilEpoch"], window_end);
    let third = decide_at(event(&groups[2], 2), now).await;
    assert_eq!(kind(&third), "deferred", "{third}");
    assert!(ingress_rules(&ec2, &groups[1]).await.contains(&world_ssh));
    let stored = h.stored(second["id"].as_str().unwrap()).await;
    assert_eq!(stored.get("outcome").map(String::as_str), Some("deferred"));

    // The alarm's metric, one datum per deferral.
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&h.sdk);
    let at = |secs: u64| aws_sdk_cloudwatch::primitives::DateTime::from_secs(secs as i64);
    let stats = cloudwatch
        .get_metric_statistics()
        .namespace("Trailguard")
        .metric_name("RemediationsRateLimited")
        .start_time(at(now - 600))
        .end_time(at(now + 600))
        .period(60)
        .statistics(aws_sdk_cloudwatch::types::Statistic::Sum)
        .send()
        .await
        .unwrap();
    let deferrals: f64 = stats.datapoints().iter().filter_map(|d| d.sum()).sum();
    assert_eq!(deferrals, 2.0, "{stats:?}");
    // One high finding for the window, on the findings topic, which the
    // remediator's subscription never receives (no `remediation` attribute).
    let findings = h.moto.drain_queue(&findings_tap).await;
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(
        findings[0]["rule"]["id"],
        "trailguard-remediation-rate-limit"
    );
    assert_eq!(findings[0]["rule"]["severity"], "high");
    assert_eq!(findings[0]["where"]["account"], ACCOUNT);
    assert!(findings[0].get("remediation").is_none(), "{}", findings[0]);

    // Both deferred requests wait on the retry queue for the window's end.
    let sqs = aws_sdk_sqs::Client::new(&h.sdk);
    let mut messages = Vec::new();
    for _ in 0..5 {
        let received = sqs
            .receive_message()
            .queue_url(&h.retry_queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(2)
            .send()
            .await
            .unwrap();
        messages.extend(received.messages().iter().cloned());
        if messages.len() == 2 {
            break;
        }
    }
    assert_eq!(messages.len(), 2, "{messages:?}");
    let delivery = |body: &str| {
        json!({"Records": [{
            "messageId": "d3f3",
            "body": body,
            "eventSource": "aws:sqs",
            "eventSourceARN": h.retry_queue_arn,
            "awsRegion": "us-east-1"
        }]})
    };
    let body_of = |group: &str| {
        messages
            .iter()
            .filter_map(|m| m.body())
            .find(|b| b.contains(group))
            .unwrap()
            .to_owned()
    };
    let body: Value = serde_json::from_str(&body_of(&groups[1])).unwrap();
    assert_eq!(body["deferrals"], 1);
    assert_eq!(body["untilEpoch"], window_end);

    // A deferred request from any other queue is refused.
    let mut forged = delivery(&body_of(&groups[1]));
    forged["Records"][0]["eventSourceARN"] = json!("arn:aws:sqs:us-east-1:123456789012:other");
    let refused = decide_at(forged, window_end + 1).await;
    assert_eq!(kind(&refused), "refused", "{refused}");
    assert!(ingress_rules(&ec2, &groups[1]).await.contains(&world_ssh));

    // After the window it runs, under its original audit id.
    let ran = decide_at(delivery(&body_of(&groups[1])), window_end + 1).await;
    assert_eq!(kind(&ran), "acted", "{ran}");
    assert_eq!(ran["id"], second["id"]);
    assert!(!ingress_rules(&ec2, &groups[1]).await.contains(&world_ssh));
    // The third finds the new window full: deferred again, and counted.
    let again = decide_at(delivery(&body_of(&groups[2])), window_end + 1).await;
    assert_eq!(kind(&again), "deferred", "{again}");
    assert_eq!(again["outcome"]["untilEpoch"], window_end + 3600);
    assert!(ingress_rules(&ec2, &groups[2]).await.contains(&world_ssh));
    let requeued = sqs
        .receive_message()
        .queue_url(&h.retry_queue_url)
        .send()
        .await
        .unwrap();
    // Delayed by SQS's 15-minute maximum, it is not visible yet.
    assert!(requeued.messages().is_empty(), "{requeued:?}");
    let findings = h.moto.drain_queue(&findings_tap).await;
    assert_eq!(
        findings.len(),
        1,
        "a new window, a new finding: {findings:?}"
    );
}

// --- the samples -------------------------------------------------------------------

#[test]
fn every_sample_maps_to_its_action_in_both_envelopes() {
    let dir = repo_root().join("events/remediator");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json") && !n.contains("malformed"))
        .collect();
    names.sort();
    // Every file by name, so the events check of `make template-lint` sees
    // each one used (a name built with format! would not count).
    let expected = [
        (
            "eventbridge-authorize-security-group-ingress.json",
            "security-group-open-ingress",
        ),
        (
            "sns-finding-authorize-security-group-ingress.json",
            "security-group-open-ingress",
        ),
        ("eventbridge-stop-logging.json", "cloudtrail-logging"),
        ("sns-finding-stop-logging.json", "cloudtrail-logging"),
        ("eventbridge-put-bucket-policy.json", "s3-public-access"),
        ("sns-finding-put-bucket-policy.json", "s3-public-access"),
        (
            "eventbridge-delete-bucket-public-access-block.json",
            "s3-public-access",
        ),
        (
            "sns-finding-delete-bucket-public-access-block.json",
            "s3-public-access",
        ),
        (
            "eventbridge-modify-snapshot-attribute.json",
            "snapshot-public",
        ),
        (
            "sns-finding-modify-snapshot-attribute.json",
            "snapshot-public",
        ),
        ("eventbridge-modify-image-attribute.json", "image-public"),
        ("sns-finding-modify-image-attribute.json", "image-public"),
        ("eventbridge-schedule-key-deletion.json", "kms-key-deletion"),
        ("sns-finding-schedule-key-deletion.json", "kms-key-deletion"),
        (
            "eventbridge-stop-configuration-recorder.json",
            "config-recorder",
        ),
        (
            "sns-finding-stop-configuration-recorder.json",
            "config-recorder",
        ),
        ("eventbridge-create-access-key.json", "iam-access-key"),
        ("sns-finding-create-access-key.json", "iam-access-key"),
    ];
    let mut listed: Vec<&str> = expected.iter().map(|(name, _)| *name).collect();
    listed.sort_unstable();
    assert_eq!(names, listed, "every trigger sample needs a row here");
    for (name, action) in expected {
        let requests = trailguard_engine::remediation::requests_from_trigger(&sample(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(requests.len(), 1, "{name}");
        assert_eq!(requests[0].action.name(), action, "{name}");
        assert_eq!(requests[0].account, ACCOUNT, "{name}");
    }
}
