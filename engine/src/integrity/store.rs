//! Reading digest and log objects from wherever CloudTrail delivered them.
//!
//! Validation is synchronous: it reads through [`ObjectStore::get`], whose
//! body is a blocking [`Read`]. That keeps the hashing loop plain `std::io`
//! (so a log file is hashed chunk by chunk, never held whole in memory) and
//! lets an async S3 store back it: run the validation inside
//! `tokio::task::spawn_blocking`, answer `get` with
//! `Handle::block_on(client.get_object()…send())`, and wrap the body's
//! `AsyncRead` in `tokio_util::io::SyncIoBridge`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::{Cursor, Read};

/// Where an object lives.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectRef {
    /// The bucket name.
    pub bucket: String,
    /// The object key.
    pub key: String,
}

impl ObjectRef {
    /// An object reference from its bucket and key.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            key: key.into(),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// An object's body and user metadata, as `GetObject` returns them.
pub struct StoredObject {
    /// The stored bytes (still gzip-compressed for CloudTrail objects).
    pub body: Box<dyn Read + Send>,
    /// User metadata, keyed without the `x-amz-meta-` prefix and in lower
    /// case, as the SDK's `GetObjectOutput::metadata` gives it
    /// (`signature`, `signature-algorithm`).
    pub metadata: HashMap<String, String>,
}

impl fmt::Debug for StoredObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredObject")
            .field("metadata", &self.metadata)
            .finish_non_exhaustive()
    }
}

/// Reading an object failed for a reason other than its absence.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot read {object}: {source}; check the bucket policy and the reader's s3:GetObject permission"
)]
pub struct StoreError {
    /// The object that could not be read.
    pub object: ObjectRef,
    /// What the store reported.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// A source of objects.
pub trait ObjectStore {
    /// Opens an object, or `Ok(None)` when it does not exist (S3 `NoSuchKey`).
    fn get(&self, object: &ObjectRef) -> Result<Option<StoredObject>, StoreError>;
}

impl<S: ObjectStore + ?Sized> ObjectStore for &S {
    fn get(&self, object: &ObjectRef) -> Result<Option<StoredObject>, StoreError> {
        (**self).get(object)
    }
}

/// An object to place in a store: body plus user metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectData {
    /// The stored bytes.
    pub body: Vec<u8>,
    /// User metadata, keyed as in [`StoredObject::metadata`].
    pub metadata: HashMap<String, String>,
}

/// An in-memory [`ObjectStore`], for tests and for validating files copied
/// off S3.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    objects: BTreeMap<ObjectRef, ObjectData>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores (or replaces) an object.
    pub fn put(&mut self, object: ObjectRef, data: ObjectData) {
        self.objects.insert(object, data);
    }

    /// Removes an object, returning what it held.
    pub fn remove(&mut self, object: &ObjectRef) -> Option<ObjectData> {
        self.objects.remove(object)
    }

    /// The stored data of an object, to inspect or tamper with in tests.
    pub fn data_mut(&mut self, object: &ObjectRef) -> Option<&mut ObjectData> {
        self.objects.get_mut(object)
    }

    /// Every key in `bucket` starting with `prefix`, in key order (as S3
    /// `ListObjectsV2` returns them).
    pub fn list(&self, bucket: &str, prefix: &str) -> Vec<String> {
        self.objects
            .keys()
            .filter(|o| o.bucket == bucket && o.key.starts_with(prefix))
            .map(|o| o.key.clone())
            .collect()
    }
}

impl ObjectStore for MemoryStore {
    fn get(&self, object: &ObjectRef) -> Result<Option<StoredObject>, StoreError> {
        Ok(self.objects.get(object).map(|data| StoredObject {
            body: Box::new(Cursor::new(data.body.clone())),
            metadata: data.metadata.clone(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(body: &[u8]) -> ObjectData {
        ObjectData {
            body: body.to_vec(),
            metadata: HashMap::from([("signature".to_owned(), "ab".to_owned())]),
        }
    }

    #[test]
    fn object_ref_displays_as_s3_url() {
        assert_eq!(ObjectRef::new("b", "a/k.gz").to_string(), "s3://b/a/k.gz");
    }

    #[test]
    fn memory_store_returns_body_and_metadata() {
        let mut store = MemoryStore::new();
        let at = ObjectRef::new("b", "k");
        store.put(at.clone(), data(b"hello"));
        let mut got = store.get(&at).unwrap().unwrap();
        let mut body = Vec::new();
        got.body.read_to_end(&mut body).unwrap();
        assert_eq!(body, b"hello");
        assert_eq!(
            got.metadata.get("signature").map(String::as_str),
            Some("ab")
        );
    }

    #[test]
    fn memory_store_reports_absent_objects_as_none() {
        let mut store = MemoryStore::new();
        let at = ObjectRef::new("b", "k");
        store.put(at.clone(), data(b"x"));
        assert!(store.get(&ObjectRef::new("other", "k")).unwrap().is_none());
        assert!(store.remove(&at).is_some());
        assert!(store.get(&at).unwrap().is_none());
    }

    #[test]
    fn memory_store_lists_by_bucket_and_prefix_in_key_order() {
        let mut store = MemoryStore::new();
        for key in ["p/2", "p/1", "q/1"] {
            store.put(ObjectRef::new("b", key), data(b""));
        }
        store.put(ObjectRef::new("c", "p/0"), data(b""));
        assert_eq!(store.list("b", "p/"), ["p/1", "p/2"]);
    }
}
