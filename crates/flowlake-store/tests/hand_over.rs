//! The hand-over a store receives is portable Arrow: label and item columns are dictionary arrays whose
//! values are the texts themselves, and the replace plan sits beside the rows. A PostgreSQL or ClickHouse
//! store reads it without knowing DuckDB's codes.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{ArrowDictionaryKeyType, ArrowNativeType, DataType, Int32Type, Int64Type};
use flowlake_core::{RawRecord, StatusChange, WorkItem};
use flowlake_store::{LoadBatch, MovedItem, RecordKey};

mod common;

use common::{t, work_item};

fn item(key: &str) -> WorkItem {
    work_item("demo", "P", key)
}

fn change(
    item: &str,
    n: usize,
    from: Option<&str>,
    to: &str,
    author: Option<&str>,
) -> StatusChange {
    StatusChange {
        item_id: format!("demo:{item}"),
        change_id: n.to_string(),
        at: t("2024-01-01T12:00:00Z"),
        author: author.map(str::to_string),
        from_status: from.map(str::to_string),
        to_status: to.into(),
    }
}

/// The texts of dictionary column `name` of `record`, row by row.
fn texts<K: ArrowDictionaryKeyType>(
    record: &arrow::record_batch::RecordBatch,
    name: &str,
) -> Vec<Option<String>> {
    let column = record.column_by_name(name).unwrap();
    let dict = column.as_dictionary::<K>();
    let values = dict.values().as_string::<i32>();
    dict.keys()
        .iter()
        .map(|k| k.map(|k| values.value(k.as_usize()).to_string()))
        .collect()
}

#[test]
fn label_and_item_columns_are_dictionaries_of_their_texts_with_the_replace_plan_beside_them() {
    let mut batch = LoadBatch::new();
    batch.work_item(&item("A-1"));
    batch.status_change(&change("A-1", 1, None, "Open", Some("demo:ann")));
    batch.status_change(&change("A-1", 2, Some("Open"), "Done", None));
    batch.work_item(&item("A-2"));
    batch.status_change(&change("A-2", 1, None, "Done", Some("demo:bob")));
    batch.moved("demo", "NODE-2", "demo:A-2");
    let raw = RawRecord {
        source: "demo".into(),
        stream: "issues".into(),
        key: "A-1".into(),
        updated_at: None,
        payload: serde_json::json!({}),
        fetched_at: t("2024-01-03T00:00:00Z"),
    };
    batch.normalized(&raw);

    let hand_over = batch.hand_over().unwrap();
    let names: Vec<&str> = hand_over.tables.iter().map(|t| t.def.name).collect();
    assert_eq!(
        names,
        ["work_items", "status_changes"],
        "non-empty tables only, in load order"
    );

    let changes = &hand_over.tables[1].record;
    let to_status = changes
        .schema()
        .field_with_name("to_status")
        .unwrap()
        .clone();
    assert_eq!(
        to_status.data_type(),
        &DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
    );
    assert_eq!(
        texts::<Int32Type>(changes, "to_status"),
        [
            Some("Open".into()),
            Some("Done".into()),
            Some("Done".into())
        ]
    );
    assert_eq!(
        texts::<Int32Type>(changes, "from_status"),
        [None, Some("Open".into()), None]
    );
    assert_eq!(
        texts::<Int32Type>(changes, "author"),
        [Some("demo:ann".into()), None, Some("demo:bob".into())]
    );
    assert_eq!(
        texts::<Int64Type>(changes, "item_id"),
        [
            Some("demo:A-1".into()),
            Some("demo:A-1".into()),
            Some("demo:A-2".into())
        ]
    );

    let plan = &hand_over.plan;
    let items: Vec<&str> = plan.items.iter().flatten().collect();
    assert_eq!(items, ["demo:A-1", "demo:A-2"]);
    assert!(
        plan.items_complete,
        "every status change came with its work item"
    );
    assert_eq!(
        plan.moved,
        [MovedItem {
            source: "demo".into(),
            node_id: "NODE-2".into(),
            keep: "demo:A-2".into()
        }]
    );
    assert_eq!(
        plan.normalized,
        [RecordKey {
            source: "demo".into(),
            stream: "issues".into(),
            key: "A-1".into()
        }]
    );
    assert_eq!(changes.column_by_name("to_status").unwrap().null_count(), 0);

    let again = batch.hand_over().unwrap();
    assert!(again.tables.is_empty(), "the hand-over empties the batch");
    assert!(again.plan.items.is_empty() && again.plan.moved.is_empty());
}

#[test]
fn a_row_of_an_item_the_batch_lacks_leaves_the_plan_incomplete() {
    let mut batch = LoadBatch::new();
    batch.status_change(&change("A-9", 1, None, "Open", None));
    let hand_over = batch.hand_over().unwrap();
    assert!(!hand_over.plan.items_complete);
    let items: Vec<&str> = hand_over.plan.items.iter().flatten().collect();
    assert_eq!(items, ["demo:A-9"]);
}
