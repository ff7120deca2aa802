//! Answers remembered by the values of a few [`KeyField`]s. Within one log
//! file the same principals call the same APIs with the same clients, so
//! most records repeat a combination, and whatever those values alone
//! decide (which rules are worth evaluating) is worked out once per
//! combination instead of once per record.

use std::collections::HashMap;
use std::ops::Deref;

use foldhash::fast::RandomState;

use super::{KeyField, Probe, Record};
use crate::document::Scalar;

/// How many distinct combinations a memo keeps: memory stays bounded
/// however varied a file is; past it, answers are worked out each time.
pub(crate) const CAPACITY: usize = 4096;

/// Answers by the values of `fields`, for records of one pass.
///
/// Keys are the exact field text, not a hash of it, so no crafted value
/// (a user agent, say) can collide into another combination's answer.
#[derive(Debug)]
pub(crate) struct KeyMemo<T> {
    fields: Vec<KeyField>,
    key: Vec<u8>,
    seen: HashMap<Box<[u8]>, usize, RandomState>,
    answers: Vec<T>,
}

/// An answer from [`KeyMemo::recall`].
#[derive(Debug)]
pub(crate) enum Recalled<'m, T> {
    /// Worked out for an earlier record with the same values.
    Kept(&'m T),
    /// Worked out for this record (and remembered, unless the memo is
    /// full).
    Fresh(T),
}

impl<T> Deref for Recalled<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        match self {
            Recalled::Kept(answer) => answer,
            Recalled::Fresh(answer) => answer,
        }
    }
}

impl<T: Clone> KeyMemo<T> {
    /// An empty memo keyed on `fields`, which must be every field the
    /// answers depend on.
    pub(crate) fn new(fields: Vec<KeyField>) -> KeyMemo<T> {
        KeyMemo {
            fields,
            key: Vec::new(),
            seen: HashMap::default(),
            answers: Vec::new(),
        }
    }

    /// The answer for `record`: remembered when a record with the same
    /// values was seen, else `work()`, remembered when it can be.
    pub(crate) fn recall(
        &mut self,
        record: &Record<'_>,
        work: impl FnOnce() -> T,
    ) -> Recalled<'_, T> {
        if !self.key_of(record) {
            return Recalled::Fresh(work());
        }
        if let Some(&at) = self.seen.get(self.key.as_slice())
            && at < self.answers.len()
        {
            // Indexed after the check: a borrow taken only on this branch.
            return Recalled::Kept(&self.answers[at]);
        }
        let answer = work();
        if self.answers.len() >= CAPACITY {
            return Recalled::Fresh(answer);
        }
        self.seen
            .insert(self.key.as_slice().into(), self.answers.len());
        self.answers.push(answer.clone());
        Recalled::Fresh(answer)
    }

    /// Writes `record`'s values at the memo's fields as the key; `false`
    /// when one is neither text nor `null`.
    fn key_of(&mut self, record: &Record<'_>) -> bool {
        self.key.clear();
        for field in &self.fields {
            // A tag, then the text and a byte UTF-8 never holds.
            match field.probe(record) {
                Probe::Absent => self.key.push(0),
                Probe::Value(Scalar::String(text)) => {
                    self.key.push(1);
                    self.key.extend_from_slice(text.as_bytes());
                    self.key.push(0xff);
                }
                Probe::Value(Scalar::Null) => self.key.push(2),
                // Key fields hold text or `null`; anything else is not
                // remembered rather than given a tag of its own.
                Probe::Value(_) => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(text: &str) -> Record<'_> {
        Record::from_json(text).unwrap_or_else(|err| panic!("{text}: {err}"))
    }

    /// Counts how often the answer had to be worked out.
    fn recall(memo: &mut KeyMemo<String>, text: &str, work: &mut u32) -> (String, bool) {
        let answer = memo.recall(&record(text), || {
            *work += 1;
            format!("answer {work}")
        });
        let kept = matches!(answer, Recalled::Kept(_));
        ((*answer).clone(), kept)
    }

    #[test]
    fn same_values_same_answer_other_members_do_not_matter() {
        let mut memo = KeyMemo::new(vec![KeyField::EventName, KeyField::IdentityType]);
        let mut work = 0;
        let a = r#"{"eventName":"A","userIdentity":{"type":"Root"},"eventID":"1"}"#;
        let a_again = r#"{"eventName":"A","userIdentity":{"type":"Root"},"eventID":"2"}"#;
        assert_eq!(recall(&mut memo, a, &mut work), ("answer 1".into(), false));
        assert_eq!(
            recall(&mut memo, a_again, &mut work),
            ("answer 1".into(), true)
        );
        assert_eq!(work, 1);
    }

    #[test]
    fn absent_null_empty_and_concatenations_are_told_apart() {
        let mut memo = KeyMemo::new(vec![KeyField::EventName, KeyField::EventSource]);
        let mut work = 0;
        let texts = [
            r#"{}"#,
            r#"{"eventName":null}"#,
            r#"{"eventName":""}"#,
            r#"{"eventName":"ab","eventSource":"c"}"#,
            r#"{"eventName":"a","eventSource":"bc"}"#,
        ];
        for text in texts {
            recall(&mut memo, text, &mut work);
        }
        assert_eq!(work, 5, "each combination is its own");
    }

    #[test]
    fn nested_nulls_and_absent_members_are_told_apart() {
        let mut memo = KeyMemo::new(vec![KeyField::IdentityArn]);
        let mut work = 0;
        let no_arn = r#"{"userIdentity":{"type":"AWSService"}}"#;
        let null_arn = r#"{"userIdentity":{"type":"AWSService","arn":null}}"#;
        let first =
            [no_arn, null_arn, no_arn, null_arn].map(|text| recall(&mut memo, text, &mut work));
        assert_eq!(
            first,
            [
                ("answer 1".into(), false),
                ("answer 2".into(), false),
                ("answer 1".into(), true),
                ("answer 2".into(), true),
            ]
        );
    }

    #[test]
    fn a_full_memo_still_answers() {
        let mut memo = KeyMemo::new(vec![KeyField::EventName]);
        let mut work = 0;
        for i in 0..CAPACITY {
            recall(&mut memo, &format!(r#"{{"eventName":"E{i}"}}"#), &mut work);
        }
        let past = r#"{"eventName":"past"}"#;
        let (answer, kept) = recall(&mut memo, past, &mut work);
        assert_eq!((answer.as_str(), kept), ("answer 4097", false));
        let (_, kept) = recall(&mut memo, past, &mut work);
        assert!(!kept, "nothing more is remembered");
        let (_, kept) = recall(&mut memo, r#"{"eventName":"E7"}"#, &mut work);
        assert!(kept, "earlier combinations are still remembered");
        assert_eq!(work, 4098);
    }
}
