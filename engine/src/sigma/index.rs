//! Which rules a record could match, from a few cheap fields of the record.
//!
//! For each rule the index derives, from its compiled detection, the items
//! every matching record must satisfy (its *needs*): items of a selection the
//! condition cannot do without, on a handful of CloudTrail string fields
//! ([`KEY_FIELDS`]). Negated parts, keyword searches, array blocks, field
//! references and fields outside that list need nothing. A rule whose needs
//! pin `eventName` to a set of values is filed under those values; else one
//! whose needs pin `eventSource` is filed under those; every other rule is
//! *residual* and is considered for every record.
//!
//! Two uses share these tables:
//! - [`Index::candidates`] (for evaluation) reads `eventName` and
//!   `eventSource` the way rsigma does, so it never leaves out a rule rsigma
//!   would match;
//! - [`Index::could_match`] (to decide whether a record is worth turning into
//!   a `serde_json::Value`) reads through [`Document`] and also checks each
//!   candidate's needs with rsigma's own matchers, so residual rules such as
//!   "root account usage" cost one field look-up, not an evaluation.
//!
//! Matching is case-insensitive in Sigma, so the tables hold lowercased values
//! and look-ups lowercase the record's value the same way rsigma does.
//!
//! On a typed record ([`Index::viable_record`]) the fields are read straight
//! from the record, and common items are checked without rsigma's lowercased
//! copy of the value: equality with a few values and `contains` compare ASCII
//! text case-insensitively (rsigma's answer for ASCII), and a regex is first
//! tried as a search for the literal text every match of it contains.

use std::collections::{BTreeSet, HashMap};

use foldhash::fast::RandomState;
use rsigma_eval::CompiledRule;

use crate::document::{Document, Scalar, Segment};
use crate::record::{KEY_FIELD_PATHS, KeyField, Probe, Record};

/// Fields the needs may use. CloudTrail defines each as a string inside
/// objects only (never under an array), so a [`Document`] and rsigma resolve
/// them to the same value.
pub const KEY_FIELDS: &[&str] = &{
    // The paths of the fields a typed record reads directly, so the two
    // lists cannot drift apart.
    let mut paths = [""; KEY_FIELD_PATHS.len()];
    let mut i = 0;
    while i < paths.len() {
        paths[i] = KEY_FIELD_PATHS[i].1;
        i += 1;
    }
    paths
};

mod need;

use need::{Need, decisive_fields};

const EVENT_NAME: &str = "eventName";
const EVENT_SOURCE: &str = "eventSource";

/// A field value as the index sees it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Key<'a> {
    /// The field is not there.
    Absent,
    /// A string.
    Str(&'a str),
    /// Anything else (number, null, array, object): every rule filed by
    /// this field stays a candidate.
    Other,
}

/// One field's table: rules filed by lowercased value.
#[derive(Debug, Clone, Default)]
struct Table {
    by_value: HashMap<String, Vec<usize>, RandomState>,
    /// Every rule in the table, for values that are not strings.
    all: Vec<usize>,
}

impl Table {
    fn insert(&mut self, values: &BTreeSet<String>, rule: usize) {
        for value in values {
            self.by_value.entry(value.clone()).or_default().push(rule);
        }
        self.all.push(rule);
    }

    fn get(&self, key: Key<'_>) -> &[usize] {
        match key {
            Key::Absent => &[],
            Key::Other => &self.all,
            Key::Str(s) => with_lowercase(s, |lower| {
                self.by_value.get(lower).map_or(&[][..], Vec::as_slice)
            }),
        }
    }
}

/// Calls `f` with `s` lowercased as rsigma lowercases (`str::to_lowercase`),
/// without allocating for short ASCII values such as event names.
fn with_lowercase<R>(s: &str, f: impl FnOnce(&str) -> R) -> R {
    let mut buf = [0u8; 96];
    if s.is_ascii()
        && let Some(dst) = buf.get_mut(..s.len())
    {
        dst.copy_from_slice(s.as_bytes());
        dst.make_ascii_lowercase();
        if let Ok(lower) = std::str::from_utf8(dst) {
            return f(lower);
        }
    }
    f(&s.to_lowercase())
}

/// The rules `table` files under `record`'s value at `path`.
fn doc_slice<'s, D: Document + ?Sized>(
    record: &D,
    path: &[Segment],
    table: &'s Table,
) -> &'s [usize] {
    let mut out: &'s [usize] = &[];
    record.any_at(path, &mut |v| {
        out = match v {
            Scalar::String(s) => table.get(Key::Str(s)),
            _ => table.get(Key::Other),
        };
        true
    });
    out
}

