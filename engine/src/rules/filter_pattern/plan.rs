//! The form a pattern is matched in: its expression, with the `||`-ed
//! conditions on one selector merged so the value there is found once.
//!
//! Rules test one member against several alternatives (`policyDocument =
//! "*\"Action\":\"\*\"*" || policyDocument = "*\"Action\": \"\*\"*" || …`);
//! as written, each alternative would parse the request parameters and
//! unescape the policy text again. Every test but `NOT EXISTS` holds when
//! some value at the selector passes it, so alternatives on one selector
//! hold together exactly when some value there passes any of them.

use super::ast::{Condition, Expr, Test};
use crate::document::Document;
use crate::record::{Probe, Record};

/// An [`Expr`] ready to match.
#[derive(Debug, Clone)]
pub(crate) enum Plan {
    /// Every branch holds.
    All(Vec<Plan>),
    /// Some branch holds.
    Any(Vec<Plan>),
    /// One condition.
    Condition(Condition),
    /// Two or more conditions on one selector, none `NOT EXISTS`, of which
    /// some must hold: some value there passes one of their tests.
    AnyTest(Vec<Condition>),
}

impl Plan {
    /// The plan of `expr`.
    pub(crate) fn of(expr: &Expr) -> Plan {
        match expr {
            Expr::All(branches) => Plan::All(branches.iter().map(Plan::of).collect()),
            Expr::Any(branches) => Plan::any(branches),
            Expr::Condition(condition) => Plan::Condition(condition.clone()),
        }
    }

    /// `||`: conditions on a shared selector grouped (at the place of the
    /// first; the order only changes which branch decides first).
    fn any(branches: &[Expr]) -> Plan {
        let mut groups: Vec<Vec<Condition>> = Vec::new();
        let mut others = Vec::new();
        for branch in branches {
            match branch {
                Expr::Condition(c) if !matches!(c.test, Test::NotExists) => {
                    match groups
                        .iter_mut()
                        .find(|g| g.first().is_some_and(|f| f.selector == c.selector))
                    {
                        Some(group) => group.push(c.clone()),
                        None => groups.push(vec![c.clone()]),
                    }
                }
                other => others.push(Plan::of(other)),
            }
        }
        let mut plans: Vec<Plan> = groups
            .into_iter()
            .map(|group| match <[Condition; 1]>::try_from(group) {
                Ok([single]) => Plan::Condition(single),
                Err(group) => Plan::AnyTest(group),
            })
            .collect();
        plans.extend(others);
        match <[Plan; 1]>::try_from(plans) {
            Ok([single]) => single,
            Err(plans) => Plan::Any(plans),
        }
    }

    /// Whether `doc` matches, as the expression would.
    pub(crate) fn matches<D: Document + ?Sized>(&self, doc: &D) -> bool {
        match self {
            Plan::All(branches) => branches.iter().all(|branch| branch.matches(doc)),
            Plan::Any(branches) => branches.iter().any(|branch| branch.matches(doc)),
            Plan::Condition(condition) => condition.holds(doc),
            Plan::AnyTest(conditions) => any_test(conditions, doc),
        }
    }

    /// [`Plan::matches`] on a typed record: key fields are read directly.
    pub(crate) fn matches_record(&self, record: &Record<'_>) -> bool {
        match self {
            Plan::All(branches) => branches.iter().all(|branch| branch.matches_record(record)),
            Plan::Any(branches) => branches.iter().any(|branch| branch.matches_record(record)),
            Plan::Condition(condition) => condition.holds_in(record),
            Plan::AnyTest(conditions) => {
                let Some(first) = conditions.first() else {
                    return false;
                };
                match first.key.map(|key| key.probe(record)) {
                    None => any_test(conditions, record),
                    Some(Probe::Absent) => false,
                    Some(Probe::Value(value)) => conditions.iter().any(|c| c.accepts(&value)),
                }
            }
        }
    }
}

