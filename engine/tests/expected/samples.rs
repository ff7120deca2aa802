//! What trailguard finds in the bundled sample logs
//! (`engine/tests/data/invictus-stratus/`, Stratus Red Team detonations),
//! written down once and included by every test that checks it: the rule
//! tests here, the notifier and the CLI. Each group names the technique or
//! activity behind it, identified from the records themselves.
#![allow(dead_code)]

/// The findings the rules raise on the samples, as (rule id, eventIDs),
/// grouped by the Stratus Red Team technique whose run produced the records.
/// A run includes its Terraform warm-up, whose user agent carries the same
/// `stratus-red-team_<run id>` suffix as the detonation's. The samples come
/// from one account, so "own account" in the comments is 123837392027.
pub const DETECTIONS_ON_SAMPLES: &[(&str, &[&str])] = &[
    // aws.defense-evasion.cloudtrail-stop: three runs, each calling StopLogging on a
    // trail already torn down (TrailNotFoundException); attempts count.
    (
        "cloudtrail-logging-stopped",
        &[
            "9790ee84-ed2b-4866-83d1-f32af0dd4cd2",
            "b4610d54-efe9-40b0-b9f9-71156081d520",
            "f6e10706-705c-47f2-94d4-112a9527ab8b",
        ],
    ),
    // aws.defense-evasion.cloudtrail-event-selectors: PutEventSelectors turning off
    // management events on the trail made in the warm-up.
    (
        "cloudtrail-trail-modified",
        &["076e96d5-2983-473f-920a-2fc2d7e02777"],
    ),
    // aws.defense-evasion.vpc-remove-flow-logs: DeleteFlowLogs on the warm-up's flow
    // log. (The warm-up's role for the flow-logs service does not match.)
    (
        "vpc-flow-logs-deleted",
        &["de58d903-38d7-4f30-a84b-b79d858e8376"],
    ),
    // aws.credential-access.ec2-get-password-data, warm-up: Terraform creates the
    // role to detonate from, trusting the own account ("AWS": "123837392027"),
    // a same-account trust the rule cannot tell from an external one.
    (
        "iam-role-trust-policy-opened",
        &["ff709962-49b6-494d-8198-cdf0f7e8e666"],
    ),
    // aws.credential-access.ec2-get-password-data, detonation: 29 GetPasswordData
    // calls from a role without the permission, all denied.
    (
        "ec2-password-data-retrieved",
        &[
            "00d955a7-4797-46c4-ba50-ed0c81867020",
            "2ec37c12-94b8-4df5-813b-98bca0fb0edb",
            "97178d6a-6cf7-49f9-b116-a189a06c3295",
            "ae9a706f-d8a4-4e50-9043-22b2a03f481c",
            "00d3d82b-5ed2-4044-9eeb-172cbb1a0e15",
            "08311ac7-7ffe-4fd5-8f76-d54260acfe8a",
            "17bcb09d-cf97-4c01-b74b-b7374fb0fc39",
            "7a6c0f34-0aab-489e-8904-a9967b00bb57",
            "dced01c3-013d-4908-b78a-5f67134f5930",
            "ecaf7f4b-a4b2-40fb-a5dd-328ade49c78e",
            "edd129b5-0aa6-4425-a055-8d9056d3e4da",
            "efc266f5-dc3c-4472-b055-8eeab5a620a7",
            "fbd91225-39aa-4c00-822c-9f0b96e7758f",
            "048b9b80-8889-4b45-916e-7d13b423db78",
            "1cf7422a-d20c-43ec-827f-4a5db6993bfa",
            "21332146-2cf3-4379-9557-361c8fa0d0a0",
            "5449095d-1ed7-4cf8-8805-6143fb983a80",
            "6c7bb2b3-9372-4cc8-b78e-f0d2ec268672",
            "a4e6ee98-8c78-4de3-8b5b-68f959b40fec",
            "b09f3d78-e57c-41fc-89fc-67d7d51c1834",
            "cff3355c-4d4d-44de-b7ad-a5bfb7ba901b",
            "e6341c58-9378-4445-9f85-4023c0bd9990",
            "03fefdcd-4329-43e2-bf44-c74bb1826d58",
            "7ca643a5-df2c-4a60-b198-7eaf448e8da0",
            "cfdb926f-8f87-44ea-8b73-125efb2fa78a",
            "d101d2ec-d5f4-4407-986b-79c6fa427540",
            "d43a2b5b-ba1d-4219-be2f-52a3635839f9",
            "ef910749-ef9a-42f3-adfd-347c625f7e1d",
            "fe3a4c29-c070-487e-a15e-b9b6a853e7b4",
        ],
    ),
    // aws.discovery.ec2-download-user-data: 15 DescribeInstanceAttribute userData
    // calls on made-up instance ids, all denied.
    (
        "ec2-user-data-read",
        &[
            "91bc9d28-e014-49d4-ac84-bcee8d219c72",
            "947bc2bc-d5d6-46c8-a1a3-ca190fa1f17a",
            "b1866d2a-a46b-4d8e-b3a9-9ccc330f64af",
            "b6897c0f-d765-4695-8884-6d6ed7a63722",
            "c6cc6589-4aa3-45e3-a646-6a0e3dbc05b6",
            "f4574dc5-9747-435c-bb53-22f2454be3b7",
            "1ce351c0-4de6-4022-b29c-27280f27e85b",
            "339403fe-d01e-4fb2-ab9a-ffa78e576876",
            "67727e18-a012-4d75-bedd-a2ef963b43c2",
            "bb66d584-375e-41a5-aa57-9c87161b5eb5",
            "becab99b-3ae7-4c7a-b923-d2c407b85ddd",
            "156fe62a-498c-4a54-b91f-5a7bc51b470e",
            "9f225158-b341-4ed2-bc69-18f8274d1f1f",
            "ceb35bc6-147d-4753-8901-56b1d3325cf0",
            "fb5e67f9-9a17-4efa-900f-21ecd1ca744b",
        ],
    ),
    // Not a finding: in aws.credential-access.ec2-steal-instance-credentials'
    // warm-up, Terraform reads back the user data of the instance it launched
    // (8d919374-...), routine for Terraform (see the rule).
    // ... then the stolen instance-role credentials used from the attacker's
    // address: GetCallerIdentity by a session named after the instance.
    (
        "ec2-instance-credentials-discovery",
        &["bf68f8c0-590b-4740-ac89-aad0ed5dfe4f"],
    ),
    // aws.credential-access.ec2-steal-instance-credentials, detonation: SendCommand
    // running a shell script on that instance.
    (
        "ssm-command-sent",
        &["99b46479-d5c7-4384-b342-006ece8c36a0"],
    ),
    // aws.credential-access.secretsmanager-retrieve-secrets: Terraform reading
    // back each of the 20 secrets it creates, then the detonation reading all
    // 20 with GetSecretValue.
    (
        "secretsmanager-secret-retrieved",
        &[
            "04e99aef-c0da-410b-91d5-4ff900bdc32e",
            "0bdf2b9c-2cf9-40dd-a88b-0148e08e5a75",
            "17c493f4-57b0-4b55-9938-a751b7b6e755",
            "1efcb002-cee7-4e37-9e66-356e14afe36a",
            "2b460bcc-34b1-4fe0-9273-ff57ef3caa2d",
            "2b4d4794-d4e8-44e9-8dcd-a1806015a8d5",
            "3436ce9f-1ab8-4df5-b49c-11b7d659f4ef",
            "5e2ae5c5-ac04-419b-bb18-693f6f0386a1",
            "6412e41a-5796-4052-a4ac-ea9ea550af4c",
            "6ca65bd0-8903-4cf9-9d18-7c25bfa6b13f",
            "79bba53b-7483-4ff7-84eb-fb59085e0b02",
            "841e07b3-b243-4723-a08a-2a51e00a423d",
            "8599c507-ac70-4fca-ae78-58ebbae19220",
            "85e95437-4c87-4d2a-849c-2f782e8af648",
            "8e46a8e8-9175-42a0-8db5-2be95facf192",
            "9150114f-a5ec-4324-a169-63a28a4dfdb0",
            "a33475af-85fb-42f9-8d89-4a797454f8f6",
            "a8b02471-826c-4d94-a890-b25559bff3b8",
            "bc357ffe-2ab5-40c8-a133-17196efdf301",
            "c0a24f36-da17-4679-91cb-d5fb1f3a1f82",
            "f4108991-868e-42a0-b6d5-175ea45e64f4",
            "08679fd1-5117-4df5-ac1f-b9e4eecb882e",
            "401a892a-c8ab-4ee4-b409-23175ce72d52",
            "4b173618-da95-48a9-b2dd-67a5a881bf4f",
            "689e7fcf-a97f-4dc9-affc-95fba9e640e0",
            "9a88ba52-bdb0-4ef4-8e5d-91fdae91da26",
            "a63ddf5b-e32d-4b95-8109-16b496ae64cf",
            "ce2e992f-5103-41de-8768-fba65aa3aa60",
            "f00bf4c2-e724-45ef-a004-fc7bc3b00a29",
            "ff6dd695-ae1a-4506-b2da-0d90ec179e92",
            "31bef8eb-8f2c-470f-93f4-1a3260cbf9da",
            "39e25ce7-7c4c-442a-8a07-e52a0d5522a6",
            "5b0d6131-d490-458f-be9c-8175fd525d99",
            "763be5bd-39d6-42fe-ac9b-42992fed40e7",
            "8d2be0f3-1ff7-49e9-a947-6cd786a477ab",
            "c94bd4b3-c126-4dc0-8feb-3832cc7f3054",
            "cff19e6e-21a5-4d3e-aab1-78ff1056d3c6",
            "d173a29b-ba0d-48d8-b723-5c2a806981af",
            "7152fe15-149b-4cee-871b-7ef857d376c4",
            "90654a3c-92c3-4e33-bf64-31dc78ab964d",
        ],
    ),
    // aws.credential-access.ssm-retrieve-securestring-parameters: Terraform
    // reading its SecureString parameters back with decryption (26 calls in
    // these files), then the detonation decrypting them ten at a time with
    // GetParameters (4 calls).
    (
        "ssm-parameter-decrypted",
        &[
            "25812ee9-136d-47dc-8848-22b9ca8fd5b7",
            "67abd71f-fa4a-4de8-b730-8fe404fb71ed",
            "736cbe1d-d978-4599-ba4c-a4d682b908b8",
            "c8c4cf22-3bc8-42da-8b48-73633d713062",
            "eae63ce9-a909-4ddf-aac0-35ed1e65bb54",
            "f219fdf3-ffa1-40b8-95da-31f52eb3af1f",
            "88f7b7a5-96e8-449f-ad08-5268a567d26d",
            "96553764-7e62-4af2-ad5b-7c2324cf5bd3",
            "9b1ed87f-67db-4e4b-aeec-2a2f74e43249",
            "c5f43549-dec5-4ac2-b4be-73f92446035f",
            "f9c88549-650e-4a61-8de7-303c7fad0a24",
            "f24ace9f-b2ee-44d2-a5ef-5c98ee81c327",
            "8da61b75-49b2-4fb1-b88c-9384c1c32371",
            "7768b8c9-525f-4402-849c-97039b554c5a",
            "79968052-f5c4-4b3e-bffa-d5b7198b8399",
            "8e7e06bf-8c6c-4736-9f6e-84dc1dffdd3a",
            "ed562375-3703-4d89-ba15-cade9339de0e",
            "6212ab4e-2c43-41ed-9761-d05650beb6f2",
            "a55aa582-781c-4c3b-8aee-5448ef3b92d0",
            "3bd9831a-991f-4666-a550-1840a71ac3b5",
            "665bb28e-d5f0-4406-a76e-e32bee93a29a",
            "48835def-f657-47e3-a2e2-3a6917df2ae4",
            "631653e4-36fa-4b78-9117-0116bfa0ee96",
            "6b8bb234-6b99-4e5f-8ad4-1023db744347",
            "6c7faaef-59d9-4521-a4a6-3239b180018d",
            "de5e22ab-a624-4f34-8c49-9efc03fbf929",
            "11badb48-54ce-433e-bef6-40e3a2cf02fe",
            "928546c4-79d3-4f9e-aec5-319ef6685cde",
            "7622e55c-d219-46c4-b344-a6febed98511",
            "bb3871a9-5a79-4424-bccc-c98472df7853",
        ],
    ),
];

