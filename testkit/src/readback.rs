//! Reading effects back from moto: CloudWatch datapoints, security-group
//! rules, queue ARNs. One definition each, for every test that checks them.

use std::collections::BTreeSet;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Metric, MetricDataQuery, MetricStat};
use aws_sdk_ec2::types::Filter;
use aws_sdk_sqs::types::QueueAttributeName;

/// The metric names of `namespace` (ListMetrics may name a metric once per
/// stored datapoint, hence a set).
pub async fn metric_names(cw: &aws_sdk_cloudwatch::Client, namespace: &str) -> BTreeSet<String> {
    cw.list_metrics()
        .namespace(namespace)
        .send()
        .await
        .expect("ListMetrics")
        .metrics()
        .iter()
        .filter_map(|m| m.metric_name().map(str::to_owned))
        .collect()
}

/// The per-minute sums of metric `name` of `namespace` from `start` to
/// `end` (epoch seconds; whole minutes keep each 60 s period one minute):
/// `(minute, sum)` pairs.
pub async fn metric_minutes(
    cw: &aws_sdk_cloudwatch::Client,
    namespace: &str,
    name: &str,
    start: i64,
    end: i64,
) -> Vec<(i64, f64)> {
    let query = MetricDataQuery::builder()
        .id("m")
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace(namespace)
                        .metric_name(name)
                        .build(),
                )
                .period(60)
                .stat("Sum")
                .build(),
        )
        .build();
    let data = cw
        .get_metric_data()
        .metric_data_queries(query)
        .start_time(DateTime::from_secs(start))
        .end_time(DateTime::from_secs(end))
        .send()
        .await
        .expect("GetMetricData");
    data.metric_data_results()
        .iter()
        .flat_map(|r| {
            r.timestamps()
                .iter()
                .map(DateTime::secs)
                .zip(r.values().iter().copied())
        })
        .collect()
}

/// The group's ingress rules as `protocol from-to source`, sorted.
pub async fn ingress_rules(ec2: &aws_sdk_ec2::Client, group_id: &str) -> Vec<String> {
    let rules = ec2
        .describe_security_group_rules()
        .filters(Filter::builder().name("group-id").values(group_id).build())
        .send()
        .await
        .expect("DescribeSecurityGroupRules");
    let mut rules: Vec<String> = rules
        .security_group_rules()
        .iter()
        .filter(|r| r.is_egress() == Some(false))
        .map(|r| {
            format!(
                "{} {}-{} {}",
                r.ip_protocol().unwrap_or_default(),
                r.from_port().unwrap_or_default(),
                r.to_port().unwrap_or_default(),
                r.cidr_ipv4().or(r.cidr_ipv6()).unwrap_or_default()
            )
        })
        .collect();
    rules.sort();
    rules
}

/// The ARN of the queue at `url`.
pub async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> String {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .expect("queue ARN")
}
