//! The entity kinds: values a normalizer emits on their own (`Normalized::entities`), each a row of its
//! table, replaced by id. Each is declared once here, with its row writer, and listed in [`ENTITY_TABLES`],
//! where a load finds the table of an entity by its type. A new kind is a type in `flowlake-core` implementing
//! `flowlake_core::Entity`, its declaration and list entry here, its table in [`super::DATA_TABLES`] and a
//! migration creating it (`duckdb_store/ddl.rs`); nothing in the engine changes.

use flowlake_core::{Deployment, Person, Pipeline, Release, Sprint};

use crate::entity::EntityTable;

crate::declare_table! {
    /// People.
    pub PEOPLE = "people", "People as each source knows them";
    key [id], replace [id];
    entity PERSON for p: Person, once by &p.id;
    {
        id: Text = &p.id,
        source: Text = &p.source,
        login: Text = &p.login,
        name: Text? = p.name.as_deref(),
        email: Text? = p.email.as_deref(),
    }
}

crate::declare_table! {
    /// Deployments.
    pub DEPLOYMENTS = "deployments",
        "Deployments of a service to an environment, with their latest status (for DORA metrics)";
    key [id], replace [id];
    entity DEPLOYMENT for d: Deployment;
    {
        id: Text = &d.id,
        source: Text = &d.source,
        service: Text = &d.service,
        environment: Text = &d.environment,
        commit_sha: Text? = d.commit_sha.as_deref(),
        status: Text = &d.status,
        created_at: Timestamp = d.created_at,
        finished_at: Timestamp? = d.finished_at,
    }
}

crate::declare_table! {
    /// Releases.
    pub RELEASES = "releases", "Releases of each repository";
    key [id], replace [id];
    entity RELEASE for r: Release;
    {
        id: Text = &r.id,
        source: Text = &r.source,
        repository: Text = &r.repository,
        tag: Text = &r.tag,
        name: Text? = r.name.as_deref(),
        author: Text? = r.author.as_deref(),
        created_at: Timestamp = r.created_at,
        published_at: Timestamp? = r.published_at,
        draft: Bool = r.draft,
        prerelease: Bool = r.prerelease,
        url: Text? = r.url.as_deref(),
    }
}

crate::declare_table! {
    /// Sprints.
    pub SPRINTS = "sprints", "Sprints as the latest issue in them describes them";
    key [id], replace [id];
    entity SPRINT for s: Sprint, once by &s.id;
    {
        id: Text = &s.id,
        source: Text = &s.source,
        board_id: Int? = s.board_id,
        name: Text = &s.name,
        state: Text = &s.state,
        goal: Text? = s.goal.as_deref(),
        start_at: Timestamp? = s.start_at,
        end_at: Timestamp? = s.end_at,
        complete_at: Timestamp? = s.complete_at,
    }
}

crate::declare_table! {
    /// CI pipelines.
    pub PIPELINES = "pipelines", "CI pipeline runs (GitLab pipelines)";
    key [id], replace [id];
    entity PIPELINE for p: Pipeline;
    {
        id: Text = &p.id,
        source: Text = &p.source,
        project: Text = &p.project,
        ref: Text? = p.git_ref.as_deref(),
        commit_sha: Text? = p.commit_sha.as_deref(),
        status: Text = &p.status,
        trigger: Text? = p.trigger.as_deref(),
        created_at: Timestamp = p.created_at,
        updated_at: Timestamp = p.updated_at,
        url: Text? = p.url.as_deref(),
    }
}

/// Every entity kind of flowlake itself, for [`crate::entity::entity_table`]. Kinds declared outside this
/// crate are added at run time with [`crate::entity::register`].
pub static ENTITY_TABLES: &[&EntityTable] = &[&PERSON, &DEPLOYMENT, &RELEASE, &SPRINT, &PIPELINE];
