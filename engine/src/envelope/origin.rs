//! The envelope AWS wrote around a payload: the only facts about where a
//! payload came from that whoever wrote the payload cannot choose.

/// What AWS wrote around a payload, outermost envelope first: a topic ARN
/// inside a queued SNS notification, or the `account` of an EventBridge
/// event inside an SNS message, was written by whoever sent it, so only
/// the outermost envelope counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The payload was the Lambda input itself, with no envelope (a direct
    /// invocation).
    Direct,
    /// A direct EventBridge event: the `account` and `region` EventBridge wrote.
    EventBridge {
        /// `account`.
        account: Option<String>,
        /// `region`.
        region: Option<String>,
    },
    /// A Lambda SNS record: the `TopicArn` SNS wrote.
    Sns {
        /// `Sns.TopicArn`.
        topic_arn: Option<String>,
    },
    /// A Lambda SQS record: the queue Lambda read it from.
    Sqs {
        /// `eventSourceARN`.
        queue_arn: Option<String>,
    },
}
