//! `trailguard validate`: CloudTrail log-file integrity, worded like
//! `aws cloudtrail validate-logs`.
//!
//! The digest files under the prefix are listed once and grouped by trail
//! (prefix, organisation, account, region, trail, home region); each group's
//! chain is walked by the engine ([`trailguard_engine::integrity::validate`]) over
//! S3, with public keys from CloudTrail's `ListPublicKeys` in the digests'
//! region, or from a file (`--public-key`, hidden: for saved
//! `list-public-keys` output and for endpoints without that API).

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::{Context, bail};
use clap::Args;
use time::OffsetDateTime;
use trailguard_aws::integrity::{CloudTrailKeys, S3Store};
use trailguard_engine::integrity::timestamps::format_display;
use trailguard_engine::integrity::{
    ChainError, DigestLayout, PublicKeySource, Report, StaticKeys, ValidationRequest, validate,
};
use trailguard_engine::keys::{self, KeyKind};

use crate::aws::{Aws, S3Url, s3_url_arg};
use crate::filters::{TimeArg, time_arg};
use crate::integrity_s3::keys_from_file;
use crate::outcome::Outcome;

/// `trailguard validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The trail's bucket and prefix: s3://bucket[/prefix].
    #[arg(value_parser = s3_url_arg, value_name = "S3_URL")]
    pub target: S3Url,
    /// Start of the window (RFC 3339, or a UTC date YYYY-MM-DD).
    #[arg(long, value_parser = time_arg, value_name = "TIME")]
    pub since: TimeArg,
    /// End of the window [default: now].
    #[arg(long, value_parser = time_arg, value_name = "TIME")]
    pub until: Option<TimeArg>,
    /// Only this account's digests; repeatable.
    #[arg(long = "account", value_name = "ACCOUNT_ID")]
    pub accounts: Vec<String>,
    /// Only digests from this region; repeatable.
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,
    /// Only this trail's digests (by name); repeatable.
    #[arg(long = "trail", value_name = "NAME")]
    pub trails: Vec<String>,
    /// List valid files too, not only failures.
    #[arg(long, short)]
    pub verbose: bool,
    /// Verify with keys from a file instead of ListPublicKeys: the JSON
    /// output of `aws cloudtrail list-public-keys`, or a DER key as
    /// FINGERPRINT=PATH or a file named FINGERPRINT.der.
    #[arg(long, hide = true, value_name = "FILE")]
    pub public_key: Option<String>,
}

/// One trail's digests in one region, ordered for stable output.
type Group = (
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    String,
);

fn layout_of(group: &Group) -> DigestLayout {
    let (prefix, organization_id, account_id, region, trail_name, home_region) = group.clone();
    DigestLayout {
        prefix,
        organization_id,
        account_id,
        region,
        trail_name,
        home_region,
    }
}

/// Digest keys grouped by trail and region, narrowed by the filters.
fn group_digests<'k>(
    keys: impl IntoIterator<Item = &'k str>,
    args: &ValidateArgs,
) -> BTreeMap<Group, Vec<&'k str>> {
    let allowed = |list: &[String], value: &str| list.is_empty() || list.iter().any(|x| x == value);
    let mut groups: BTreeMap<Group, Vec<&str>> = BTreeMap::new();
    for key in keys {
        let info = keys::classify(key);
        if info.kind != KeyKind::Digest {
            continue;
        }
        let (Some(account), Some(region), Some(digest)) = (info.account, info.region, info.digest)
        else {
            continue;
        };
        if !allowed(&args.accounts, &account)
            || !allowed(&args.regions, &region)
            || !allowed(&args.trails, &digest.trail_name)
        {
            continue;
        }
        let group = (
            info.prefix,
            info.org_id,
            account,
            region,
            digest.trail_name,
            digest.home_region,
        );
        groups.entry(group).or_default().push(key);
    }
    groups
}

