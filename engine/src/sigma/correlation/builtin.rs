//! The built-in correlation rules and the rules they count.
//!
//! Each file under `engine/rules/sigma-correlations/` holds one or more
//! correlation documents and the detection documents they reference
//! (`generate: false`, so those report only through the correlation).
//! `trailguard_*` files are trailguard's; `sigmahq_*` files rewrite
//! SigmaHQ's `unsupported/` AWS rules as Sigma v2 correlations (see
//! `NOTICE.md` there). A test checks the list names every `.yml` file.

/// `(file name, YAML text)` of every built-in correlation file, in
/// file-name order.
pub const CORRELATION_FILES: &[(&str, &str)] = &[
    (
        "sigmahq_aws_ec2_download_userdata.yml",
        include_str!("../../../rules/sigma-correlations/sigmahq_aws_ec2_download_userdata.yml"),
    ),
    (
        "sigmahq_aws_enum_backup.yml",
        include_str!("../../../rules/sigma-correlations/sigmahq_aws_enum_backup.yml"),
    ),
    (
        "sigmahq_aws_enum_listing.yml",
        include_str!("../../../rules/sigma-correlations/sigmahq_aws_enum_listing.yml"),
    ),
    (
        "sigmahq_aws_enum_network.yml",
        include_str!("../../../rules/sigma-correlations/sigmahq_aws_enum_network.yml"),
    ),
    (
        "sigmahq_aws_enum_storage.yml",
        include_str!("../../../rules/sigma-correlations/sigmahq_aws_enum_storage.yml"),
    ),
    (
        "sigmahq_aws_lambda_function_created_or_invoked.yml",
        include_str!(
            "../../../rules/sigma-correlations/sigmahq_aws_lambda_function_created_or_invoked.yml"
        ),
    ),
    (
        "sigmahq_aws_macic_evasion.yml",
        include_str!("../../../rules/sigma-correlations/sigmahq_aws_macic_evasion.yml"),
    ),
    (
        "sigmahq_aws_ses_messaging_enabled.yml",
        include_str!("../../../rules/sigma-correlations/sigmahq_aws_ses_messaging_enabled.yml"),
    ),
    (
        "trailguard_access_denied_reconnaissance.yml",
        include_str!(
            "../../../rules/sigma-correlations/trailguard_access_denied_reconnaissance.yml"
        ),
    ),
    (
        "trailguard_console_login_brute_force.yml",
        include_str!("../../../rules/sigma-correlations/trailguard_console_login_brute_force.yml"),
    ),
    (
        "trailguard_discovery_burst.yml",
        include_str!("../../../rules/sigma-correlations/trailguard_discovery_burst.yml"),
    ),
    (
        "trailguard_iam_backdoor_user_sequence.yml",
        include_str!("../../../rules/sigma-correlations/trailguard_iam_backdoor_user_sequence.yml"),
    ),
    (
        "trailguard_mass_secret_retrieval.yml",
        include_str!("../../../rules/sigma-correlations/trailguard_mass_secret_retrieval.yml"),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_correlation_file_once_in_order() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules/sigma-correlations");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("rules/sigma-correlations exists")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|name| name.ends_with(".yml"))
            .collect();
        on_disk.sort();
        let listed: Vec<&str> = CORRELATION_FILES.iter().map(|(name, _)| *name).collect();
        assert_eq!(listed, on_disk);
    }
}
