//! CloudTrail log file integrity validation, as `aws cloudtrail
//! validate-logs` performs it, without any AWS client.
//!
//! Every hour CloudTrail delivers a digest file per region listing the
//! SHA-256 of each log file it delivered, signed (SHA256withRSA) with a
//! regional key and chained to the previous digest. Validation walks that
//! chain backwards over a time window and reports, per digest, whether it
//! is valid, missing, moved, unverifiable or off the chain, and per log
//! file whether it is valid, missing or modified.
//!
//! The pieces:
//! - [`layout`]: digest key names, and picking listed keys for a window;
//! - [`digest`]: parsing a digest file;
//! - [`signing`]: the signed string and signature check;
//! - [`public_keys`]: the verifying keys, and CloudTrail's `ListPublicKeys`;
//! - [`store`]: reading objects (an S3 client is plugged in by the caller);
//! - [`hashing`]: SHA-256 over uncompressed, streamed content;
//! - [`chain`]: the walk itself, [`validate`];
//! - [`report`]: findings and the `validate-logs`-style text;
//! - [`digest_check`]: one delivered digest, its logs and its link to the
//!   previous one (what the integrity function checks per delivery);
//! - [`outcome`]: a check's verdicts as findings and metric tallies;
//! - [`gaps`]: regions whose digests stopped arriving;
//! - [`timestamps`]: the timestamp spellings in keys, digests and reports.

pub mod chain;
pub mod digest;
pub mod digest_check;
pub mod gaps;
pub mod hashing;
pub mod layout;
pub mod outcome;
pub mod public_keys;
pub mod report;
pub mod signing;
pub mod store;
pub mod timestamps;

pub use chain::{ChainError, ValidationRequest, validate};
pub use layout::{DigestLayout, ListedDigest};
pub use public_keys::{PublicKey, PublicKeySource, StaticKeys};
pub use report::{DigestStatus, Finding, LogStatus, Report};
pub use store::{MemoryStore, ObjectRef, ObjectStore, StoredObject};