/// The rule index (see the module doc).
#[derive(Debug, Clone, Default)]
pub(super) struct Index {
    name_path: Vec<Segment>,
    source_path: Vec<Segment>,
    by_name: Table,
    by_source: Table,
    residual: Vec<usize>,
    needs: Vec<Need>,
    /// Every field the tables and needs read: a typed record's values there
    /// decide which rules are viable.
    decisive: Vec<KeyField>,
}

impl Index {
    /// Indexes `rules`; rule `i` of the slice is reported as `i`.
    pub(super) fn build<'r>(rules: impl IntoIterator<Item = &'r CompiledRule>) -> Index {
        let mut index = Index {
            name_path: vec![Segment::Key(EVENT_NAME.to_owned())],
            source_path: vec![Segment::Key(EVENT_SOURCE.to_owned())],
            ..Index::default()
        };
        for (i, rule) in rules.into_iter().enumerate() {
            let need = Need::of_rule(rule);
            if let Some(names) = need.exact_values(EVENT_NAME) {
                index.by_name.insert(&names, i);
            } else if let Some(sources) = need.exact_values(EVENT_SOURCE) {
                index.by_source.insert(&sources, i);
            } else {
                index.residual.push(i);
            }
            index.needs.push(need);
        }
        index.decisive = decisive_fields(&index.needs);
        index
    }

    /// The fields whose values decide which rules are viable for a typed
    /// record ([`Index::viable_sorted`] depends on nothing else).
    pub(super) fn decisive(&self) -> &[KeyField] {
        &self.decisive
    }

    /// [`Index::viable_record`] in load order.
    pub(super) fn viable_sorted(&self, record: &Record<'_>) -> Box<[usize]> {
        let mut viable: Vec<usize> = self.viable_record(record).collect();
        viable.sort_unstable();
        viable.into()
    }

    /// Every rule that could match a record with these `eventName` and
    /// `eventSource` values (as rsigma reads them), each once.
    pub(super) fn candidates(
        &self,
        event_name: Key<'_>,
        event_source: Key<'_>,
    ) -> impl Iterator<Item = usize> + '_ {
        self.by_name
            .get(event_name)
            .iter()
            .chain(self.by_source.get(event_source))
            .chain(&self.residual)
            .copied()
    }

    /// Whether any rule could match `record`: its `eventName` /
    /// `eventSource` select candidates, and a candidate counts when the
    /// record meets its needs.
    pub(super) fn could_match<D: Document + ?Sized>(&self, record: &D) -> bool {
        self.viable(record).next().is_some()
    }

    /// The candidates whose needs `record` meets, read through a
    /// [`Document`] whose [`KEY_FIELDS`] resolve as rsigma resolves them
    /// (a typed record's do): every rule that can match it, each once, not
    /// in load order.
    pub(super) fn viable<'s, D: Document + ?Sized>(
        &'s self,
        record: &'s D,
    ) -> impl Iterator<Item = usize> + 's {
        let name = doc_slice(record, &self.name_path, &self.by_name);
        let source = doc_slice(record, &self.source_path, &self.by_source);
        self.meeting_needs(name, source, |need| need.holds(record))
    }

    /// [`Index::viable`] on a typed record, reading its fields directly.
    pub(super) fn viable_record<'s>(
        &'s self,
        record: &'s Record<'_>,
    ) -> impl Iterator<Item = usize> + 's {
        let slice = |field: KeyField, table: &'s Table| match field.probe(record) {
            Probe::Value(Scalar::String(s)) => table.get(Key::Str(&s)),
            Probe::Value(_) => table.get(Key::Other),
            Probe::Absent => table.get(Key::Absent),
        };
        let name = slice(KeyField::EventName, &self.by_name);
        let source = slice(KeyField::EventSource, &self.by_source);
        self.meeting_needs(name, source, |need| need.holds_in(record))
    }

    /// The rules filed under a record's `eventName` (`name`) and
    /// `eventSource` (`source`) values, and the residual ones, whose needs
    /// `holds` accepts.
    fn meeting_needs<'s>(
        &'s self,
        name: &'s [usize],
        source: &'s [usize],
        holds: impl Fn(&Need) -> bool + 's,
    ) -> impl Iterator<Item = usize> + 's {
        name.iter()
            .chain(source)
            .chain(&self.residual)
            .copied()
            .filter(move |&i| self.needs.get(i).is_some_and(&holds))
    }

    /// The residual rules.
    #[cfg(test)]
    pub(super) fn residual(&self) -> &[usize] {
        &self.residual
    }

    /// How many rules are filed by `eventName`, by `eventSource`, and residual.
    #[cfg(test)]
    pub(super) fn shape(&self) -> (usize, usize, usize) {
        (
            self.by_name.all.len(),
            self.by_source.all.len(),
            self.residual.len(),
        )
    }
}

#[cfg(test)]
mod tests;
