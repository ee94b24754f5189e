//! The tables of the work-item flow (items, their changelog, pull requests with reviews, worklogs, sprint
//! membership), its metric rows, and the landing tables: each declared once with its row writer, which
//! [`crate::batch::LoadBatch`] calls after its per-item bookkeeping.

use chrono::{DateTime, Utc};
use flowlake_core::metrics::tracker_exporter::StatusRow;
use flowlake_core::metrics::{ItemMetrics, PullRequestMetrics, StatusInterval};
use flowlake_core::{
    FieldChange, PullRequest, PullRequestState, RawRecord, Review, StatusChange, WorkItem, Worklog,
};

crate::declare_table! {
    /// API payloads exactly as received.
    pub RAW_RECORDS = "raw_records", "Every API record as received, for rebuilds without API calls";
    key [source, stream, key], replace [source, stream, key];
    fn write_raw(r: &RawRecord);
    {
        source: Text = &r.source,
        stream: Text = &r.stream,
        key: Text = &r.key,
        updated_at: Timestamp? = r.updated_at,
        fetched_at: Timestamp = r.fetched_at,
        payload: Json = &r.payload.to_string(),
    }
}

crate::declare_table! {
    /// Work items.
    pub WORK_ITEMS = "work_items", "Issues, tickets and stories from every tracker";
    key [id], replace [id];
    fn write_work_item(w: &WorkItem);
    {
        id: Text = &w.id,
        source: Text = &w.source,
        project: Text = &w.project,
        key: Text = &w.key,
        title: Text = &w.title,
        item_type: Text = &w.item_type,
        standard_type: Text = w.standard_type.as_str(),
        status: Text = &w.status,
        status_category: Text = w.status_category.as_str(),
        priority: Text? = w.priority.as_deref(),
        author: Text? = w.author.as_deref(),
        assignee: Text? = w.assignee.as_deref(),
        labels: TextList = &w.labels,
        components: TextList = &w.components,
        parent: Text? = w.parent.as_deref(),
        created_at: Timestamp = w.created_at,
        updated_at: Timestamp = w.updated_at,
        resolved_at: Timestamp? = w.resolved_at,
        url: Text? = w.url.as_deref(),
        custom_fields: Json = &w.custom_fields.to_string(),
    }
}

crate::declare_table! {
    /// Status moves.
    pub STATUS_CHANGES = "status_changes", "Every status move of every work item";
    key [item_id, change_id], replace [item_id];
    fn write_status_change(c: &StatusChange, item: i64);
    {
        item_id: Item = item,
        change_id: Text = &c.change_id,
        changed_at: Timestamp = c.at,
        author: Label? = c.author.as_deref(),
        from_status: Label? = c.from_status.as_deref(),
        to_status: Label = &c.to_status,
    }
}

crate::declare_table! {
    /// Other field changes.
    pub FIELD_CHANGES = "field_changes",
        "Every changed field other than status (status moves are in status_changes)";
    key [item_id, change_id, field], replace [item_id];
    fn write_field_change(c: &FieldChange);
    {
        item_id: Text = &c.item_id,
        change_id: Text = &c.change_id,
        changed_at: Timestamp = c.at,
        author: Text? = c.author.as_deref(),
        field: Text = &c.field,
        from_value: Text? = c.from_value.as_deref(),
        to_value: Text? = c.to_value.as_deref(),
    }
}

crate::declare_table! {
    /// Per-item flow metrics.
    pub ITEM_METRICS = "item_metrics", "Flow metrics of each work item (docs/metrics.md), as of computed_at";
    key [item_id], replace [item_id];
    fn write_item_metrics(item: &WorkItem, m: &ItemMetrics, guessed: Option<&str>, computed_at: DateTime<Utc>);
    {
        item_id: Text = &m.item_id,
        source: Text = &item.source,
        project: Text = &item.project,
        item_type: Text = &item.item_type,
        standard_type: Text = item.standard_type.as_str(),
        assignee: Text? = item.assignee.as_deref(),
        created_at: Timestamp = m.created_at,
        started_at: Timestamp? = m.started_at,
        completed_at: Timestamp? = m.completed_at,
        lead_seconds: Int? = m.lead_seconds,
        lead_business_seconds: Int? = m.lead_business_seconds,
        cycle_seconds: Int? = m.cycle_seconds,
        cycle_business_seconds: Int? = m.cycle_business_seconds,
        reopen_count: Int = m.reopen_count.into(),
        active_seconds: Int? = m.active_seconds,
        flow_efficiency: Float? = m.flow_efficiency,
        first_response_at: Timestamp? = m.first_response_at,
        first_response_seconds: Int? = m.first_response_seconds,
        status_path: Text = &m.status_path,
        status_changes: Int = m.status_changes.into(),
        current_status: Text = &m.current_status,
        current_category: Text = m.current_category.as_str(),
        age_seconds: Int? = m.age_seconds,
        computed_at: Timestamp = computed_at,
        guessed_statuses: Json? = guessed,
    }
}

