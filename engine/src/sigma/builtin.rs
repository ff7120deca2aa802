//! The SigmaHQ AWS CloudTrail rules shipped in the binary.
//!
//! Each file under `engine/rules/sigma/` is embedded as written (see
//! `NOTICE.md` there for origin and licence). The list is explicit rather than
//! generated so that the set of built-in rules is visible in review; a test
//! checks that it names every `.yml` file in the directory.

/// `(file name, YAML text)` of every built-in Sigma rule, in file-name order.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "aws_cloudtrail_bedrock_guardrail_deleted.yml",
        include_str!("../../rules/sigma/aws_cloudtrail_bedrock_guardrail_deleted.yml"),
    ),
    (
        "aws_cloudtrail_bedrock_guardrail_updated.yml",
        include_str!("../../rules/sigma/aws_cloudtrail_bedrock_guardrail_updated.yml"),
    ),
    (
        "aws_cloudtrail_bucket_deleted.yml",
        include_str!("../../rules/sigma/aws_cloudtrail_bucket_deleted.yml"),
    ),
    (
        "aws_cloudtrail_console_login_failed_authentication.yml",
        include_str!("../../rules/sigma/aws_cloudtrail_console_login_failed_authentication.yml"),
    ),
    (
        "aws_cloudtrail_console_login_success_without_mfa.yml",
        include_str!("../../rules/sigma/aws_cloudtrail_console_login_success_without_mfa.yml"),
    ),
    (
        "aws_cloudtrail_disable_logging.yml",
        include_str!("../../rules/sigma/aws_cloudtrail_disable_logging.yml"),
    ),
    (
        "aws_cloudtrail_guardduty_detector_deleted_or_updated.yml",
        include_str!("../../rules/sigma/aws_cloudtrail_guardduty_detector_deleted_or_updated.yml"),
    ),
    (
        "aws_cloudtrail_imds_malicious_usage.yml",
        include_str!("../../rules/sigma/aws_cloudtrail_imds_malicious_usage.yml"),
    ),
    (
        "aws_cloudtrail_new_acl_entries.yml",
        include_str!("../../rules/sigma/aws_cloudtrail_new_acl_entries.yml"),
    ),
    (
        "aws_cloudtrail_new_route_added.yml",
        include_str!("../../rules/sigma/aws_cloudtrail_new_route_added.yml"),
    ),
    (
        "aws_cloudtrail_pua_trufflehog.yml",
        include_str!("../../rules/sigma/aws_cloudtrail_pua_trufflehog.yml"),
    ),
    (
        "aws_cloudtrail_region_enabled.yml",
        include_str!("../../rules/sigma/aws_cloudtrail_region_enabled.yml"),
    ),
    (
        "aws_cloudtrail_security_group_change_ingress_egress.yml",
        include_str!("../../rules/sigma/aws_cloudtrail_security_group_change_ingress_egress.yml"),
    ),
    (
        "aws_cloudtrail_security_group_change_loadbalancer.yml",
        include_str!("../../rules/sigma/aws_cloudtrail_security_group_change_loadbalancer.yml"),
    ),
    (
        "aws_cloudtrail_security_group_change_rds.yml",
        include_str!("../../rules/sigma/aws_cloudtrail_security_group_change_rds.yml"),
    ),
    (
        "aws_cloudtrail_ssm_malicious_usage.yml",
        include_str!("../../rules/sigma/aws_cloudtrail_ssm_malicious_usage.yml"),
    ),
    (
        "aws_cloudtrail_vpc_flow_logs_deleted.yml",
        include_str!("../../rules/sigma/aws_cloudtrail_vpc_flow_logs_deleted.yml"),
    ),
    (
        "aws_config_disable_recording.yml",
        include_str!("../../rules/sigma/aws_config_disable_recording.yml"),
    ),
    (
        "aws_console_getsignintoken.yml",
        include_str!("../../rules/sigma/aws_console_getsignintoken.yml"),
    ),
    (
        "aws_delete_identity.yml",
        include_str!("../../rules/sigma/aws_delete_identity.yml"),
    ),
    (
        "aws_delete_saml_provider.yml",
        include_str!("../../rules/sigma/aws_delete_saml_provider.yml"),
    ),
    (
        "aws_disable_bucket_versioning.yml",
        include_str!("../../rules/sigma/aws_disable_bucket_versioning.yml"),
    ),
    (
        "aws_ec2_disable_encryption.yml",
        include_str!("../../rules/sigma/aws_ec2_disable_encryption.yml"),
    ),
    (
        "aws_ec2_import_key_pair_activity.yml",
        include_str!("../../rules/sigma/aws_ec2_import_key_pair_activity.yml"),
    ),
    (
        "aws_ec2_startup_script_change.yml",
        include_str!("../../rules/sigma/aws_ec2_startup_script_change.yml"),
    ),
    (
        "aws_ec2_vm_export_failure.yml",
        include_str!("../../rules/sigma/aws_ec2_vm_export_failure.yml"),
    ),
    (
        "aws_ecs_task_definition_cred_endpoint_query.yml",
        include_str!("../../rules/sigma/aws_ecs_task_definition_cred_endpoint_query.yml"),
    ),
    (
        "aws_efs_fileshare_modified_or_deleted.yml",
        include_str!("../../rules/sigma/aws_efs_fileshare_modified_or_deleted.yml"),
    ),
    (
        "aws_efs_fileshare_mount_modified_or_deleted.yml",
        include_str!("../../rules/sigma/aws_efs_fileshare_mount_modified_or_deleted.yml"),
    ),
    (
        "aws_eks_cluster_created_or_deleted.yml",
        include_str!("../../rules/sigma/aws_eks_cluster_created_or_deleted.yml"),
    ),
    (
        "aws_elasticache_security_group_created.yml",
        include_str!("../../rules/sigma/aws_elasticache_security_group_created.yml"),
    ),
    (
        "aws_elasticache_security_group_modified_or_deleted.yml",
        include_str!("../../rules/sigma/aws_elasticache_security_group_modified_or_deleted.yml"),
    ),
    (
        "aws_enum_buckets.yml",
        include_str!("../../rules/sigma/aws_enum_buckets.yml"),
    ),
    (
        "aws_guardduty_disruption.yml",
        include_str!("../../rules/sigma/aws_guardduty_disruption.yml"),
    ),
    (
        "aws_iam_backdoor_users_keys.yml",
        include_str!("../../rules/sigma/aws_iam_backdoor_users_keys.yml"),
    ),
    (
        "aws_iam_s3browser_loginprofile_creation.yml",
        include_str!("../../rules/sigma/aws_iam_s3browser_loginprofile_creation.yml"),
    ),
    (
        "aws_iam_s3browser_templated_s3_bucket_policy_creation.yml",
        include_str!("../../rules/sigma/aws_iam_s3browser_templated_s3_bucket_policy_creation.yml"),
    ),
    (
        "aws_iam_s3browser_user_or_accesskey_creation.yml",
        include_str!("../../rules/sigma/aws_iam_s3browser_user_or_accesskey_creation.yml"),
    ),
    (
        "aws_kms_import_key_material.yml",
        include_str!("../../rules/sigma/aws_kms_import_key_material.yml"),
    ),
    (
        "aws_lambda_function_url.yml",
        include_str!("../../rules/sigma/aws_lambda_function_url.yml"),
    ),
    (
        "aws_new_lambda_layer_attached.yml",
        include_str!("../../rules/sigma/aws_new_lambda_layer_attached.yml"),
    ),
    (
        "aws_passed_role_to_glue_development_endpoint.yml",
        include_str!("../../rules/sigma/aws_passed_role_to_glue_development_endpoint.yml"),
    ),
    (
        "aws_rds_change_master_password.yml",
        include_str!("../../rules/sigma/aws_rds_change_master_password.yml"),
    ),
    (
        "aws_rds_dbcluster_actions.yml",
        include_str!("../../rules/sigma/aws_rds_dbcluster_actions.yml"),
    ),
    (
        "aws_rds_public_db_restore.yml",
        include_str!("../../rules/sigma/aws_rds_public_db_restore.yml"),
    ),
    (
        "aws_root_account_usage.yml",
        include_str!("../../rules/sigma/aws_root_account_usage.yml"),
    ),
    (
        "aws_route_53_domain_transferred_lock_disabled.yml",
        include_str!("../../rules/sigma/aws_route_53_domain_transferred_lock_disabled.yml"),
    ),
    (
        "aws_route_53_domain_transferred_to_another_account.yml",
        include_str!("../../rules/sigma/aws_route_53_domain_transferred_to_another_account.yml"),
    ),
    (
        "aws_s3_data_management_tampering.yml",
        include_str!("../../rules/sigma/aws_s3_data_management_tampering.yml"),
    ),
    (
        "aws_securityhub_finding_evasion.yml",
        include_str!("../../rules/sigma/aws_securityhub_finding_evasion.yml"),
    ),
    (
        "aws_snapshot_backup_exfiltration.yml",
        include_str!("../../rules/sigma/aws_snapshot_backup_exfiltration.yml"),
    ),
    (
        "aws_sso_idp_change.yml",
        include_str!("../../rules/sigma/aws_sso_idp_change.yml"),
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        include_str!("../../rules/sigma/aws_sts_assumerole_misuse.yml"),
    ),
    (
        "aws_sts_getcalleridentity_trufflehog.yml",
        include_str!("../../rules/sigma/aws_sts_getcalleridentity_trufflehog.yml"),
    ),
    (
        "aws_sts_getsessiontoken_misuse.yml",
        include_str!("../../rules/sigma/aws_sts_getsessiontoken_misuse.yml"),
    ),
    (
        "aws_susp_saml_activity.yml",
        include_str!("../../rules/sigma/aws_susp_saml_activity.yml"),
    ),
    (
        "aws_update_login_profile.yml",
        include_str!("../../rules/sigma/aws_update_login_profile.yml"),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_rule_file_once_in_order() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules/sigma");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("rules/sigma exists")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|name| name.ends_with(".yml"))
            .collect();
        on_disk.sort();
        let listed: Vec<&str> = BUILTIN_FILES.iter().map(|(name, _)| *name).collect();
        assert_eq!(listed, on_disk);
    }

    #[test]
    fn embedded_text_is_the_file() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules/sigma");
        for (name, text) in BUILTIN_FILES {
            let on_disk = std::fs::read_to_string(format!("{dir}/{name}")).expect("file reads");
            assert_eq!(*text, on_disk, "{name}");
        }
    }
}
