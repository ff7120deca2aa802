//! `trailguard validate` against signed digest chains in moto S3, one test
//! per integrity outcome: each checks the exit code (0 when everything is
//! valid, 1 on any integrity failure, 2 when nothing could be validated)
//! and the `aws cloudtrail validate-logs`-style lines of the report.

mod common;

use common::integrity::{
    ACCOUNT, BUCKET, Hour, Stage, assert_output, deliver_hours, digest_line, header, log_line,
};
use testkit::cloudtrail::{FakeCloudTrail, Signer};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use trailguard_engine::integrity::DigestLayout;

const TRAIL: &str = "main";
const REGION: &str = "us-east-1";
/// The first digest; one more every hour.
const FIRST_END: OffsetDateTime = datetime!(2023-07-10 11:01:31 UTC);
const HOURS: usize = 5;
const LOGS: usize = 3;
/// A window holding all [`HOURS`] digests.
const SINCE: &str = "2023-07-10T10:00:00Z";
const UNTIL: &str = "2023-07-10T15:00:00Z";

fn trail(signer: &Signer) -> FakeCloudTrail {
    FakeCloudTrail::simple(BUCKET, TRAIL, signer.clone())
}

/// A stage holding [`HOURS`] hours of [`LOGS`] log files, signed by a key
/// the key file lists.
fn valid_trail(name: &str) -> (Stage, Vec<Hour>) {
    let signer = Signer::generate().unwrap();
    let stage = Stage::new(name, &[&signer]);
    let hours = deliver_hours(&mut trail(&signer), FIRST_END, HOURS, LOGS);
    stage.put_hours(&hours);
    (stage, hours)
}

fn main_header(since: &str, until: &str) -> String {
    header(ACCOUNT, REGION, TRAIL, since, until)
}

/// The summary's count line for `valid` of `total` files.
fn ratio(valid: usize, total: usize, name: &str) -> String {
    let mut line = format!("{valid}/{total} {name} files valid");
    if valid < total {
        line.push_str(&format!(", {}/{total} {name} files INVALID", total - valid));
    }
    line
}

fn counts(digests: (usize, usize), logs: (usize, usize)) -> String {
    format!(
        "{}\n{}",
        ratio(digests.0, digests.1, "digest"),
        ratio(logs.0, logs.1, "log")
    )
}

fn invalid_lines(stdout: &str) -> usize {
    stdout.lines().filter(|l| l.contains("\tINVALID: ")).count()
}

