//! Revoking security group ingress rules that are open to the whole internet.
//!
//! A rule is *world-open* when its source is an IPv4 or IPv6 CIDR with a
//! `/0` prefix (`0.0.0.0/0`, `::/0`). A world-open rule is revoked unless it
//! only opens TCP or UDP ports that all lie inside the operator's allowed
//! ports (`TRAILGUARD_ALLOWED_PORTS`, empty by default). Every other rule
//! (private CIDRs, prefix lists, referenced groups) survives untouched.
//!
//! How protocols are read:
//!
//! - `tcp`/`6` and `udp`/`17`: the rule opens `fromPort..=toPort`. It
//!   survives only if every port of that range is allowed, so 80-443 is
//!   revoked when only 80 and 443 are allowed. A missing or negative port
//!   means the whole range 0-65535.
//! - `-1` (all traffic): every port of every protocol, always revoked.
//! - anything else (`icmp`, `icmpv6`, `58`, `gre`, …): the ports fields hold
//!   ICMP types or nothing, which the allowed list cannot speak to, so a
//!   world-open rule is revoked.
//!
//! The executor lists the group's ingress rules with
//! `DescribeSecurityGroupRules` (filter `group-id`, skipping `IsEgress`),
//! and revokes with `RevokeSecurityGroupIngress` by `SecurityGroupRuleIds`,
//! which removes exactly the planned rules even when another rule has the
//! same ports.

use crate::remediation::request::{RequestError, at, check_prefix, missing, optional_str};
use serde_json::Value;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Decision, live_mismatch, wrong_resource};
use crate::remediation::request::{RemediationRequest, ResourceRef};

/// The action's name.
pub const NAME: &str = "security-group-open-ingress";

/// IAM actions the executor needs.
pub const PERMISSIONS: &[&str] = &[
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSecurityGroupRules",
    "ec2:RevokeSecurityGroupIngress",
];

/// The service whose CloudTrail calls trigger the action.
pub const EVENT_SOURCE: &str = "ec2.amazonaws.com";

/// The calls (`eventName`) that trigger the action.
pub const EVENT_NAMES: &[&str] = &["AuthorizeSecurityGroupIngress"];

/// The security group a call opened. A call by `groupName` (default VPC)
/// names the id only in the response.
pub fn resource(event: &Value, _failed: bool) -> Result<Option<ResourceRef>, RequestError> {
    let path = ["requestParameters", "groupId"];
    if let Some(id) = optional_str(event, &path)? {
        let group_id = check_prefix(id, &path, "sg-")?;
        return Ok(Some(ResourceRef::SecurityGroup { group_id }));
    }
    let rules = at(
        event,
        &["responseElements", "securityGroupRuleSet", "items"],
    )
    .and_then(Value::as_array);
    let from_response = rules
        .into_iter()
        .flatten()
        .find_map(|rule| rule.get("groupId").and_then(Value::as_str))
        .filter(|id| !id.is_empty());
    match from_response {
        Some(id) => Ok(Some(ResourceRef::SecurityGroup {
            group_id: check_prefix(id, &path, "sg-")?,
        })),
        None => Err(missing(&path)),
    }
}

/// One ingress rule of a security group, as `DescribeSecurityGroupRules` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressRule {
    /// `sgr-…`.
    pub rule_id: String,
    /// `IpProtocol`: `tcp`, `udp`, `icmp`, `-1`, or a protocol number.
    pub protocol: String,
    /// Start of the port range (ICMP type for ICMP); `-1` or absent for all.
    pub from_port: Option<i32>,
    /// End of the port range (ICMP code for ICMP); `-1` or absent for all.
    pub to_port: Option<i32>,
    /// IPv4 source CIDR.
    pub cidr_ipv4: Option<String>,
    /// IPv6 source CIDR.
    pub cidr_ipv6: Option<String>,
    /// The rule's description, kept so an undo can restore it.
    pub description: Option<String>,
}

/// The group as the executor read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveState {
    /// The group the rules were read from.
    pub group_id: String,
    /// Its ingress rules (egress rules left out).
    pub ingress_rules: Vec<IngressRule>,
}

/// Revoke these rules of this group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The group to change.
    pub group_id: String,
    /// The rules to revoke, in full so they can be re-authorised on undo.
    pub revoke: Vec<IngressRule>,
}

impl Plan {
    /// The `SecurityGroupRuleIds` to pass to `RevokeSecurityGroupIngress`.
    pub fn rule_ids(&self) -> Vec<&str> {
        self.revoke.iter().map(|r| r.rule_id.as_str()).collect()
    }
}

