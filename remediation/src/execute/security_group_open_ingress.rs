//! Executor for
//! [`trailguard_engine::remediation::actions::security_group_open_ingress`]: the
//! group's ingress rules from `DescribeSecurityGroupRules` (filter
//! `group-id`), its tags from `DescribeSecurityGroups`, and
//! `RevokeSecurityGroupIngress` by `SecurityGroupRuleIds`, so exactly the
//! planned rules go, never a sibling with the same ports.

use aws_config::SdkConfig;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Filter, SecurityGroupRule};

use super::{ExecuteError, Executor, Tags, call_error, regional, wrong_resource};
use trailguard_engine::remediation::actions::{Decision, security_group_open_ingress as action};
use trailguard_engine::remediation::guard::GuardConfig;
use trailguard_engine::remediation::request::{RemediationRequest, ResourceRef};

/// EC2's error code for a group that does not exist.
const NOT_FOUND: &[&str] = &["InvalidGroup.NotFound", "InvalidGroupId.NotFound"];

/// Reads and changes one security group.
pub struct SecurityGroupExecutor {
    ec2: Client,
    group_id: String,
    resource: String,
}

impl SecurityGroupExecutor {
    /// The executor for `req`'s group, in `req`'s region.
    pub fn new(sdk: &SdkConfig, req: &RemediationRequest) -> Result<Self, ExecuteError> {
        let ResourceRef::SecurityGroup { group_id } = &req.resource else {
            return Err(wrong_resource(action::NAME, req));
        };
        Ok(Self {
            ec2: Client::new(&regional(sdk, &req.region)),
            group_id: group_id.clone(),
            resource: req.resource.to_string(),
        })
    }

    fn ingress_rule(&self, rule: SecurityGroupRule) -> Result<action::IngressRule, ExecuteError> {
        let missing = |field| ExecuteError::MissingField {
            operation: "DescribeSecurityGroupRules",
            resource: self.resource.clone(),
            field,
        };
        Ok(action::IngressRule {
            rule_id: rule
                .security_group_rule_id
                .ok_or_else(|| missing("SecurityGroupRuleId"))?,
            protocol: rule.ip_protocol.ok_or_else(|| missing("IpProtocol"))?,
            from_port: rule.from_port,
            to_port: rule.to_port,
            cidr_ipv4: rule.cidr_ipv4,
            cidr_ipv6: rule.cidr_ipv6,
            description: rule.description,
        })
    }
}

impl Executor for SecurityGroupExecutor {
    type Live = action::LiveState;
    type Plan = action::Plan;

    async fn read(&self) -> Result<action::LiveState, ExecuteError> {
        let rules = self
            .ec2
            .describe_security_group_rules()
            .filters(
                Filter::builder()
                    .name("group-id")
                    .values(&self.group_id)
                    .build(),
            )
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| call_error("DescribeSecurityGroupRules", &self.resource, NOT_FOUND, e))?;
        let ingress_rules = rules
            .into_iter()
            // The filter is trusted for the group but the rule is checked
            // too: revoking another group's rule would be the worst bug here.
            .filter(|rule| rule.is_egress != Some(true))
            .filter(|rule| rule.group_id.as_deref() == Some(self.group_id.as_str()))
            .map(|rule| self.ingress_rule(rule))
            .collect::<Result<_, _>>()?;
        Ok(action::LiveState {
            group_id: self.group_id.clone(),
            ingress_rules,
        })
    }

    async fn tags(&self, _live: &action::LiveState) -> Result<Tags, ExecuteError> {
        let out = self
            .ec2
            .describe_security_groups()
            .group_ids(&self.group_id)
            .send()
            .await
            .map_err(|e| call_error("DescribeSecurityGroups", &self.resource, NOT_FOUND, e))?;
        let group = out
            .security_groups()
            .iter()
            .find(|g| g.group_id() == Some(self.group_id.as_str()))
            .ok_or_else(|| ExecuteError::NotFound {
                resource: self.resource.clone(),
                code: "DescribeSecurityGroups returned no such group".to_owned(),
            })?;
        Ok(group
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned())))
            .collect())
    }

    fn decide(
        &self,
        req: &RemediationRequest,
        live: &action::LiveState,
        cfg: &GuardConfig,
    ) -> Decision<action::Plan> {
        action::decide(req, live, &cfg.allowed_ports)
    }

    async fn apply(&self, plan: &action::Plan) -> Result<(), ExecuteError> {
        let ids = plan.rule_ids().into_iter().map(str::to_owned).collect();
        self.ec2
            .revoke_security_group_ingress()
            .group_id(&plan.group_id)
            .set_security_group_rule_ids(Some(ids))
            .send()
            .await
            .map_err(|e| call_error("RevokeSecurityGroupIngress", &self.resource, &[], e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execute::test_sdk;
    use testkit::remediation_request as test_request;
    use trailguard_engine::remediation::actions::ActionKind;

    fn request(resource: ResourceRef) -> RemediationRequest {
        test_request(
            ActionKind::SecurityGroupOpenIngress,
            resource,
            "AuthorizeSecurityGroupIngress",
        )
    }

    #[test]
    fn rules_keep_every_field_an_undo_needs() {
        let req = request(ResourceRef::SecurityGroup {
            group_id: "sg-1".into(),
        });
        let exec = match SecurityGroupExecutor::new(&test_sdk(), &req) {
            Ok(exec) => exec,
            Err(e) => panic!("{e}"),
        };
        let rule = SecurityGroupRule::builder()
            .security_group_rule_id("sgr-1")
            .group_id("sg-1")
            .ip_protocol("tcp")
            .from_port(22)
            .to_port(22)
            .cidr_ipv4("0.0.0.0/0")
            .description("ssh")
            .build();
        let mapped = exec.ingress_rule(rule).ok();
        assert_eq!(
            mapped,
            Some(action::IngressRule {
                rule_id: "sgr-1".into(),
                protocol: "tcp".into(),
                from_port: Some(22),
                to_port: Some(22),
                cidr_ipv4: Some("0.0.0.0/0".into()),
                cidr_ipv6: None,
                description: Some("ssh".into()),
            })
        );
        let no_id = SecurityGroupRule::builder().ip_protocol("tcp").build();
        let text = exec.ingress_rule(no_id).err().map(|e| e.to_string());
        assert_eq!(
            text.as_deref(),
            Some(
                "DescribeSecurityGroupRules on security-group/sg-1 returned no SecurityGroupRuleId"
            )
        );
    }

    #[test]
    fn another_resource_kind_is_refused() {
        let req = request(ResourceRef::Bucket { name: "b".into() });
        let err = SecurityGroupExecutor::new(&test_sdk(), &req).err();
        assert!(
            matches!(err, Some(ExecuteError::WrongResource { ref resource, .. }) if resource == "bucket/b")
        );
    }
}
