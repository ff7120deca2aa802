use super::*;
use serde_json::json;

/// The `userIdentity` of an IAM user calling with long-term keys.
fn iam_user() -> Value {
    json!({
        "type": "IAMUser",
        "principalId": "AIDACKCEVSQ6C2EXAMPLE",
        "arn": "arn:aws:iam::111122223333:user/Alice",
        "accountId": "111122223333",
        "accessKeyId": "AKIAI44QH8DHBEXAMPLE",
        "userName": "Alice"
    })
}

/// A management-event record around the given call, shaped like the
/// records CloudTrail delivers.
fn record(source: &str, name: &str, params: Value, response: Value) -> Value {
    json!({
        "eventVersion": "1.09",
        "userIdentity": iam_user(),
        "eventTime": "2024-05-02T09:14:03Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "198.51.100.23",
        "userAgent": "aws-cli/2.15.30 Python/3.11.8 Linux/6.1",
        "requestParameters": params,
        "responseElements": response,
        "requestID": "9f1c2d4e-8a6b-4c1d-9e2f-3a4b5c6d7e8f",
        "eventID": "6c1f0c2e-2b8e-4d0f-a1c3-5e7f9b2d4a60",
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "111122223333",
        "eventCategory": "Management"
    })
}

pub(crate) fn authorize_ingress() -> Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROA3GU5SOU7SMTVU2WWV:deploy",
            "arn": "arn:aws:sts::111122223333:assumed-role/Deployer/deploy",
            "accountId": "111122223333",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROA3GU5SOU7SMTVU2WWV",
                    "arn": "arn:aws:iam::111122223333:role/Deployer",
                    "accountId": "111122223333",
                    "userName": "Deployer"
                }
            }
        },
        "eventTime": "2024-05-02T09:14:03Z",
        "eventSource": "ec2.amazonaws.com",
        "eventName": "AuthorizeSecurityGroupIngress",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.23",
        "userAgent": "console.ec2.amazonaws.com",
        "requestParameters": {
            "groupId": "sg-0632fa4ee8a8468a4",
            "ipPermissions": {"items": [{
                "ipProtocol": "tcp",
                "fromPort": 22,
                "toPort": 22,
                "groups": {},
                "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]},
                "ipv6Ranges": {"items": [{"cidrIpv6": "::/0"}]},
                "prefixListIds": {}
            }]}
        },
        "responseElements": {
            "requestId": "1007f69c-2ccf-4240-a0ed-0d15ea353e94",
            "_return": true,
            "securityGroupRuleSet": {"items": [
                {
                    "groupOwnerId": "111122223333",
                    "groupId": "sg-0632fa4ee8a8468a4",
                    "securityGroupRuleId": "sgr-09be5c962afdc06ed",
                    "isEgress": false,
                    "ipProtocol": "tcp",
                    "fromPort": 22,
                    "toPort": 22,
                    "cidrIpv4": "0.0.0.0/0"
                },
                {
                    "groupOwnerId": "111122223333",
                    "groupId": "sg-0632fa4ee8a8468a4",
                    "securityGroupRuleId": "sgr-0a1b2c3d4e5f60718",
                    "isEgress": false,
                    "ipProtocol": "tcp",
                    "fromPort": 22,
                    "toPort": 22,
                    "cidrIpv6": "::/0"
                }
            ]}
        },
        "requestID": "1007f69c-2ccf-4240-a0ed-0d15ea353e94",
        "eventID": "2aae5c69-4eaf-490d-b022-fd622c12a717",
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "111122223333",
        "eventCategory": "Management"
    })
}

fn one(event: &Value) -> RemediationRequest {
    let mut requests = match requests_from_cloudtrail(event, TriggerSource::EventBridge) {
        Ok(requests) => requests,
        Err(e) => panic!("mapping failed: {e}"),
    };
    assert_eq!(requests.len(), 1, "expected one request from {event}");
    requests.remove(0)
}

