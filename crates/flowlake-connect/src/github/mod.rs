//! GitHub: issues and pull requests with their timelines and reviews, normalized into the domain model.
//!
//! `source` reads repositories through GraphQL (`query`: 100 items a page with their whole timelines and
//! reviews) after the conditional REST probes of `probe`, keeping one cursor per stream (`cursor`);
//! `backfill` reads a creation-date range through search instead. `normalize` holds the pure half: the payload
//! shapes it lands (`normalize/payload.rs`) and their normalization, where the status walk
//! (`normalize/walk.rs`) turns GitHub's open/closed states, labels, drafts, reviews and merges into a status
//! history so cycle time works on GitHub too; `deployment` and `release` do the same for those streams.

mod backfill;
mod config;
mod cursor;
mod deployment;
mod normalize;
mod normalizer;
mod probe;
pub mod query;
mod release;
mod source;

pub use backfill::Backfill;
pub use config::GithubConfig;
pub use cursor::{FORMER_STREAM, STATE_STREAMS};
pub use deployment::{normalize_deployment, GithubDeployment};
pub use normalize::{normalize_issue, pr_status, GithubIssue, GithubReview, StatusRules};
pub use normalizer::GithubNormalizer;
pub use release::{normalize_member, normalize_release, GithubMember, GithubRelease};
pub use source::GithubSource;

crate::registry::api_connector! {
    /// The `github` kind of the [registry](crate::registry).
    pub struct GithubConnector {
        label: "GitHub",
        config: GithubConfig,
        source: GithubSource,
        normalizer: GithubNormalizer,
        example: include_str!("example.toml"),
    }
    impl {
        fn backfill(
            config: &GithubConfig,
            tape: &crate::http::Tape,
            observer: std::sync::Arc<dyn crate::http::HttpObserver>,
            backfill: &Backfill,
        ) -> Option<Result<Box<dyn crate::Source>, crate::SourceError>> {
            Some(
                GithubSource::new(config.clone(), tape.clone(), observer)
                    .map(|s| Box::new(s.with_backfill(backfill.clone())) as Box<dyn crate::Source>),
            )
        }
    }
}
