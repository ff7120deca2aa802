//! Spotting regions whose digests stopped arriving: CloudTrail delivers a
//! digest every hour, even an empty one, so a region whose newest digest
//! ended long ago has stopped logging or lost its validation.

use time::{Duration, OffsetDateTime};

/// A region without a recent digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryGap {
    /// The region.
    pub region: String,
    /// End time of its newest digest; `None` when it has none at all.
    pub newest_digest_end: Option<OffsetDateTime>,
    /// How long ago that was, at `now`; `None` when it has none.
    pub silent_for: Option<Duration>,
}

/// The regions whose newest digest ended more than `threshold` before
/// `now`, or that have none, in region order.
///
/// `newest` gives each region's newest digest end time (from the key, see
/// [`super::layout::digest_key_time`]), or `None` when listing found none.
pub fn delivery_gaps<I, R>(newest: I, now: OffsetDateTime, threshold: Duration) -> Vec<DeliveryGap>
where
    I: IntoIterator<Item = (R, Option<OffsetDateTime>)>,
    R: Into<String>,
{
    let mut gaps: Vec<DeliveryGap> = newest
        .into_iter()
        .filter_map(|(region, end)| {
            let silent_for = end.map(|end| now - end);
            silent_for
                .is_none_or(|silence| silence > threshold)
                .then(|| DeliveryGap {
                    region: region.into(),
                    newest_digest_end: end,
                    silent_for,
                })
        })
        .collect();
    gaps.sort_by(|a, b| a.region.cmp(&b.region));
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn lists_stale_and_silent_regions_only() {
        let now = datetime!(2023-07-10 13:00 UTC);
        let gaps = delivery_gaps(
            [
                ("us-west-2", Some(datetime!(2023-07-10 12:01:31 UTC))),
                ("eu-west-1", Some(datetime!(2023-07-10 8:01:31 UTC))),
                ("ap-south-1", None),
                ("us-east-1", Some(datetime!(2023-07-10 10:00 UTC))),
            ],
            now,
            Duration::hours(3),
        );
        let regions: Vec<_> = gaps.iter().map(|g| g.region.as_str()).collect();
        assert_eq!(regions, ["ap-south-1", "eu-west-1"]);
        assert_eq!(gaps[0].silent_for, None);
        assert_eq!(
            gaps[1].silent_for,
            Some(Duration::hours(4) + Duration::minutes(58) + Duration::seconds(29))
        );
    }

    #[test]
    fn exactly_at_the_threshold_is_not_a_gap() {
        let now = datetime!(2023-07-10 13:00 UTC);
        let gaps = delivery_gaps(
            [(
                "us-east-1".to_owned(),
                Some(datetime!(2023-07-10 10:00 UTC)),
            )],
            now,
            Duration::hours(3),
        );
        assert!(gaps.is_empty());
    }
}