/// Every `(rule file, eventID)` match in the samples. The samples are
/// Invictus IR's recording of Stratus Red Team detonations (plus the
/// Terraform warm-up, AWS services and console use around them); each group
/// says which activity the records are. Techniques in the samples that no
/// SigmaHQ rule covers include `cloudtrail-event-selectors`
/// (PutEventSelectors), `secretsmanager-retrieve-secrets` (GetSecretValue)
/// and `ssm-retrieve-securestring-parameters` (GetParameters).
pub const SIGMA_ON_SAMPLES: &[(&str, &str)] = &[
    // aws.defense-evasion.cloudtrail-stop: three StopLogging calls on
    // `stratus-red-team-ct-stop-trail-*`. All failed (TrailNotFoundException);
    // the rule does not look at errorCode.
    (
        "aws_cloudtrail_disable_logging.yml",
        "9790ee84-ed2b-4866-83d1-f32af0dd4cd2",
    ),
    (
        "aws_cloudtrail_disable_logging.yml",
        "b4610d54-efe9-40b0-b9f9-71156081d520",
    ),
    (
        "aws_cloudtrail_disable_logging.yml",
        "f6e10706-705c-47f2-94d4-112a9527ab8b",
    ),
    // aws.defense-evasion.vpc-remove-flow-logs: DeleteFlowLogs.
    (
        "aws_cloudtrail_vpc_flow_logs_deleted.yml",
        "de58d903-38d7-4f30-a84b-b79d858e8376",
    ),
    // aws.credential-access.ec2-steal-instance-credentials, warm-up: Terraform
    // builds the instance's VPC, with a default route to an internet gateway
    // and one to a NAT gateway.
    (
        "aws_cloudtrail_new_route_added.yml",
        "6445452c-c6df-4ebf-a1ed-2890f5aa7107",
    ),
    (
        "aws_cloudtrail_new_route_added.yml",
        "946cef78-6825-4fe5-bae9-17d27b61dd21",
    ),
    // ... detonation: SSM SendCommand (AWS-RunShellScript) to the instance ...
    (
        "aws_cloudtrail_ssm_malicious_usage.yml",
        "99b46479-d5c7-4384-b342-006ece8c36a0",
    ),
    // Not Stratus: an IAM user listing buckets in the S3 console.
    (
        "aws_enum_buckets.yml",
        "44a42357-fa38-4c9c-a58c-709254a857f7",
    ),
];