/// An inclusive port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PortRange {
    /// First port.
    pub from: u16,
    /// Last port, `>= from`.
    pub to: u16,
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from == self.to {
            write!(f, "{}", self.from)
        } else {
            write!(f, "{}-{}", self.from, self.to)
        }
    }
}

/// The TCP/UDP ports that may stay open to the world, merged and sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedPorts(Vec<PortRange>);

/// Why an allowed-ports list could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{entry}` is not a port or port range: {reason} (write ports as `443` or `8000-8080`, comma-separated)"
)]
pub struct AllowedPortsError {
    /// The offending entry.
    pub entry: String,
    /// What is wrong with it.
    pub reason: String,
}

impl AllowedPorts {
    /// Parses a comma-separated list of ports and ranges, e.g. `443, 8000-8080`.
    /// An empty list allows nothing.
    pub fn parse(text: &str) -> Result<Self, AllowedPortsError> {
        let mut ranges = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let error = |reason: &str| AllowedPortsError {
                entry: entry.to_owned(),
                reason: reason.to_owned(),
            };
            let port = |s: &str| {
                s.trim()
                    .parse::<u16>()
                    .map_err(|_| error("ports are whole numbers from 0 to 65535"))
            };
            let range = match entry.split_once('-') {
                Some((from, to)) => PortRange {
                    from: port(from)?,
                    to: port(to)?,
                },
                None => {
                    let p = port(entry)?;
                    PortRange { from: p, to: p }
                }
            };
            if range.from > range.to {
                return Err(error("the range ends before it starts"));
            }
            ranges.push(range);
        }
        Ok(Self::from_ranges(ranges))
    }

    /// The allowed list made of `ranges`, merging overlapping and adjacent ones.
    pub fn from_ranges(mut ranges: Vec<PortRange>) -> Self {
        ranges.sort();
        let mut merged: Vec<PortRange> = Vec::with_capacity(ranges.len());
        for range in ranges {
            match merged.last_mut() {
                Some(last) if u32::from(range.from) <= u32::from(last.to) + 1 => {
                    last.to = last.to.max(range.to);
                }
                _ => merged.push(range),
            }
        }
        Self(merged)
    }

    /// The merged ranges.
    pub fn ranges(&self) -> &[PortRange] {
        &self.0
    }

    /// Whether every port in `from..=to` is allowed. Ranges are merged, so
    /// a covered span lies inside a single one of them.
    pub fn covers(&self, from: u16, to: u16) -> bool {
        self.0.iter().any(|r| r.from <= from && to <= r.to)
    }
}

impl fmt::Display for AllowedPorts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        for (i, range) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{range}")?;
        }
        Ok(())
    }
}

/// Decides which of the group's rules to revoke.
pub fn decide(
    req: &RemediationRequest,
    live: &LiveState,
    allowed: &AllowedPorts,
) -> Decision<Plan> {
    let ResourceRef::SecurityGroup { group_id } = &req.resource else {
        return wrong_resource(NAME, req);
    };
    if live.group_id != *group_id {
        return live_mismatch(group_id, &live.group_id);
    }
    let revoke: Vec<IngressRule> = live
        .ingress_rules
        .iter()
        .filter(|rule| is_world_open(rule) && !stays_allowed(rule, allowed))
        .cloned()
        .collect();
    if revoke.is_empty() {
        return Decision::AlreadyCompliant {
            reason: format!(
                "{group_id} has no ingress open to 0.0.0.0/0 or ::/0 outside the allowed ports ({allowed})"
            ),
        };
    }
    Decision::Act(Plan {
        group_id: group_id.clone(),
        revoke,
    })
}

/// Whether the rule's source is the whole IPv4 or IPv6 internet.
pub fn is_world_open(rule: &IngressRule) -> bool {
    [&rule.cidr_ipv4, &rule.cidr_ipv6]
        .into_iter()
        .flatten()
        .any(|cidr| {
            cidr.rsplit_once('/')
                .is_some_and(|(_, prefix)| prefix.trim() == "0")
        })
}

/// Whether a world-open rule may stay: TCP or UDP only, on allowed ports only.
fn stays_allowed(rule: &IngressRule, allowed: &AllowedPorts) -> bool {
    match rule.protocol.to_ascii_lowercase().as_str() {
        "tcp" | "6" | "udp" | "17" => {
            let (from, to) = port_span(rule.from_port, rule.to_port);
            allowed.covers(from, to)
        }
        _ => false,
    }
}

