//! Builds in moto what a [`Routing`] declares, through the AWS APIs, and
//! checks moto names every resource as the template's ARNs expect.
//!
//! What moto cannot run (Lambda functions) is replaced by a tap: an SQS
//! queue subscribed with the function's own subscription attributes (filter
//! policy included), or set as the rule's target with the function's own
//! dead-letter configuration. What the tap receives is what the function
//! would have been invoked with.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use aws_sdk_s3::types::{
    BucketVersioningStatus, Event, FilterRule, FilterRuleName, NotificationConfiguration,
    NotificationConfigurationFilter, S3KeyFilter, TopicConfiguration, VersioningConfiguration,
};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::Value;
use testkit::queue_arn;

use crate::routing::{Routing, Table};

/// A queue standing in for a function moto cannot invoke.
#[derive(Debug, Clone)]
pub struct Tap {
    /// Logical id of the subscription or rule it replaces the function on.
    pub route: String,
    /// Logical id of the function.
    pub function: String,
    /// The tap queue's URL.
    pub queue_url: String,
    /// The subscription's ARN (SNS taps), for the Lambda event.
    pub subscription_arn: Option<String>,
    /// Whether it taps a scheduled rule, which moto fires on its own clock.
    pub scheduled: bool,
}

/// What was created: queue URLs by ARN, and the taps.
#[derive(Debug, Default)]
pub struct Deployed {
    /// Queue URL by queue ARN.
    pub queue_urls: BTreeMap<String, String>,
    /// Taps on SNS subscriptions of functions.
    pub subscription_taps: Vec<Tap>,
    /// Taps on EventBridge rule targets that are functions.
    pub rule_taps: Vec<Tap>,
}

impl Deployed {
    /// The URL of the queue with ARN `arn`.
    ///
    /// # Panics
    /// When the stack has no such queue.
    pub fn queue_url(&self, arn: &str) -> &str {
        self.queue_urls
            .get(arn)
            .unwrap_or_else(|| panic!("no queue {arn} in the stack"))
    }
}

/// Creates every routed resource of `routing` with the credentials of `sdk`.
///
/// # Panics
/// On any failed call, or when moto's ARN for a resource is not the one
/// the template's references resolved to.
pub async fn deploy(routing: &Routing, sdk: &SdkConfig) -> Deployed {
    let mut deployed = Deployed::default();
    topics(routing, sdk).await;
    queues(routing, sdk, &mut deployed).await;
    for table in &routing.tables {
        create_table(table, sdk).await;
    }
    buckets(routing, sdk).await;
    subscriptions(routing, sdk, &mut deployed).await;
    rules(routing, sdk, &mut deployed).await;
    trails(routing, sdk).await;
    deployed
}

async fn topics(routing: &Routing, sdk: &SdkConfig) {
    let sns = aws_sdk_sns::Client::new(sdk);
    for topic in &routing.topics {
        let arn = sns
            .create_topic()
            .name(&topic.name)
            .send()
            .await
            .expect("CreateTopic")
            .topic_arn
            .unwrap_or_default();
        assert_eq!(arn, topic.arn, "topic {}", topic.id);
    }
}

async fn queues(routing: &Routing, sdk: &SdkConfig, deployed: &mut Deployed) {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    for queue in &routing.queues {
        let url = sqs
            .create_queue()
            .queue_name(&queue.name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateQueue {}: {e:?}", queue.id))
            .queue_url
            .unwrap_or_default();
        assert_eq!(queue_arn(&sqs, &url).await, queue.arn, "queue {}", queue.id);
        deployed.queue_urls.insert(queue.arn.clone(), url);
    }
    // Attributes once every queue exists: a redrive policy names another queue.
    for queue in &routing.queues {
        let mut set = sqs
            .set_queue_attributes()
            .queue_url(deployed.queue_url(&queue.arn));
        for (name, value) in &queue.attributes {
            set = set.attributes(QueueAttributeName::from(name.as_str()), value);
        }
        set.send()
            .await
            .unwrap_or_else(|e| panic!("SetQueueAttributes {}: {e:?}", queue.id));
    }
}

fn text<'a>(value: &'a Value, member: &str) -> &'a str {
    value[member]
        .as_str()
        .unwrap_or_else(|| panic!("no `{member}` in {value}"))
}

fn key_schema(keys: &[Value]) -> Vec<KeySchemaElement> {
    keys.iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(text(k, "AttributeName"))
                .key_type(KeyType::from(text(k, "KeyType")))
                .build()
                .expect("key schema element")
        })
        .collect()
}

async fn create_table(table: &Table, sdk: &SdkConfig) {
    let mut create = aws_sdk_dynamodb::Client::new(sdk)
        .create_table()
        .table_name(&table.name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema(&table.key_schema)));
    for attribute in &table.attribute_definitions {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(text(attribute, "AttributeName"))
                .attribute_type(ScalarAttributeType::from(text(attribute, "AttributeType")))
                .build()
                .expect("attribute definition"),
        );
    }
    for index in &table.global_secondary_indexes {
        let keys = index["KeySchema"].as_array().cloned().unwrap_or_default();
        create = create.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(text(index, "IndexName"))
                .set_key_schema(Some(key_schema(&keys)))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(text(
                            &index["Projection"],
                            "ProjectionType",
                        )))
                        .build(),
                )
                .build()
                .expect("global secondary index"),
        );
    }
    let arn = create
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateTable {}: {e:?}", table.id))
        .table_description
        .and_then(|d| d.table_arn)
        .unwrap_or_default();
    assert_eq!(arn, table.arn, "table {}", table.id);
}

