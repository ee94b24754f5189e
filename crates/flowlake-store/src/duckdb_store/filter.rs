//! An [`ItemFilter`] in DuckDB's SQL.

use crate::store::ItemFilter;

/// An [`ItemFilter`] in DuckDB's SQL.
pub(super) trait FilterSql {
    /// `AND …` conditions over `item_metrics` aliased `m`, and their parameters.
    fn sql(&self) -> (String, Vec<String>);
}

impl FilterSql for ItemFilter {
    fn sql(&self) -> (String, Vec<String>) {
        let mut sql = String::new();
        let mut params = Vec::new();
        // Every value is matched ignoring case (`--project core` finds CORE), and the assignee's login suffix
        // literally (a `%` or `_` in it is no wildcard).
        if let Some(s) = &self.source {
            sql.push_str(" AND lower(m.source) = lower(?)");
            params.push(s.clone());
        }
        if let Some(p) = &self.project {
            sql.push_str(" AND lower(m.project) = lower(?)");
            params.push(p.clone());
        }
        if let Some(t) = &self.item_type {
            sql.push_str(
                " AND (lower(m.item_type) = lower(?) OR lower(m.standard_type) = lower(?))",
            );
            params.push(t.clone());
            params.push(t.clone());
        }
        if let Some(a) = &self.assignee {
            sql.push_str(
                " AND (lower(m.assignee) = lower(?) OR suffix(lower(m.assignee), ':' || lower(?)))",
            );
            params.push(a.clone());
            params.push(a.clone());
        }
        (sql, params)
    }
}