/// The TCP/UDP port span of a rule; missing or out-of-range bounds widen it
/// to the full range rather than narrowing what is judged.
fn port_span(from: Option<i32>, to: Option<i32>) -> (u16, u16) {
    let from = from.and_then(|p| u16::try_from(p).ok());
    let to = to.and_then(|p| u16::try_from(p).ok());
    match (from, to) {
        (Some(from), Some(to)) if from <= to => (from, to),
        _ => (0, u16::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remediation::actions::{ActionKind, test_request};

    fn request(group_id: &str) -> RemediationRequest {
        test_request(
            ActionKind::SecurityGroupOpenIngress,
            ResourceRef::SecurityGroup {
                group_id: group_id.into(),
            },
            "AuthorizeSecurityGroupIngress",
        )
    }

    fn rule(
        id: &str,
        protocol: &str,
        ports: Option<(i32, i32)>,
        v4: Option<&str>,
        v6: Option<&str>,
    ) -> IngressRule {
        IngressRule {
            rule_id: id.into(),
            protocol: protocol.into(),
            from_port: ports.map(|p| p.0),
            to_port: ports.map(|p| p.1),
            cidr_ipv4: v4.map(Into::into),
            cidr_ipv6: v6.map(Into::into),
            description: None,
        }
    }

    fn live(rules: Vec<IngressRule>) -> LiveState {
        LiveState {
            group_id: "sg-0632fa4ee8a8468a4".into(),
            ingress_rules: rules,
        }
    }

    fn allowed(text: &str) -> AllowedPorts {
        match AllowedPorts::parse(text) {
            Ok(ports) => ports,
            Err(e) => panic!("{e}"),
        }
    }

    fn revoked_ids(decision: &Decision<Plan>) -> Vec<&str> {
        decision.plan().map(Plan::rule_ids).unwrap_or_default()
    }

    #[test]
    fn revokes_exactly_the_world_open_disallowed_rules() {
        let state = live(vec![
            rule("sgr-ssh4", "tcp", Some((22, 22)), Some("0.0.0.0/0"), None),
            rule("sgr-ssh6", "tcp", Some((22, 22)), None, Some("::/0")),
            rule(
                "sgr-https",
                "tcp",
                Some((443, 443)),
                Some("0.0.0.0/0"),
                None,
            ),
            rule(
                "sgr-private",
                "tcp",
                Some((22, 22)),
                Some("10.0.0.0/8"),
                None,
            ),
            rule("sgr-all", "-1", Some((-1, -1)), Some("0.0.0.0/0"), None),
            rule("sgr-office", "-1", None, Some("203.0.113.0/24"), None),
        ]);
        let decision = decide(&request("sg-0632fa4ee8a8468a4"), &state, &allowed("443"));
        let expected = Plan {
            group_id: "sg-0632fa4ee8a8468a4".into(),
            revoke: vec![
                rule("sgr-ssh4", "tcp", Some((22, 22)), Some("0.0.0.0/0"), None),
                rule("sgr-ssh6", "tcp", Some((22, 22)), None, Some("::/0")),
                rule("sgr-all", "-1", Some((-1, -1)), Some("0.0.0.0/0"), None),
            ],
        };
        assert_eq!(decision, Decision::Act(expected));
    }

    #[test]
    fn allowed_port_open_to_the_world_is_compliant() {
        let state = live(vec![
            rule(
                "sgr-https",
                "tcp",
                Some((443, 443)),
                Some("0.0.0.0/0"),
                None,
            ),
            rule("sgr-https6", "tcp", Some((443, 443)), None, Some("::/0")),
            rule(
                "sgr-private",
                "tcp",
                Some((0, 65535)),
                Some("10.0.0.0/8"),
                None,
            ),
        ]);
        let decision = decide(&request("sg-0632fa4ee8a8468a4"), &state, &allowed("80,443"));
        assert!(
            matches!(decision, Decision::AlreadyCompliant { ref reason } if reason.contains("80, 443")),
            "{decision:?}"
        );
    }

    #[test]
    fn ipv6_world_open_rule_is_revoked_with_nothing_allowed() {
        let state = live(vec![rule(
            "sgr-rdp6",
            "tcp",
            Some((3389, 3389)),
            None,
            Some("::/0"),
        )]);
        let decision = decide(
            &request("sg-0632fa4ee8a8468a4"),
            &state,
            &AllowedPorts::default(),
        );
        assert_eq!(revoked_ids(&decision), vec!["sgr-rdp6"]);
    }

    #[test]
    fn all_traffic_rule_is_revoked_whatever_is_allowed() {
        let state = live(vec![rule(
            "sgr-all6",
            "-1",
            Some((-1, -1)),
            None,
            Some("::/0"),
        )]);
        let decision = decide(
            &request("sg-0632fa4ee8a8468a4"),
            &state,
            &allowed("0-65535"),
        );
        assert_eq!(revoked_ids(&decision), vec!["sgr-all6"]);
    }

    #[test]
    fn a_range_must_lie_wholly_inside_the_allowed_ports() {
        let wide = live(vec![rule(
            "sgr-web",
            "tcp",
            Some((80, 443)),
            Some("0.0.0.0/0"),
            None,
        )]);
        let request = request("sg-0632fa4ee8a8468a4");
        assert_eq!(
            revoked_ids(&decide(&request, &wide, &allowed("80,443"))),
            vec!["sgr-web"]
        );
        let decision = decide(&request, &wide, &allowed("80-200, 201-443"));
        assert!(
            matches!(decision, Decision::AlreadyCompliant { .. }),
            "{decision:?}"
        );
    }

    #[test]
    fn udp_is_judged_by_port_and_icmp_is_revoked() {
        let state = live(vec![
            rule("sgr-dns", "udp", Some((53, 53)), Some("0.0.0.0/0"), None),
            rule("sgr-dns17", "17", Some((53, 53)), Some("0.0.0.0/0"), None),
            rule("sgr-ping", "icmp", Some((8, -1)), Some("0.0.0.0/0"), None),
        ]);
        let decision = decide(&request("sg-0632fa4ee8a8468a4"), &state, &allowed("53"));
        assert_eq!(revoked_ids(&decision), vec!["sgr-ping"]);
    }

    #[test]
    fn missing_ports_on_tcp_mean_every_port() {
        let state = live(vec![rule("sgr-odd", "tcp", None, Some("0.0.0.0/0"), None)]);
        let decision = decide(&request("sg-0632fa4ee8a8468a4"), &state, &allowed("443"));
        assert_eq!(revoked_ids(&decision), vec!["sgr-odd"]);
    }

    #[test]
    fn live_state_of_another_group_is_not_acted_on() {
        let state = live(vec![rule(
            "sgr-ssh4",
            "tcp",
            Some((22, 22)),
            Some("0.0.0.0/0"),
            None,
        )]);
        let decision = decide(
            &request("sg-0000000000000000f"),
            &state,
            &AllowedPorts::default(),
        );
        assert!(
            matches!(decision, Decision::NotApplicable { .. }),
            "{decision:?}"
        );
    }

    #[test]
    fn a_request_for_another_resource_is_not_applicable() {
        let mut req = request("sg-0632fa4ee8a8468a4");
        req.resource = ResourceRef::Bucket { name: "b".into() };
        let decision = decide(&req, &live(vec![]), &AllowedPorts::default());
        assert!(
            matches!(decision, Decision::NotApplicable { ref reason } if reason.contains("bucket/b"))
        );
    }

    #[test]
    fn allowed_ports_parse_merge_and_reject_nonsense() {
        assert_eq!(allowed(" 443, 80 ,81-90, 85 ").to_string(), "80-90, 443");
        assert_eq!(allowed("").ranges(), &[]);
        for bad in ["http", "70000", "90-80", "-5", "1-2-3"] {
            let err = AllowedPorts::parse(bad);
            assert!(err.is_err(), "{bad} parsed");
        }
        let err = AllowedPorts::parse("22,90-80").err().map(|e| e.entry);
        assert_eq!(err.as_deref(), Some("90-80"));
    }

    #[test]
    fn world_open_needs_a_zero_prefix() {
        let open = |v4: Option<&str>, v6: Option<&str>| {
            is_world_open(&rule("r", "tcp", Some((1, 1)), v4, v6))
        };
        assert!(open(Some("0.0.0.0/0"), None));
        assert!(open(None, Some("::/0")));
        assert!(!open(Some("0.0.0.0/1"), None));
        assert!(!open(Some("10.0.0.0/8"), None));
        assert!(!open(None, Some("2001:db8::/32")));
        assert!(!open(None, None));
    }

    #[test]
    fn plan_round_trips_through_json() {
        let plan = Plan {
            group_id: "sg-1".into(),
            revoke: vec![rule(
                "sgr-1",
                "tcp",
                Some((22, 22)),
                Some("0.0.0.0/0"),
                None,
            )],
        };
        let json = serde_json::to_value(&plan).unwrap_or_default();
        assert_eq!(json["revoke"][0]["ruleId"], "sgr-1");
        assert_eq!(json["revoke"][0]["cidrIpv4"], "0.0.0.0/0");
        let back: Option<Plan> = serde_json::from_value(json).ok();
        assert_eq!(back, Some(plan));
    }
}
