//! GitHub's conditional REST requests: the change probes of a repository's streams (one item per list,
//! `If-None-Match` with the ETag its cursor keeps, so a `304` — free of rate-limit cost — skips what did not
//! change), the organization's members and its repository list, and the ETags the client holds for them.

use serde_json::Value;

use super::cursor::{Cursor, Probes, Stream};
use super::source::{node_keys, GithubSource, MEMBERS};
use crate::http::{HttpError, PageGuard, Pager, Pagination, Request};
use crate::{ApiError, SourceError};

impl GithubSource {
    pub(super) fn probe_url(&self, repo: &str) -> String {
        self.client.client().absolute(&format!(
            "repos/{repo}/issues?state=all&sort=updated&direction=desc&per_page=1"
        ))
    }

    pub(super) fn deployments_probe_url(&self, repo: &str) -> String {
        self.client
            .client()
            .absolute(&format!("repos/{repo}/deployments?per_page=1"))
    }

    pub(super) fn releases_probe_url(&self, repo: &str) -> String {
        self.client
            .client()
            .absolute(&format!("repos/{repo}/releases?per_page=1"))
    }

    pub(super) fn members_url(&self, org: &str) -> String {
        self.client
            .client()
            .absolute(&format!("orgs/{org}/members?per_page=100"))
    }

    pub(super) fn org_url(&self, org: &str) -> String {
        self.client.client().absolute(&format!(
            "orgs/{org}/repos?type=all&sort=created&direction=desc&per_page=100"
        ))
    }

    /// The ETags the client holds for `repo`'s probes.
    pub(super) fn probes(&self, repo: &str) -> Probes {
        Probes {
            etag: self.etag(&self.probe_url(repo)),
            deployments_etag: self.etag(&self.deployments_probe_url(repo)),
            releases_etag: self.etag(&self.releases_probe_url(repo)),
        }
    }

    /// The ETag the client holds for `url`.
    pub(super) fn etag(&self, url: &str) -> Option<String> {
        self.client
            .client()
            .validators()
            .by_url
            .get(&crate::http::redact_url(url))
            .and_then(|(e, _)| e.clone())
    }

    /// The repositories to read: the configured ones and the organization's, sorted.
    pub(super) fn resolve_repos(&self, cursor: &mut Cursor) -> Result<Vec<String>, SourceError> {
        let mut repos = self.config.repositories.clone();
        if let Some(org) = &self.config.organization {
            let first = self.org_url(org);
            let mut request = Request::get("repositories", &first);
            if !cursor.org_repos.is_empty() {
                request = request.conditional();
            }
            let guard = PageGuard::new(&self.config.name, format!("repositories of {org}"));
            let mut pager = Pager::new(Pagination::LinkHeader, request, guard);
            let mut listed = Vec::new();
            let mut unchanged = false;
            while let Some(request) = pager.next_request() {
                let response = self.client.send(request.clone())?;
                if response.not_modified() {
                    unchanged = true;
                    break;
                }
                let page: Vec<Value> = response.json()?;
                listed.extend(
                    page.iter()
                        .filter(|r| r["archived"] != Value::Bool(true))
                        .filter_map(|r| r["full_name"].as_str().map(str::to_string)),
                );
                pager.read(&request, &response, node_keys(&page))?;
            }
            if !unchanged {
                listed.sort();
                cursor.org_repos = listed;
                cursor.org_etag = self.etag(&first);
            }
            repos.extend(cursor.org_repos.iter().cloned());
        }
        repos.sort();
        repos.dedup();
        Ok(repos)
    }

    /// Whether the resource behind `url` changed since its ETag was taken (always true without one).
    pub(super) fn changed(&self, repo: &str, url: String) -> Result<bool, SourceError> {
        match self.client.send(Request::get("probe", url).conditional()) {
            Ok(r) => Ok(!r.not_modified()),
            // Issues disabled: GitHub answers 410 Gone; pull requests may still change.
            Err(HttpError::Status { status: 410, .. }) => Ok(true),
            Err(HttpError::Status {
                status: 404,
                message,
                ..
            }) => Err(SourceError::Api(ApiError::RepositoryRefused {
                repo: repo.to_string(),
                message,
            })),
            Err(e) => Err(e.into()),
        }
    }

    /// The streams of `repo` to read this run: issues and pull requests when their probe says they changed,
    /// deployments when theirs does.
    pub(super) fn plan(&self, repo: &str) -> Result<Vec<Stream>, SourceError> {
        let mut plan = Vec::new();
        if (self.config.issues || self.config.pull_requests)
            && self.changed(repo, self.probe_url(repo))?
        {
            plan.extend(self.streams());
        }
        if self.config.deployments && self.changed(repo, self.deployments_probe_url(repo))? {
            plan.push(Stream::Deployments);
        }
        if self.config.releases && self.changed(repo, self.releases_probe_url(repo))? {
            plan.push(Stream::Releases);
        }
        Ok(plan)
    }

    /// The organization's members when their list changed since its ETag: one record each, all pages.
    pub(super) fn changed_members(&self, org: &str) -> Result<Option<Vec<Value>>, SourceError> {
        let first = Request::get(MEMBERS, self.members_url(org)).conditional();
        let guard = PageGuard::new(&self.config.name, format!("members of {org}"));
        let mut pager = Pager::new(Pagination::LinkHeader, first, guard);
        let mut members = Vec::new();
        while let Some(request) = pager.next_request() {
            let response = self.client.send(request.clone())?;
            if response.not_modified() {
                return Ok(None);
            }
            let page: Vec<Value> = response.json()?;
            pager.read(&request, &response, node_keys(&page))?;
            members.extend(page);
        }
        Ok(Some(members))
    }
}
