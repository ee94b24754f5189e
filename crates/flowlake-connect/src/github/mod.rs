//! GitHub: issues and pull requests with their timelines and reviews, normalized into the domain model.
//!
//! `source` reads repositories through GraphQL (100 items a page with their whole timelines and reviews) and
//! a conditional REST probe per repository; `normalize` holds the pure half: the payload shapes it lands and
//! their normalization, where GitHub's open/closed states, labels, drafts, reviews and merges become a
//! status history so cycle time works on GitHub too.

mod config;
mod deployment;
mod normalize;
pub mod query;
mod release;
mod source;

pub use config::GithubConfig;
pub use deployment::{normalize_deployment, GithubDeployment};
pub use normalize::{normalize_issue, pr_status, GithubIssue, GithubReview, StatusRules};
pub use release::{normalize_member, normalize_release, GithubMember, GithubRelease};
pub use source::{Backfill, GithubSource, STREAM};