async fn buckets(routing: &Routing, sdk: &SdkConfig) {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build(),
    );
    for bucket in &routing.buckets {
        s3.create_bucket()
            .bucket(&bucket.name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateBucket {}: {e:?}", bucket.id));
        if bucket.versioning {
            s3.put_bucket_versioning()
                .bucket(&bucket.name)
                .versioning_configuration(
                    VersioningConfiguration::builder()
                        .status(BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send()
                .await
                .expect("PutBucketVersioning");
        }
        let mut config = NotificationConfiguration::builder();
        for n in &bucket.topic_notifications {
            let rules = n.filter_rules.iter().map(|r| {
                FilterRule::builder()
                    .name(FilterRuleName::from(r.name.as_str()))
                    .value(&r.value)
                    .build()
            });
            let filter = NotificationConfigurationFilter::builder()
                .key(
                    S3KeyFilter::builder()
                        .set_filter_rules(Some(rules.collect()))
                        .build(),
                )
                .build();
            config = config.topic_configurations(
                TopicConfiguration::builder()
                    .topic_arn(&n.topic_arn)
                    .set_events(Some(
                        n.events.iter().map(|e| Event::from(e.as_str())).collect(),
                    ))
                    .filter(filter)
                    .build()
                    .expect("topic configuration"),
            );
        }
        s3.put_bucket_notification_configuration()
            .bucket(&bucket.name)
            .notification_configuration(config.build())
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutBucketNotificationConfiguration {}: {e:?}", bucket.id));
    }
}

async fn subscriptions(routing: &Routing, sdk: &SdkConfig, deployed: &mut Deployed) {
    let sns = aws_sdk_sns::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    for sub in &routing.subscriptions {
        let (endpoint, tap) = match (sub.protocol.as_str(), &sub.function) {
            ("sqs", _) => (sub.endpoint.clone(), None),
            ("lambda", Some(function)) => {
                let url = tap_queue(&sqs, &sub.id).await;
                (queue_arn(&sqs, &url).await, Some((function.clone(), url)))
            }
            (protocol, _) => panic!("subscription {}: protocol {protocol} not routed", sub.id),
        };
        let mut subscribe = sns
            .subscribe()
            .topic_arn(&sub.topic_arn)
            .protocol("sqs")
            .endpoint(endpoint)
            .return_subscription_arn(true);
        for (name, value) in &sub.attributes {
            subscribe = subscribe.attributes(name, value);
        }
        let arn = subscribe
            .send()
            .await
            .unwrap_or_else(|e| panic!("Subscribe {}: {e:?}", sub.id))
            .subscription_arn;
        if let Some((function, queue_url)) = tap {
            deployed.subscription_taps.push(Tap {
                route: sub.id.clone(),
                function,
                queue_url,
                subscription_arn: arn,
                scheduled: false,
            });
        }
    }
}

async fn tap_queue(sqs: &aws_sdk_sqs::Client, route: &str) -> String {
    sqs.create_queue()
        .queue_name(format!("{route}-tap"))
        .send()
        .await
        .expect("CreateQueue (tap)")
        .queue_url
        .unwrap_or_default()
}

async fn rules(routing: &Routing, sdk: &SdkConfig, deployed: &mut Deployed) {
    use aws_sdk_eventbridge::types::{DeadLetterConfig, Target};
    let events = aws_sdk_eventbridge::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    for rule in &routing.rules {
        events
            .put_rule()
            .name(&rule.name)
            .set_event_pattern(rule.event_pattern.clone())
            .set_schedule_expression(rule.schedule_expression.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutRule {}: {e:?}", rule.id));
        for target in &rule.targets {
            let Some(function) = &target.function else {
                panic!("rule {}: target {} is not a function", rule.id, target.id);
            };
            let url = tap_queue(&sqs, &rule.id).await;
            let dead_letter = target
                .dead_letter_arn
                .as_ref()
                .map(|arn| DeadLetterConfig::builder().arn(arn).build());
            events
                .put_targets()
                .rule(&rule.name)
                .targets(
                    Target::builder()
                        .id(&target.id)
                        .arn(queue_arn(&sqs, &url).await)
                        .set_dead_letter_config(dead_letter)
                        .build()
                        .expect("target"),
                )
                .send()
                .await
                .unwrap_or_else(|e| panic!("PutTargets {}: {e:?}", rule.id));
            deployed.rule_taps.push(Tap {
                route: rule.id.clone(),
                function: function.clone(),
                queue_url: url,
                subscription_arn: None,
                scheduled: rule.schedule_expression.is_some(),
            });
        }
    }
}

async fn trails(routing: &Routing, sdk: &SdkConfig) {
    let cloudtrail = aws_sdk_cloudtrail::Client::new(sdk);
    for trail in &routing.trails {
        let arn = cloudtrail
            .create_trail()
            .name(&trail.name)
            .s3_bucket_name(&trail.bucket)
            .is_multi_region_trail(trail.multi_region)
            .enable_log_file_validation(trail.log_file_validation)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateTrail {}: {e:?}", trail.name))
            .trail_arn
            .unwrap_or_default();
        assert_eq!(arn, trail.arn, "trail {}", trail.name);
        if trail.is_logging {
            cloudtrail
                .start_logging()
                .name(&trail.name)
                .send()
                .await
                .expect("StartLogging");
        }
    }
}