fn error_text(result: Result<Vec<RemediationRequest>, RequestError>) -> String {
    match result {
        Ok(requests) => panic!("expected an error, got {requests:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn authorize_ingress_maps_to_its_group() {
    let req = one(&authorize_ingress());
    assert_eq!(req.action, ActionKind::SecurityGroupOpenIngress);
    assert_eq!(
        req.resource,
        ResourceRef::SecurityGroup {
            group_id: "sg-0632fa4ee8a8468a4".into()
        }
    );
    assert_eq!(req.trigger_event_id, "2aae5c69-4eaf-490d-b022-fd622c12a717");
    assert_eq!(
        req.principal_arn.as_deref(),
        Some("arn:aws:sts::111122223333:assumed-role/Deployer/deploy")
    );
    assert_eq!(req.account, "111122223333");
    assert_eq!(req.region, "us-east-1");
    assert_eq!(req.error_code, None);
    assert_eq!(req.event_name, "AuthorizeSecurityGroupIngress");
}

#[test]
fn authorize_ingress_by_group_name_takes_the_id_from_the_response() {
    let mut event = authorize_ingress();
    event["requestParameters"] = json!({
        "groupName": "launch-wizard-1",
        "ipPermissions": {"items": [{"ipProtocol": "-1", "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}
    });
    let req = one(&event);
    assert_eq!(
        req.resource,
        ResourceRef::SecurityGroup {
            group_id: "sg-0632fa4ee8a8468a4".into()
        }
    );
}

#[test]
fn failed_authorize_ingress_still_maps_with_its_error_code() {
    let mut event = authorize_ingress();
    event["errorCode"] = json!("Client.UnauthorizedOperation");
    event["errorMessage"] = json!("You are not authorized to perform this operation.");
    event["responseElements"] = Value::Null;
    let req = one(&event);
    assert_eq!(
        req.error_code.as_deref(),
        Some("Client.UnauthorizedOperation")
    );
}

#[test]
fn stop_logging_accepts_a_name_or_an_arn() {
    let by_name = record(
        "cloudtrail.amazonaws.com",
        "StopLogging",
        json!({"name": "management-events"}),
        Value::Null,
    );
    assert_eq!(
        one(&by_name).resource,
        ResourceRef::Trail {
            name: "management-events".into(),
            arn: None
        }
    );
    let arn = "arn:aws:cloudtrail:us-east-1:111122223333:trail/org-trail";
    let by_arn = record(
        "cloudtrail.amazonaws.com",
        "StopLogging",
        json!({ "name": arn }),
        Value::Null,
    );
    let req = one(&by_arn);
    assert_eq!(
        req.resource,
        ResourceRef::Trail {
            name: "org-trail".into(),
            arn: Some(arn.into())
        }
    );
    assert_eq!(req.resource.to_string(), format!("trail/{arn}"));
}

#[test]
fn stop_logging_with_a_malformed_arn_names_the_field() {
    let event = record(
        "cloudtrail.amazonaws.com",
        "StopLogging",
        json!({"name": "arn:aws:s3:::not-a-trail"}),
        Value::Null,
    );
    let text = error_text(requests_from_cloudtrail(&event, TriggerSource::EventBridge));
    assert!(text.starts_with("requestParameters.name invalid"), "{text}");
}

#[test]
fn failed_stop_logging_keeps_the_error_code() {
    // As recorded when the trail named does not exist.
    let mut event = record(
        "cloudtrail.amazonaws.com",
        "StopLogging",
        json!({"name": "stratus-red-team-ct-stop-trail-qzbgnfqisx"}),
        Value::Null,
    );
    event["errorCode"] = json!("TrailNotFoundException");
    event["errorMessage"] = json!(
        "Unknown trail: arn:aws:cloudtrail:eu-west-1:111122223333:trail/stratus-red-team-ct-stop-trail-qzbgnfqisx for the user: 111122223333"
    );
    let req = one(&event);
    assert_eq!(req.error_code.as_deref(), Some("TrailNotFoundException"));
    assert_eq!(req.action, ActionKind::CloudtrailLogging);
}

#[test]
fn every_bucket_event_maps_to_the_bucket() {
    let policy = json!({
        "bucketName": "customer-exports",
        "bucketPolicy": {"Version": "2012-10-17", "Statement": [{
            "Sid": "Public", "Effect": "Allow", "Principal": "*",
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::customer-exports/*"
        }]},
        "policy": [""],
        "Host": ["customer-exports.s3.eu-west-1.amazonaws.com"]
    });
    let acl = json!({
        "bucketName": "customer-exports",
        "acl": [""],
        "AccessControlPolicy": {"AccessControlList": {"Grant": [{
            "Grantee": {"xsi:type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
            "Permission": "READ"
        }]}},
        "Host": ["customer-exports.s3.eu-west-1.amazonaws.com"]
    });
    let block = json!({
        "publicAccessBlock": [""],
        "PublicAccessBlockConfiguration": {
            "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
            "RestrictPublicBuckets": false,
            "BlockPublicPolicy": false,
            "BlockPublicAcls": false,
            "IgnorePublicAcls": false
        },
        "bucketName": "customer-exports",
        "Host": ["customer-exports.s3.eu-west-1.amazonaws.com"]
    });
    let delete = json!({
        "publicAccessBlock": [""],
        "bucketName": "customer-exports",
        "Host": ["customer-exports.s3.eu-west-1.amazonaws.com"]
    });
    let cases = [
        ("PutBucketPolicy", policy),
        ("PutBucketAcl", acl),
        ("PutBucketPublicAccessBlock", block),
        ("DeleteBucketPublicAccessBlock", delete.clone()),
        ("DeletePublicAccessBlock", delete),
    ];
    for (name, params) in cases {
        let req = one(&record("s3.amazonaws.com", name, params, Value::Null));
        assert_eq!(req.action, ActionKind::S3PublicAccess, "{name}");
        assert_eq!(
            req.resource,
            ResourceRef::Bucket {
                name: "customer-exports".into()
            },
            "{name}"
        );
        assert_eq!(req.event_name, name);
    }
}

#[test]
fn public_snapshot_share_maps_but_account_share_does_not() {
    let public = record(
        "ec2.amazonaws.com",
        "ModifySnapshotAttribute",
        json!({
            "snapshotId": "snap-01b3f7d87a02559a1",
            "attributeType": "CREATE_VOLUME_PERMISSION",
            "createVolumePermission": {"add": {"items": [{"group": "all"}]}}
        }),
        json!({"requestId": "4c2d0c51-0bd4-4d5e-8a39-2a4bd4f0f1f1", "_return": true}),
    );
    assert_eq!(
        one(&public).resource,
        ResourceRef::Snapshot {
            snapshot_id: "snap-01b3f7d87a02559a1".into()
        }
    );
    let to_account = record(
        "ec2.amazonaws.com",
        "ModifySnapshotAttribute",
        json!({
            "snapshotId": "snap-01b3f7d87a02559a1",
            "attributeType": "CREATE_VOLUME_PERMISSION",
            "createVolumePermission": {"add": {"items": [{"userId": "444455556666"}]}}
        }),
        json!({"_return": true}),
    );
    let none = requests_from_cloudtrail(&to_account, TriggerSource::EventBridge);
    assert!(matches!(none, Ok(ref v) if v.is_empty()), "{none:?}");
    let removal = record(
        "ec2.amazonaws.com",
        "ModifySnapshotAttribute",
        json!({
            "snapshotId": "snap-01b3f7d87a02559a1",
            "createVolumePermission": {"remove": {"items": [{"group": "all"}]}}
        }),
        json!({"_return": true}),
    );
    let none = requests_from_cloudtrail(&removal, TriggerSource::EventBridge);
    assert!(matches!(none, Ok(ref v) if v.is_empty()), "{none:?}");
}

#[test]
fn public_image_share_maps_to_the_image() {
    let event = record(
        "ec2.amazonaws.com",
        "ModifyImageAttribute",
        json!({
            "attributeType": "launchPermission",
            "imageId": "ami-011213ff2fc95b6f6",
            "launchPermission": {"add": {"items": [{"group": "all"}]}}
        }),
        json!({"_return": true, "requestId": "d8f7f205-d93a-4bee-8f0e-6ba3dd524502"}),
    );
    let req = one(&event);
    assert_eq!(req.action, ActionKind::ImagePublic);
    assert_eq!(
        req.resource,
        ResourceRef::Image {
            image_id: "ami-011213ff2fc95b6f6".into()
        }
    );
}

#[test]
fn public_image_share_without_an_image_id_names_the_field() {
    let event = record(
        "ec2.amazonaws.com",
        "ModifyImageAttribute",
        json!({"launchPermission": {"add": {"items": [{"group": "all"}]}}}),
        Value::Null,
    );
    let text = error_text(requests_from_cloudtrail(&event, TriggerSource::EventBridge));
    assert_eq!(text, "requestParameters.imageId missing");
}

#[test]
fn schedule_key_deletion_maps_to_the_key() {
    let event = record(
        "kms.amazonaws.com",
        "ScheduleKeyDeletion",
        json!({"pendingWindowInDays": 7, "keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}),
        json!({
            "keyId": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "keyState": "PendingDeletion",
            "deletionDate": "May 9, 2024, 9:14:03 AM"
        }),
    );
    assert_eq!(
        one(&event).resource,
        ResourceRef::KmsKey {
            key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into()
        }
    );
}

#[test]
fn stop_configuration_recorder_maps_to_the_recorder() {
    let event = record(
        "config.amazonaws.com",
        "StopConfigurationRecorder",
        json!({"configurationRecorderName": "default"}),
        Value::Null,
    );
    let req = one(&event);
    assert_eq!(req.action, ActionKind::ConfigRecorder);
    assert_eq!(
        req.resource,
        ResourceRef::ConfigRecorder {
            name: "default".into()
        }
    );
}

#[test]
fn root_access_key_creation_maps_to_root() {
    let mut event = record(
        "iam.amazonaws.com",
        "CreateAccessKey",
        Value::Null,
        json!({"accessKey": {
            "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
            "status": "Active",
            "createDate": "May 2, 2024, 9:14:03 AM"
        }}),
    );
    event["userIdentity"] = json!({
        "type": "Root",
        "principalId": "111122223333",
        "arn": "arn:aws:iam::111122223333:root",
        "accountId": "111122223333",
        "accessKeyId": "ASIAIOSFODNN7EXAMPLE"
    });
    let req = one(&event);
    assert_eq!(
        req.resource,
        ResourceRef::AccessKey {
            owner: KeyOwner::Root,
            access_key_id: Some("AKIAIOSFODNN7EXAMPLE".into())
        }
    );
    assert_eq!(
        req.resource.to_string(),
        "access-key/root/AKIAIOSFODNN7EXAMPLE"
    );
}

#[test]
fn access_key_for_another_user_maps_to_that_user() {
    let event = record(
        "iam.amazonaws.com",
        "CreateAccessKey",
        json!({"userName": "svc-backup"}),
        json!({"accessKey": {
            "userName": "svc-backup",
            "accessKeyId": "AKIAI44QH8DHBEXAMPLE",
            "status": "Active",
            "createDate": "May 2, 2024, 9:14:03 AM"
        }}),
    );
    assert_eq!(
        one(&event).resource,
        ResourceRef::AccessKey {
            owner: KeyOwner::User("svc-backup".into()),
            access_key_id: Some("AKIAI44QH8DHBEXAMPLE".into())
        }
    );
}

#[test]
fn own_access_key_of_an_iam_user_maps_to_the_caller() {
    let event = record(
        "iam.amazonaws.com",
        "CreateAccessKey",
        Value::Null,
        json!({"accessKey": {"accessKeyId": "AKIAI44QH8DHBEXAMPLE", "status": "Active"}}),
    );
    assert_eq!(
        one(&event).resource,
        ResourceRef::AccessKey {
            owner: KeyOwner::User("Alice".into()),
            access_key_id: Some("AKIAI44QH8DHBEXAMPLE".into())
        }
    );
}

#[test]
fn failed_access_key_creation_maps_without_a_key() {
    let mut event = record(
        "iam.amazonaws.com",
        "CreateAccessKey",
        json!({"userName": "svc-backup"}),
        Value::Null,
    );
    event["errorCode"] = json!("LimitExceededException");
    let req = one(&event);
    assert_eq!(
        req.resource,
        ResourceRef::AccessKey {
            owner: KeyOwner::User("svc-backup".into()),
            access_key_id: None
        }
    );
    assert_eq!(req.error_code.as_deref(), Some("LimitExceededException"));
}

#[test]
fn successful_access_key_creation_needs_the_key_id() {
    let event = record(
        "iam.amazonaws.com",
        "CreateAccessKey",
        json!({"userName": "svc-backup"}),
        Value::Null,
    );
    let text = error_text(requests_from_cloudtrail(&event, TriggerSource::EventBridge));
    assert_eq!(text, "responseElements.accessKey.accessKeyId missing");
}

#[test]
fn unmapped_events_and_wrong_sources_give_nothing() {
    let describe = record(
        "ec2.amazonaws.com",
        "DescribeInstances",
        json!({}),
        Value::Null,
    );
    let spoofed = record(
        "lightsail.amazonaws.com",
        "StopLogging",
        json!({"name": "x"}),
        Value::Null,
    );
    for event in [describe, spoofed] {
        let result = requests_from_cloudtrail(&event, TriggerSource::EventBridge);
        assert!(matches!(result, Ok(ref v) if v.is_empty()), "{result:?}");
    }
}

#[test]
fn empty_error_code_is_no_error() {
    let mut event = authorize_ingress();
    event["errorCode"] = json!("");
    assert_eq!(one(&event).error_code, None);
}

#[test]
fn account_falls_back_to_the_caller() {
    let mut event = authorize_ingress();
    if let Some(obj) = event.as_object_mut() {
        obj.remove("recipientAccountId");
    }
    assert_eq!(one(&event).account, "111122223333");
    if let Some(identity) = event["userIdentity"].as_object_mut() {
        identity.remove("accountId");
    }
    let text = error_text(requests_from_cloudtrail(&event, TriggerSource::EventBridge));
    assert_eq!(text, "recipientAccountId missing");
}

#[test]
fn mistyped_fields_say_what_was_found() {
    let mut event = authorize_ingress();
    event["requestParameters"]["groupId"] = json!(17);
    assert_eq!(
        error_text(requests_from_cloudtrail(&event, TriggerSource::EventBridge)),
        "requestParameters.groupId invalid: expected a string, found a number"
    );
    event["requestParameters"]["groupId"] = json!("launch-wizard-1");
    let text = error_text(requests_from_cloudtrail(&event, TriggerSource::EventBridge));
    assert!(text.contains("does not start with `sg-`"), "{text}");
}

#[test]
fn requests_serialise_with_camel_case_fields() {
    let req = one(&authorize_ingress());
    let json = serde_json::to_value(&req).unwrap_or_default();
    assert_eq!(
        json["triggerEventId"],
        "2aae5c69-4eaf-490d-b022-fd622c12a717"
    );
    assert_eq!(json["resource"]["type"], "securityGroup");
    assert_eq!(json["resource"]["groupId"], "sg-0632fa4ee8a8468a4");
    assert_eq!(json["action"], "security-group-open-ingress");
    let back: Option<RemediationRequest> = serde_json::from_value(json).ok();
    assert_eq!(back, Some(req));
}
