//! Shared by the fuzz targets: CloudTrail records to evaluate rules against.

/// A few CloudTrail records covering the fields rules read most: the
/// typed members, `userIdentity`, arrays under `requestParameters`, errors
/// and numbers.
pub const RECORDS: [&str; 4] = [
    r#"{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"218007301253","arn":"arn:aws:iam::218007301253:root","accountId":"218007301253"},"eventTime":"2023-07-10T12:05:11Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"Mozilla/5.0","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},"eventID":"0b1c2d3e","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"218007301253"}"#,
    r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::218007301253:user/alice","accountId":"218007301253","userName":"alice","sessionContext":{"attributes":{"mfaAuthenticated":"false","creationDate":"2023-07-10T11:00:00Z"}}},"eventTime":"2023-07-10T12:06:00Z","eventSource":"ec2.amazonaws.com","eventName":"AuthorizeSecurityGroupIngress","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","userAgent":"aws-cli/2.13","requestParameters":{"groupId":"sg-0123","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]}}]}},"responseElements":{"_return":true},"eventID":"1c2d3e4f","readOnly":false,"eventType":"AwsApiCall","recipientAccountId":"218007301253"}"#,
    r#"{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::218007301253:assumed-role/ops/bob","accountId":"218007301253","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::218007301253:role/ops","userName":"ops"}}},"eventTime":"2023-07-10T12:07:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"eu-west-1","sourceIPAddress":"cloudtrail.amazonaws.com","errorCode":"AccessDenied","errorMessage":"User is not authorized","requestParameters":{"name":"trail"},"responseElements":null,"eventID":"2d3e4f50","eventType":"AwsApiCall","recipientAccountId":"218007301253"}"#,
    r#"{"eventVersion":"1.08","userIdentity":{"type":"AWSService","invokedBy":"s3.amazonaws.com"},"eventTime":"2023-07-10T12:08:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"s3.amazonaws.com","requestParameters":{"bucketName":"logs","key":"a b.txt","x-amz-expected-bucket-owner":123456789012},"additionalEventData":{"bytesTransferredOut":50.5},"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::logs/a b.txt"}],"eventID":"3e4f5061","readOnly":true,"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"218007301253"}"#,
];

/// Splits fuzz input at a `#record` line: the text to load or parse
/// before it, a JSON record to evaluate after it (when there is one).
pub fn split_record(text: &str) -> (&str, Option<&str>) {
    match text.split_once("\n#record\n") {
        Some((head, record)) => (head, Some(record)),
        None => (text, None),
    }
}
