//! GitHub: issues and pull requests with their timelines, normalized into the domain model.
//!
//! The connector reads issues through GraphQL (issues with their timeline items, labels and assignees, 100 per
//! page); this module holds the pure half: the payload shapes it lands and their normalization, where
//! GitHub's open/closed states and label changes become a status history so cycle time works on GitHub too.

mod normalize;

pub use normalize::{normalize_issue, pr_status, GithubIssue, GithubReview, StatusRules};