/// Whether some value at the conditions' shared selector passes one of
/// their tests.
fn any_test<D: Document + ?Sized>(conditions: &[Condition], doc: &D) -> bool {
    let Some(first) = conditions.first() else {
        return false;
    };
    doc.any_at(first.selector.segments(), &mut |value| {
        conditions.iter().any(|c| c.accepts(value))
    })
}

#[cfg(test)]
mod tests {
    use super::super::parser::parse;
    use super::*;
    use serde_json::{Value, json};

    fn plan(pattern: &str) -> (Expr, Plan) {
        let expr = parse(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        let plan = Plan::of(&expr);
        (expr, plan)
    }

    #[test]
    fn alternatives_on_one_selector_are_merged() {
        let (_, merged) = plan(
            r#"{ $.a = "x*" || $.b = 1 || $.a = "*y" || $.a NOT EXISTS || ($.c = 2 && $.a = "z") }"#,
        );
        let Plan::Any(branches) = merged else {
            panic!("an `||` stays an `||`: {merged:?}");
        };
        let shapes: Vec<String> = branches
            .iter()
            .map(|b| match b {
                Plan::AnyTest(cs) => format!("any-test {}", cs.len()),
                Plan::Condition(_) => "condition".to_owned(),
                Plan::All(_) => "all".to_owned(),
                Plan::Any(_) => "any".to_owned(),
            })
            .collect();
        // `$.a` twice (not `NOT EXISTS`, not inside the `&&`), then `$.b`,
        // then the two other branches as they were.
        assert_eq!(shapes, ["any-test 2", "condition", "condition", "all"]);
    }

    /// The merged plan gives the expression's answer, on documents and on
    /// typed records, for values that pass one, several or none of the
    /// tests, arrays, nulls and absent members.
    #[test]
    fn merged_plans_match_as_the_expression_does() {
        let patterns = [
            r#"{ $.requestParameters.p = "*\"Action\":\"\*\"*" || $.requestParameters.p = "*\"Action\": \"\*\"*" }"#,
            r#"{ $.errorCode = "*Unauthorized*" || $.errorCode = "AccessDenied*" || $.errorCode IS NULL }"#,
            r#"{ $.errorCode = "x" || $.errorCode NOT EXISTS }"#,
            r#"{ $.n > 5 || $.n = 1 || $.n != 3 }"#,
            r#"{ $.list[*].v = "a" || $.list[*].v = "b" }"#,
            r#"{ $.userIdentity.type = "Root" || $.userIdentity.type = "IAMUser" }"#,
        ];
        let docs: Vec<Value> = vec![
            json!({"requestParameters": {"p": "{\"Action\":\"*\"}"}}),
            json!({"requestParameters": {"p": "{\"Action\": \"*\"}"}}),
            json!({"requestParameters": {"p": "{\"Action\":\"s3:*\"}"}}),
            json!({"errorCode": "Client.UnauthorizedOperation"}),
            json!({"errorCode": "AccessDeniedException"}),
            json!({"errorCode": null}),
            json!({"errorCode": "x"}),
            json!({"n": 7}),
            json!({"n": 3}),
            json!({"n": "1"}),
            json!({"list": [{"v": "c"}, {"v": "b"}]}),
            json!({"list": [{"v": "c"}]}),
            json!({"userIdentity": {"type": "IAMUser"}}),
            json!({"userIdentity": {"type": null}}),
            json!({"userIdentity": {"type": "Ro\u{6f}t"}}),
            json!({}),
        ];
        for pattern in patterns {
            let (expr, plan) = plan(pattern);
            for doc in &docs {
                assert_eq!(plan.matches(doc), expr.matches(doc), "{pattern} on {doc}");
                let text = doc.to_string();
                let record = Record::from_json(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
                assert_eq!(
                    plan.matches_record(&record),
                    expr.matches(doc),
                    "{pattern} on the record {text}"
                );
            }
        }
    }
}