/// The matches of SigmaHQ's "AWS STS AssumeRole Misuse"
/// (`aws_sts_assumerole_misuse.yml`) in the samples, as SigmaHQ wrote the
/// rule. It is off by default (`rules/sigma-tuning.yaml`: it matches nearly
/// every assumed-role call), so none of these is a finding unless a user
/// loads their own copy of the rule.
pub const SIGMA_OFF_BY_DEFAULT_ON_SAMPLES: &[(&str, &str)] = &[
    // ... the stolen instance-role credentials used from the attacker's
    // address (GetCallerIdentity, DescribeInstances) ...
    (
        "aws_sts_assumerole_misuse.yml",
        "bf68f8c0-590b-4740-ac89-aad0ed5dfe4f",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "d3d5fd99-faa9-4959-a464-56fba613cc2e",
    ),
    // ... and the SSM agent on that instance, calling with the same role.
    (
        "aws_sts_assumerole_misuse.yml",
        "ea812b7e-ebeb-4950-8dc8-a4a9af56a8c6",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "6d7a57f7-7f39-49a4-85f3-6534e2117332",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "46041132-1dd7-49f5-88af-4b3f3521f861",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "7e486988-6d22-4c5d-9b55-eba68b0f23d9",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "cee5b78b-b786-4ae9-936c-d169b0c0b61d",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "e9694c6d-14e8-4288-8125-9694c70d22a0",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "696b9be3-18d2-49ef-844f-3e813af3033d",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "6bf8950b-f1ed-439d-8fc8-211645bfbe0f",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "c26863eb-33e7-4783-8a8d-40a0eddb4cbf",
    ),
    // Amazon Inspector's service-linked role describing the new instance
    // (AWS activity, not an attack; the rule matches any assumed role).
    (
        "aws_sts_assumerole_misuse.yml",
        "3bcc9d61-5936-429a-8b49-d5cb8e7b0e06",
    ),
    // aws.credential-access.ec2-get-password-data: 29 GetPasswordData calls
    // with `stratus-red-team-ec2-get-password-data-role`.
    (
        "aws_sts_assumerole_misuse.yml",
        "00d3d82b-5ed2-4044-9eeb-172cbb1a0e15",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "00d955a7-4797-46c4-ba50-ed0c81867020",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "03fefdcd-4329-43e2-bf44-c74bb1826d58",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "048b9b80-8889-4b45-916e-7d13b423db78",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "08311ac7-7ffe-4fd5-8f76-d54260acfe8a",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "17bcb09d-cf97-4c01-b74b-b7374fb0fc39",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "1cf7422a-d20c-43ec-827f-4a5db6993bfa",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "21332146-2cf3-4379-9557-361c8fa0d0a0",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "2ec37c12-94b8-4df5-813b-98bca0fb0edb",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "5449095d-1ed7-4cf8-8805-6143fb983a80",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "6c7bb2b3-9372-4cc8-b78e-f0d2ec268672",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "7a6c0f34-0aab-489e-8904-a9967b00bb57",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "7ca643a5-df2c-4a60-b198-7eaf448e8da0",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "97178d6a-6cf7-49f9-b116-a189a06c3295",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "a4e6ee98-8c78-4de3-8b5b-68f959b40fec",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "ae9a706f-d8a4-4e50-9043-22b2a03f481c",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "b09f3d78-e57c-41fc-89fc-67d7d51c1834",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "cfdb926f-8f87-44ea-8b73-125efb2fa78a",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "cff3355c-4d4d-44de-b7ad-a5bfb7ba901b",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "d101d2ec-d5f4-4407-986b-79c6fa427540",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "d43a2b5b-ba1d-4219-be2f-52a3635839f9",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "dced01c3-013d-4908-b78a-5f67134f5930",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "e6341c58-9378-4445-9f85-4023c0bd9990",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "ecaf7f4b-a4b2-40fb-a5dd-328ade49c78e",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "edd129b5-0aa6-4425-a055-8d9056d3e4da",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "ef910749-ef9a-42f3-adfd-347c625f7e1d",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "efc266f5-dc3c-4472-b055-8eeab5a620a7",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "fbd91225-39aa-4c00-822c-9f0b96e7758f",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "fe3a4c29-c070-487e-a15e-b9b6a853e7b4",
    ),
    // aws.discovery.ec2-download-user-data: 15 DescribeInstanceAttribute
    // (userData) calls with `stratus-red-team-get-usr-data-role`.
    (
        "aws_sts_assumerole_misuse.yml",
        "156fe62a-498c-4a54-b91f-5a7bc51b470e",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "1ce351c0-4de6-4022-b29c-27280f27e85b",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "339403fe-d01e-4fb2-ab9a-ffa78e576876",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "67727e18-a012-4d75-bedd-a2ef963b43c2",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "91bc9d28-e014-49d4-ac84-bcee8d219c72",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "947bc2bc-d5d6-46c8-a1a3-ca190fa1f17a",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "9f225158-b341-4ed2-bc69-18f8274d1f1f",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "b1866d2a-a46b-4d8e-b3a9-9ccc330f64af",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "b6897c0f-d765-4695-8884-6d6ed7a63722",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "bb66d584-375e-41a5-aa57-9c87161b5eb5",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "becab99b-3ae7-4c7a-b923-d2c407b85ddd",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "c6cc6589-4aa3-45e3-a646-6a0e3dbc05b6",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "ceb35bc6-147d-4753-8901-56b1d3325cf0",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "f4574dc5-9747-435c-bb53-22f2454be3b7",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "fb5e67f9-9a17-4efa-900f-21ecd1ca744b",
    ),
];