crate::declare_table! {
    /// Status intervals.
    pub STATUS_INTERVALS = "status_intervals",
        "Each stay of each item in one status; ended_at is NULL for the current status";
    key [item_id, seq], replace [item_id];
    fn write_status_interval(i: &StatusInterval, item: i64);
    {
        item_id: Item = item,
        seq: Int = i.seq.into(),
        status: Label = &i.status,
        category: Label = i.category.as_str(),
        started_at: Timestamp = i.start,
        ended_at: Timestamp? = i.end,
        calendar_seconds: Int = i.calendar_seconds,
        business_seconds: Int = i.business_seconds,
    }
}

crate::declare_table! {
    /// tracker-exporter compatible rows.
    pub TRACKER_EXPORTER_ISSUE_METRICS = "tracker_exporter_issue_metrics",
        "tracker-exporter 2.0.0 compatible issue_metrics rows (closed stays only, counted per exit)";
    key [item_id, status_name], replace [item_id];
    fn write_tracker_exporter_row(r: &StatusRow, item: i64);
    {
        item_id: Item = item,
        last_seen: Timestamp = r.last_seen,
        issue_key: Text = &r.issue_key,
        status_name: Label = &r.status_name,
        status_transitions_count: Int = r.status_transitions_count.into(),
        duration: Int = r.duration,
        human_readable_duration: Text = &r.human_readable_duration,
        busdays_duration: Int = r.busdays_duration,
        human_readable_busdays_duration: Text = &r.human_readable_busdays_duration,
    }
}

/// The stored name of a pull request's state.
fn pr_state(state: PullRequestState) -> &'static str {
    match state {
        PullRequestState::Open => "open",
        PullRequestState::Closed => "closed",
        PullRequestState::Merged => "merged",
    }
}

crate::declare_table! {
    /// Pull requests and their review metrics.
    pub PULL_REQUESTS = "pull_requests",
        "Pull and merge requests with their review metrics (docs/metrics.md); the same id is a work item";
    key [item_id], replace [item_id];
    fn write_pull_request(pr: &PullRequest, m: &PullRequestMetrics);
    {
        item_id: Text = &pr.id,
        source: Text = &pr.source,
        repository: Text = &pr.repository,
        number: Int = pr.number,
        title: Text = &pr.title,
        author: Text? = pr.author.as_deref(),
        state: Text = pr_state(pr.state),
        draft: Bool = pr.draft,
        created_at: Timestamp = pr.created_at,
        ready_at: Timestamp? = pr.ready_at,
        first_review_at: Timestamp? = m.first_review_at,
        approved_at: Timestamp? = m.approved_at,
        merged_at: Timestamp? = pr.merged_at,
        closed_at: Timestamp? = pr.closed_at,
        seconds_to_first_review: Int? = m.seconds_to_first_review,
        seconds_to_merge: Int? = m.seconds_to_merge,
        review_count: Int = m.review_count,
        base_branch: Text? = pr.base_branch.as_deref(),
        head_branch: Text? = pr.head_branch.as_deref(),
        additions: Int? = pr.additions,
        deletions: Int? = pr.deletions,
        url: Text? = pr.url.as_deref(),
    }
}

crate::declare_table! {
    /// Submitted reviews.
    pub PULL_REQUEST_REVIEWS = "pull_request_reviews", "Every submitted review of every pull request";
    key [item_id, review_id], replace [item_id];
    fn write_review(r: &Review);
    {
        item_id: Text = &r.pull_request_id,
        review_id: Text = &r.id,
        author: Text? = r.author.as_deref(),
        state: Text = &r.state,
        submitted_at: Timestamp = r.submitted_at,
    }
}

crate::declare_table! {
    /// Worklogs.
    pub WORKLOGS = "worklogs", "Time logged on work items (Jira, Yandex Tracker worklogs)";
    key [item_id, worklog_id], replace [item_id];
    fn write_worklog(w: &Worklog);
    {
        item_id: Text = &w.item_id,
        worklog_id: Text = &w.id,
        author: Text? = w.author.as_deref(),
        started_at: Timestamp = w.started_at,
        seconds: Int = w.seconds,
        created_at: Timestamp? = w.created_at,
        updated_at: Timestamp? = w.updated_at,
    }
}

crate::declare_table! {
    /// Items in sprints.
    pub ITEM_SPRINTS = "item_sprints",
        "Which sprints each work item is in now (its sprint history is in field_changes, field `Sprint`)";
    key [item_id, sprint_id], replace [item_id];
    fn write_item_sprint(item_id: &str, sprint_id: &str);
    {
        item_id: Text = item_id,
        sprint_id: Text = sprint_id,
    }
}

crate::declare_table! {
    /// Landed records their source could not normalize. A record that fails is never dropped: it is in
    /// `raw_records` and here, with the error, until a load normalizes it (a later sync, or a `rebuild` with a
    /// fixed binary or config), which removes its row.
    pub BAD_RECORDS = "bad_records",
        "Landed records the source could not normalize, with the error; a row goes once its record normalizes";
    key [source, stream, key], replace [source, stream, key];
    fn write_bad_record(r: &RawRecord, error: &str, seen_at: DateTime<Utc>);
    {
        source: Text = &r.source,
        stream: Text = &r.stream,
        key: Text = &r.key,
        error: Text = error,
        first_seen: Timestamp = seen_at,
        last_seen: Timestamp = seen_at,
    }
}
