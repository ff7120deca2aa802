//! Classifying CloudTrail `errorCode`s for the API-error troubleshooting
//! metrics: access denied, throttling, or anything else.

/// The class an API error falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorClass {
    /// The caller lacked permission.
    AccessDenied,
    /// The caller was rate limited.
    Throttling,
    /// Any other error (validation, not found, conflicts ...).
    Other,
}

impl ErrorClass {
    /// Classifies an `errorCode`.
    pub fn of(error_code: &str) -> ErrorClass {
        // Codes vary by service: EC2 says `Client.UnauthorizedOperation`, S3
        // `AccessDenied`, most JSON services `AccessDeniedException`.
        const DENIED: &[&str] = &["AccessDenied", "UnauthorizedOperation", "Forbidden"];
        const THROTTLED: &[&str] = &[
            "Throttl",
            "TooManyRequests",
            "RequestLimitExceeded",
            "SlowDown",
            "RateExceeded",
            "ProvisionedThroughputExceeded",
            "RequestThrottled",
        ];
        if DENIED.iter().any(|d| error_code.contains(d)) {
            ErrorClass::AccessDenied
        } else if THROTTLED.iter().any(|t| error_code.contains(t)) {
            ErrorClass::Throttling
        } else {
            ErrorClass::Other
        }
    }

    /// The dimension value used in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::AccessDenied => "AccessDenied",
            ErrorClass::Throttling => "Throttling",
            ErrorClass::Other => "Other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_real_error_codes() {
        let table = [
            ("AccessDenied", ErrorClass::AccessDenied),
            ("AccessDeniedException", ErrorClass::AccessDenied),
            ("Client.UnauthorizedOperation", ErrorClass::AccessDenied),
            ("ThrottlingException", ErrorClass::Throttling),
            ("Client.RequestLimitExceeded", ErrorClass::Throttling),
            ("TooManyRequestsException", ErrorClass::Throttling),
            ("SlowDown", ErrorClass::Throttling),
            ("NoSuchBucket", ErrorClass::Other),
            ("Client.InvalidGroup.NotFound", ErrorClass::Other),
            ("LimitExceededException", ErrorClass::Other),
        ];
        for (code, class) in table {
            assert_eq!(ErrorClass::of(code), class, "{code}");
        }
    }
}