/// The built-in correlations firing on the Stratus samples read together (a
/// scan, or the notifier with its correlation table): (correlation rule
/// id, eventID of the event that completed the window). Every one is
/// an attack technique the samples simulate: enumeration of storage and
/// backups, user data downloads, secrets harvesting. (Stratus's Terraform
/// warm-up reads dozens of APIs in minutes; the discovery burst leaves
/// infrastructure-as-code tools out, so it does not fire.)
pub const CORRELATIONS_ON_SAMPLES: &[(&str, &str)] = &[
    (
        "26ff4080-194e-47e7-9889-ef7602efed0c",
        "becab99b-3ae7-4c7a-b923-d2c407b85ddd",
    ),
    (
        "4723218f-2048-41f6-bcb0-417f2d784f61",
        "2ffee8b4-d554-41a6-a0a3-6d27dd05e123",
    ),
    (
        "4723218f-2048-41f6-bcb0-417f2d784f61",
        "e024b38a-1556-46b4-b43f-288b35b81953",
    ),
    (
        "76255e09-755e-4675-8b6b-dbce9842cd2a",
        "08311ac7-7ffe-4fd5-8f76-d54260acfe8a",
    ),
    (
        "76255e09-755e-4675-8b6b-dbce9842cd2a",
        "6c7bb2b3-9372-4cc8-b78e-f0d2ec268672",
    ),
    (
        "76255e09-755e-4675-8b6b-dbce9842cd2a",
        "7ca643a5-df2c-4a60-b198-7eaf448e8da0",
    ),
    (
        "76255e09-755e-4675-8b6b-dbce9842cd2a",
        "efc266f5-dc3c-4472-b055-8eeab5a620a7",
    ),
    (
        "d01328d9-2f6c-4759-8162-d35c3339036c",
        "3bd9831a-991f-4666-a550-1840a71ac3b5",
    ),
    (
        "d01328d9-2f6c-4759-8162-d35c3339036c",
        "90654a3c-92c3-4e33-bf64-31dc78ab964d",
    ),
    (
        "d01328d9-2f6c-4759-8162-d35c3339036c",
        "c0a24f36-da17-4679-91cb-d5fb1f3a1f82",
    ),
];