/// Walks one trail's chain in one region: the report, or why the walk
/// stopped (the outer error is the runtime's).
fn validate_trail(
    aws: &Aws,
    static_keys: Option<&StaticKeys>,
    layout: &DigestLayout,
    request: ValidationRequest,
) -> anyhow::Result<Result<Report, ChainError>> {
    let handle = aws.runtime.handle().clone();
    let store = S3Store::new(aws.s3.clone(), handle.clone());
    let keys: Box<dyn PublicKeySource + Send> = match static_keys {
        Some(keys) => Box::new(keys.clone()),
        None => Box::new(CloudTrailKeys::new(&aws.sdk, &layout.region, handle)),
    };
    // Validation blocks on each S3 call, so it runs on a blocking thread.
    let task = aws
        .runtime
        .spawn_blocking(move || validate(&store, keys.as_ref(), &request));
    aws.runtime.block_on(task).context("validation task failed")
}

/// Runs `trailguard validate`.
pub fn run(args: ValidateArgs) -> anyhow::Result<Outcome> {
    let since = args.since.as_start();
    let until = args
        .until
        .map_or_else(OffsetDateTime::now_utc, TimeArg::as_end);
    if since > until {
        bail!(
            "--since {} is after --until {}",
            format_display(since),
            format_display(until)
        );
    }
    let static_keys = args.public_key.as_deref().map(keys_from_file).transpose()?;
    let aws = Aws::connect()?;
    let listed = aws.list(&args.target)?;
    let groups = group_digests(listed.iter().map(|o| o.key.as_str()), &args);
    if groups.is_empty() {
        bail!(
            "no CloudTrail digest files under {} for the given --account/--region/--trail; is log file validation enabled on the trail?",
            args.target
        );
    }
    let mut out = std::io::stdout().lock();
    let mut outcome = Outcome::Clean;
    for (group, keys) in &groups {
        let layout = layout_of(group);
        let request = ValidationRequest {
            bucket: args.target.bucket.clone(),
            region: layout.region.clone(),
            digests: layout.select(keys.iter().copied(), since, until),
            since,
            until,
        };
        writeln!(
            out,
            "Validating log files for trail arn:aws:cloudtrail:{}:{}:trail/{} (region {}) between {} and {}\n",
            layout.home_region,
            layout.account_id,
            layout.trail_name,
            layout.region,
            format_display(since),
            format_display(until)
        )?;
        match validate_trail(&aws, static_keys.as_ref(), &layout, request)? {
            Ok(report) => {
                if args.verbose {
                    write!(out, "{}", report.verbose())?;
                } else {
                    write!(out, "{report}")?;
                }
                if !report.is_valid() {
                    outcome = outcome.max(Outcome::Found);
                }
            }
            Err(error) => {
                eprintln!(
                    "trailguard: validation of trail {} in {} stopped: {error}",
                    layout.trail_name, layout.region
                );
                outcome = Outcome::Failed;
            }
        }
    }
    out.flush()?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: ValidateArgs,
    }

    const D1: &str = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/07/10/111122223333_CloudTrail-Digest_us-east-1_main_us-east-1_20230710T110131Z.json.gz";
    const D2: &str = "p/AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2023/07/10/111122223333_CloudTrail-Digest_eu-west-1_main_us-east-1_20230710T110131Z.json.gz";
    const LOG: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/111122223333_CloudTrail_us-east-1_20230710T1045Z_x.json.gz";

    fn args(extra: &[&str]) -> ValidateArgs {
        let mut argv = vec!["t", "s3://b", "--since", "2023-07-10"];
        argv.extend_from_slice(extra);
        Wrapper::parse_from(argv).args
    }

    #[test]
    fn digests_are_grouped_per_trail_and_region() {
        let groups = group_digests([D1, D2, LOG], &args(&[]));
        assert_eq!(groups.len(), 2);
        let layouts: Vec<DigestLayout> = groups.keys().map(layout_of).collect();
        assert!(
            layouts
                .iter()
                .any(|l| l.region == "eu-west-1" && l.prefix.as_deref() == Some("p"))
        );
        assert!(groups.values().all(|keys| keys.len() == 1));
        let east = group_digests([D1, D2, LOG], &args(&["--region", "us-east-1"]));
        assert_eq!(east.values().flatten().copied().collect::<Vec<_>>(), [D1]);
        assert!(group_digests([D1, D2], &args(&["--trail", "other"])).is_empty());
    }
}