#[test]
fn a_valid_chain_over_several_hours_passes() {
    let (stage, hours) = valid_trail("validate-valid");

    let run = stage.validate(SINCE, UNTIL, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // The first digest starts at 10:01:31; the newest ends after --until.
    assert_eq!(
        run.stdout,
        format!(
            "{}\n\nResults requested for {SINCE} to {UNTIL}\nResults found for 2023-07-10T10:01:31Z to {UNTIL}:\n\n{}\n",
            main_header(SINCE, UNTIL),
            counts((HOURS, HOURS), (HOURS * LOGS, HOURS * LOGS))
        )
    );

    // --verbose lists every file: newest digest first, each followed by
    // the log files it lists.
    let verbose = stage.validate(SINCE, UNTIL, &["--verbose"]);
    assert_eq!(verbose.code, 0, "{}", verbose.stderr);
    let mut expected = Vec::new();
    for hour in hours.iter().rev() {
        expected.push(digest_line(&hour.digest_url(), "valid"));
        expected.extend(hour.logs.iter().map(|log| log_line(log, "valid")));
    }
    assert!(
        verbose
            .stdout
            .contains(&format!("\n\n{}\n\n", expected.join("\n"))),
        "{}",
        verbose.stdout
    );
}

#[test]
fn a_log_with_one_byte_changed_fails_its_hash() {
    let (stage, hours) = valid_trail("validate-byte");
    let log = &hours[2].logs[1];
    let mut content = log.content.clone();
    let at = content
        .windows(b"ListBuckets".len())
        .position(|w| w == b"ListBuckets")
        .unwrap();
    // "ListBuckets" becomes "Listbuckets": one byte, same length.
    content[at + 4] ^= 0x20;
    stage.rewrite_log(log.key(), &content);

    let run = stage.validate(SINCE, UNTIL, &[]);
    assert_output(
        &run,
        1,
        &[
            &log_line(log, "INVALID: hash value doesn't match"),
            &format!("Results requested for {SINCE} to {UNTIL}"),
            &counts((HOURS, HOURS), (HOURS * LOGS - 1, HOURS * LOGS)),
        ],
    );
    assert_eq!(invalid_lines(&run.stdout), 1, "{}", run.stdout);
}

#[test]
fn a_deleted_log_is_not_found() {
    let (stage, hours) = valid_trail("validate-log-gone");
    let log = &hours[3].logs[0];
    stage.delete(log.key());

    let run = stage.validate(SINCE, UNTIL, &[]);
    assert_output(
        &run,
        1,
        &[
            &log_line(log, "INVALID: not found"),
            &counts((HOURS, HOURS), (HOURS * LOGS - 1, HOURS * LOGS)),
        ],
    );
    assert_eq!(invalid_lines(&run.stdout), 1, "{}", run.stdout);
}

#[test]
fn a_digest_deleted_mid_chain_is_not_found_and_older_ones_still_validate() {
    let (stage, hours) = valid_trail("validate-digest-gone");
    stage.delete(&hours[2].digest.object.key);

    let run = stage.validate(SINCE, UNTIL, &["--verbose"]);
    assert_output(
        &run,
        1,
        &[
            &digest_line(&hours[3].digest_url(), "valid"),
            &digest_line(&hours[2].digest_url(), "INVALID: not found"),
            // The walk resumes at the next older listed digest.
            &digest_line(&hours[1].digest_url(), "valid"),
            &digest_line(&hours[0].digest_url(), "valid"),
            &counts((HOURS - 1, HOURS), (LOGS * (HOURS - 1), LOGS * (HOURS - 1))),
        ],
    );
    // The lost digest's log files cannot be checked, so are not counted.
    for log in &hours[2].logs {
        assert!(!run.stdout.contains(log.key()), "{}", run.stdout);
    }
}

#[test]
fn a_digest_signed_with_another_key_fails_verification() {
    let signer = Signer::generate().unwrap();
    let forger = Signer::generate().unwrap();
    let stage = Stage::new("validate-forged", &[&signer]);
    let mut trail = trail(&signer);
    let mut hours = deliver_hours(&mut trail, FIRST_END, 2, LOGS);
    // The third digest names the trail's key but is signed with another.
    trail.forge_with(forger);
    hours.extend(deliver_hours(
        &mut trail,
        FIRST_END + Duration::hours(2),
        1,
        LOGS,
    ));
    trail.forge_with(signer);
    hours.extend(deliver_hours(
        &mut trail,
        FIRST_END + Duration::hours(3),
        2,
        LOGS,
    ));
    stage.put_hours(&hours);

    let run = stage.validate(SINCE, UNTIL, &["--verbose"]);
    assert_output(
        &run,
        1,
        &[
            &digest_line(
                &hours[2].digest_url(),
                "INVALID: signature verification failed",
            ),
            &digest_line(&hours[1].digest_url(), "valid"),
            &counts((HOURS - 1, HOURS), (LOGS * (HOURS - 1), LOGS * (HOURS - 1))),
        ],
    );
    assert_eq!(invalid_lines(&run.stdout), 1, "{}", run.stdout);
}

#[test]
fn a_digest_signed_by_a_key_missing_from_the_key_set_is_unverifiable() {
    let old = Signer::generate().unwrap();
    let new = Signer::generate().unwrap();
    let stage = Stage::new("validate-rotated", &[&old]);
    let mut trail = trail(&old);
    let mut hours = deliver_hours(&mut trail, FIRST_END, 3, LOGS);
    trail.rotate_signer(new.clone());
    hours.extend(deliver_hours(
        &mut trail,
        FIRST_END + Duration::hours(3),
        2,
        LOGS,
    ));
    stage.put_hours(&hours);

    let not_found = format!(
        "INVALID: public key not found in region {REGION} for fingerprint {}",
        new.fingerprint()
    );
    let run = stage.validate(SINCE, UNTIL, &[]);
    assert_output(
        &run,
        1,
        &[
            &digest_line(&hours[4].digest_url(), &not_found),
            &digest_line(&hours[3].digest_url(), &not_found),
            &counts((3, HOURS), (3 * LOGS, 3 * LOGS)),
        ],
    );
    assert_eq!(invalid_lines(&run.stdout), 2, "{}", run.stdout);

    // With the rotated key listed too, the whole chain verifies.
    stage.set_keys(&[&old, &new]);
    let run = stage.validate(SINCE, UNTIL, &[]);
    assert_output(
        &run,
        0,
        &[&counts((HOURS, HOURS), (HOURS * LOGS, HOURS * LOGS))],
    );
}

#[test]
fn a_digest_moved_to_another_key_is_reported_moved_and_its_place_not_found() {
    let signer = Signer::generate().unwrap();
    let stage = Stage::new("validate-moved", &[&signer]);
    let mut trail = trail(&signer);
    let hours = deliver_hours(&mut trail, FIRST_END, HOURS, LOGS);
    stage.put_hours(&hours);
    // Renamed as if delivered half an hour earlier, so listed in the window.
    let moved = &hours[2].digest;
    let to = trail
        .layout
        .digest_key(FIRST_END + Duration::hours(2) - Duration::minutes(30));
    stage.put_at(&to, moved);
    stage.delete(&moved.object.key);

    let run = stage.validate(SINCE, UNTIL, &[]);
    assert_output(
        &run,
        1,
        &[
            &digest_line(&hours[2].digest_url(), "INVALID: not found"),
            &digest_line(
                &format!("s3://{BUCKET}/{to}"),
                "INVALID: has been moved from its original location",
            ),
            &counts(
                (HOURS - 1, HOURS + 1),
                (LOGS * (HOURS - 1), LOGS * (HOURS - 1)),
            ),
        ],
    );
    assert_eq!(invalid_lines(&run.stdout), 2, "{}", run.stdout);
}

#[test]
fn since_and_until_choose_the_digests_validated() {
    let (stage, hours) = valid_trail("validate-window");
    // Damage the first and the last hour; the window below holds neither.
    for log in [&hours[0].logs[0], &hours[4].logs[2]] {
        stage.rewrite_log(log.key(), br#"{"Records":[]}"#);
    }

    let (since, until) = ("2023-07-10T12:30:00Z", "2023-07-10T13:30:00Z");
    let window = stage.validate(since, until, &["--verbose"]);
    assert_output(
        &window,
        0,
        &[
            &main_header(since, until),
            // The digests ending 13:01:31 and 14:01:31 (the latter covers
            // 13:01:31-14:01:31, so holds events up to --until).
            &digest_line(&hours[3].digest_url(), "valid"),
            &digest_line(&hours[2].digest_url(), "valid"),
            &format!("Results requested for {since} to {until}"),
            &format!("Results found for {since} to {until}:"),
            &counts((2, 2), (2 * LOGS, 2 * LOGS)),
        ],
    );
    for outside in [&hours[0], &hours[1], &hours[4]] {
        assert!(
            !window.stdout.contains(&outside.digest.object.key),
            "{}",
            window.stdout
        );
    }

    // A bare date is that whole day.
    let day = stage.validate("2023-07-10", "2023-07-10", &[]);
    assert_output(
        &day,
        1,
        &[
            "Results requested for 2023-07-10T00:00:00Z to 2023-07-11T00:00:00Z",
            &log_line(&hours[0].logs[0], "INVALID: hash value doesn't match"),
            &log_line(&hours[4].logs[2], "INVALID: hash value doesn't match"),
            &counts((HOURS, HOURS), (HOURS * LOGS - 2, HOURS * LOGS)),
        ],
    );
}

#[test]
fn account_region_and_trail_filters_pick_the_chains_validated() {
    let signer = Signer::generate().unwrap();
    let stage = Stage::new("validate-filters", &[&signer]);
    let layout = |account: &str, region: &str| DigestLayout {
        prefix: None,
        organization_id: None,
        account_id: account.into(),
        region: region.into(),
        trail_name: TRAIL.into(),
        home_region: REGION.into(),
    };
    const OTHER: &str = "444455556666";
    let chains = [(ACCOUNT, REGION), (ACCOUNT, "eu-west-1"), (OTHER, REGION)];
    let mut delivered = Vec::new();
    for (account, region) in chains {
        let mut trail = FakeCloudTrail::new(BUCKET, layout(account, region), signer.clone());
        let hours = deliver_hours(&mut trail, FIRST_END, 2, 1);
        stage.put_hours(&hours);
        delivered.push(hours);
    }
    // Only the eu-west-1 chain has a bad log file.
    let bad = &delivered[1][0].logs[0];
    stage.rewrite_log(bad.key(), br#"{"Records":[]}"#);
    let bad_line = log_line(bad, "INVALID: hash value doesn't match");
    let headers = |run: &common::Run| {
        chains
            .iter()
            .filter(|(account, region)| {
                run.stdout
                    .contains(&header(account, region, TRAIL, SINCE, UNTIL))
            })
            .copied()
            .collect::<Vec<_>>()
    };

    let all = stage.validate(SINCE, UNTIL, &[]);
    assert_output(&all, 1, &[&bad_line]);
    assert_eq!(headers(&all), chains);

    let east = stage.validate(SINCE, UNTIL, &["--region", REGION]);
    assert_output(&east, 0, &[]);
    assert_eq!(headers(&east), [chains[0], chains[2]]);

    let other = stage.validate(SINCE, UNTIL, &["--account", OTHER]);
    assert_output(&other, 0, &[&counts((2, 2), (2, 2))]);
    assert_eq!(headers(&other), [chains[2]]);

    let west = stage.validate(
        SINCE,
        UNTIL,
        &[
            "--account",
            ACCOUNT,
            "--region",
            "eu-west-1",
            "--trail",
            TRAIL,
        ],
    );
    assert_output(&west, 1, &[&bad_line, &counts((2, 2), (1, 2))]);
    assert_eq!(headers(&west), [chains[1]]);

    // Filters that match no digest leave nothing to validate.
    for filter in [["--region", "ap-south-1"], ["--trail", "other"]] {
        let nothing = stage.validate(SINCE, UNTIL, &filter);
        assert_eq!(nothing.code, 2, "{}", nothing.stdout);
        assert!(
            nothing.stderr.contains("no CloudTrail digest files"),
            "{}",
            nothing.stderr
        );
    }
}
