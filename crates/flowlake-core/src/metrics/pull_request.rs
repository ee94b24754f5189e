//! Pull request metrics: when review started, when it was approved, and how long each wait took.

use chrono::{DateTime, Utc};

use crate::model::{PullRequest, Review};

/// Review-side metrics of one pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestMetrics {
    /// First review submitted by someone other than the author.
    pub first_review_at: Option<DateTime<Utc>>,
    /// First approval.
    pub approved_at: Option<DateTime<Utc>>,
    /// `ready_at → first_review_at` (creation when `ready_at` is unknown), seconds: how long it waited for a
    /// reviewer.
    pub seconds_to_first_review: Option<i64>,
    /// `created_at → merged_at`, seconds.
    pub seconds_to_merge: Option<i64>,
    /// Reviews by others (pending ones are never included).
    pub review_count: i64,
}

/// The metrics of `pr` from its `reviews` (any order).
pub fn pull_request_metrics(pr: &PullRequest, reviews: &[Review]) -> PullRequestMetrics {
    let by_others = || {
        reviews
            .iter()
            .filter(|r| r.author.is_none() || r.author != pr.author)
    };
    let first_review_at = by_others().map(|r| r.submitted_at).min();
    let approved_at = by_others()
        .filter(|r| r.state == "approved")
        .map(|r| r.submitted_at)
        .min();
    let waiting_since = pr.ready_at.unwrap_or(pr.created_at);
    PullRequestMetrics {
        first_review_at,
        approved_at,
        seconds_to_first_review: first_review_at.map(|f| (f - waiting_since).num_seconds().max(0)),
        seconds_to_merge: pr.merged_at.map(|m| (m - pr.created_at).num_seconds()),
        review_count: by_others().count() as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PullRequestState;

    fn at(s: &str) -> DateTime<Utc> {
        format!("2026-03-{s}:00Z").parse().expect("a time")
    }

    fn pr(ready: Option<&str>, merged: Option<&str>) -> PullRequest {
        PullRequest {
            id: "gh:acme/app#1".into(),
            source: "gh".into(),
            repository: "acme/app".into(),
            number: 1,
            title: "t".into(),
            author: Some("gh:alice".into()),
            state: PullRequestState::Open,
            draft: false,
            created_at: at("02T09:00"),
            ready_at: ready.map(at),
            merged_at: merged.map(at),
            closed_at: merged.map(at),
            base_branch: None,
            head_branch: None,
            additions: None,
            deletions: None,
            url: None,
        }
    }

    fn review(by: &str, state: &str, when: &str) -> Review {
        Review {
            id: format!("gh:{by}{when}"),
            pull_request_id: "gh:acme/app#1".into(),
            author: Some(format!("gh:{by}")),
            state: state.into(),
            submitted_at: at(when),
        }
    }

    #[test]
    fn table_of_cases() {
        let reviews = [
            review("alice", "commented", "02T10:00"),
            review("bob", "changes_requested", "03T09:00"),
            review("carol", "approved", "04T09:00"),
            review("bob", "approved", "03T15:00"),
        ];
        // (ready, merged, reviews) → (first review, approved, to first review, to merge, count)
        let cases: [(Option<&str>, Option<&str>, &[Review], _); 4] = [
            (
                Some("02T09:00"),
                Some("05T09:00"),
                &reviews,
                (
                    Some("03T09:00"),
                    Some("03T15:00"),
                    Some(86_400),
                    Some(259_200),
                    3,
                ),
            ),
            (
                Some("03T08:00"),
                None,
                &reviews,
                (Some("03T09:00"), Some("03T15:00"), Some(3_600), None, 3),
            ),
            (None, None, &reviews[..1], (None, None, None, None, 0)),
            (
                None,
                Some("02T12:00"),
                &[],
                (None, None, None, Some(10_800), 0),
            ),
        ];
        for (ready, merged, rs, (first, approved, to_first, to_merge, count)) in cases {
            let m = pull_request_metrics(&pr(ready, merged), rs);
            assert_eq!(
                (
                    m.first_review_at,
                    m.approved_at,
                    m.seconds_to_first_review,
                    m.seconds_to_merge,
                    m.review_count
                ),
                (first.map(at), approved.map(at), to_first, to_merge, count),
                "ready {ready:?}, merged {merged:?}"
            );
        }
    }
}
