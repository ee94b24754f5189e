//! Query results as JSON: one object per row with the columns in the query's order, numbers as numbers, lists
//! as arrays, structs and maps as objects (struct fields in their order), timestamps with a time zone as RFC
//! 3339 instants in UTC, anything else as the text a table shows.
//!
//! Serialized straight from the Arrow arrays, so a list of labels is `["performance"]`, not the string
//! `"[performance]"` its display form would give, and key order never depends on a map's sorting.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use chrono::{DateTime, SecondsFormat};
use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::console::QueryResult;

/// The rows of a [`QueryResult`] as a JSON array of objects: see the module documentation.
#[derive(Debug, Clone, Copy)]
pub struct JsonRows<'a>(&'a QueryResult);

impl QueryResult {
    /// The rows, serializable as a JSON array of objects keyed by column in the query's order.
    pub fn json_rows(&self) -> JsonRows<'_> {
        JsonRows(self)
    }
}

impl Serialize for JsonRows<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let rows: usize = self.0.batches.iter().map(|b| b.num_rows()).sum();
        let mut seq = s.serialize_seq(Some(rows))?;
        for b in &self.0.batches {
            for row in 0..b.num_rows() {
                seq.serialize_element(&Row {
                    names: &self.0.columns,
                    columns: b.columns(),
                    row,
                })?;
            }
        }
        seq.end()
    }
}

/// One row as an object.
struct Row<'a> {
    names: &'a [String],
    columns: &'a [ArrayRef],
    row: usize,
}

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.columns.len()))?;
        for (name, column) in self.names.iter().zip(self.columns) {
            map.serialize_entry(
                name,
                &Cell {
                    array: column.as_ref(),
                    index: self.row,
                },
            )?;
        }
        map.end()
    }
}

/// One value of an array.
struct Cell<'a> {
    array: &'a dyn Array,
    index: usize,
}

impl Cell<'_> {
    /// The value as the table and CSV show it.
    fn text(&self) -> Result<String, String> {
        let opts = FormatOptions::default();
        let f = ArrayFormatter::try_new(self.array, &opts).map_err(|e| e.to_string())?;
        Ok(f.value(self.index).to_string())
    }
}

/// Every element of `values` in order, as a JSON array.
struct Elements<'a> {
    values: &'a dyn Array,
}

impl Serialize for Elements<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.values.len()))?;
        for index in 0..self.values.len() {
            seq.serialize_element(&Cell {
                array: self.values,
                index,
            })?;
        }
        seq.end()
    }
}

/// A float as a JSON number; NaN and the infinities, which JSON cannot hold, as their names.
fn float<S: Serializer>(s: S, v: f64) -> Result<S::Ok, S::Error> {
    if v.is_finite() {
        s.serialize_f64(v)
    } else {
        s.serialize_str(&v.to_string())
    }
}

/// An instant `v` counted in `unit` since the epoch, as RFC 3339 in UTC; `None` outside chrono's range.
fn instant(v: i64, unit: TimeUnit) -> Option<String> {
    let t = match unit {
        TimeUnit::Second => DateTime::from_timestamp(v, 0),
        TimeUnit::Millisecond => DateTime::from_timestamp_millis(v),
        TimeUnit::Microsecond => DateTime::from_timestamp_micros(v),
        TimeUnit::Nanosecond => Some(DateTime::from_timestamp_nanos(v)),
    }?;
    Some(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

impl Serialize for Cell<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (a, i) = (self.array, self.index);
        if a.is_null(i) {
            return s.serialize_none();
        }
        macro_rules! prim {
            ($t:ty, $method:ident) => {
                if let Some(p) = a.as_primitive_opt::<$t>() {
                    return s.$method(p.value(i));
                }
            };
        }
        match a.data_type() {
            DataType::Boolean => {
                if let Some(b) = a.as_boolean_opt() {
                    return s.serialize_bool(b.value(i));
                }
            }
            DataType::Int8 => prim!(Int8Type, serialize_i8),
            DataType::Int16 => prim!(Int16Type, serialize_i16),
            DataType::Int32 => prim!(Int32Type, serialize_i32),
            DataType::Int64 => prim!(Int64Type, serialize_i64),
            DataType::UInt8 => prim!(UInt8Type, serialize_u8),
            DataType::UInt16 => prim!(UInt16Type, serialize_u16),
            DataType::UInt32 => prim!(UInt32Type, serialize_u32),
            DataType::UInt64 => prim!(UInt64Type, serialize_u64),
            DataType::Float32 => {
                if let Some(p) = a.as_primitive_opt::<Float32Type>() {
                    return float(s, f64::from(p.value(i)));
                }
            }
            DataType::Float64 => {
                if let Some(p) = a.as_primitive_opt::<Float64Type>() {
                    return float(s, p.value(i));
                }
            }
            DataType::Utf8 => {
                if let Some(t) = a.as_string_opt::<i32>() {
                    return s.serialize_str(t.value(i));
                }
            }
            DataType::LargeUtf8 => {
                if let Some(t) = a.as_string_opt::<i64>() {
                    return s.serialize_str(t.value(i));
                }
            }
            DataType::Utf8View => {
                if let Some(t) = a.as_string_view_opt() {
                    return s.serialize_str(t.value(i));
                }
            }
            DataType::List(_) => {
                if let Some(l) = a.as_list_opt::<i32>() {
                    let values = l.value(i);
                    return Elements {
                        values: values.as_ref(),
                    }
                    .serialize(s);
                }
            }
            DataType::LargeList(_) => {
                if let Some(l) = a.as_list_opt::<i64>() {
                    let values = l.value(i);
                    return Elements {
                        values: values.as_ref(),
                    }
                    .serialize(s);
                }
            }
            DataType::FixedSizeList(_, _) => {
                if let Some(l) = a.as_fixed_size_list_opt() {
                    let values = l.value(i);
                    return Elements {
                        values: values.as_ref(),
                    }
                    .serialize(s);
                }
            }
            DataType::Struct(fields) => {
                if let Some(st) = a.as_struct_opt() {
                    let mut map = s.serialize_map(Some(fields.len()))?;
                    for (field, column) in fields.iter().zip(st.columns()) {
                        map.serialize_entry(
                            field.name(),
                            &Cell {
                                array: column.as_ref(),
                                index: i,
                            },
                        )?;
                    }
                    return map.end();
                }
            }
            DataType::Map(_, _) => {
                if let Some(m) = a.as_map_opt() {
                    let entries = m.value(i);
                    let (keys, values) = (entries.column(0), entries.column(1));
                    let mut map = s.serialize_map(Some(entries.len()))?;
                    for index in 0..entries.len() {
                        let key = Cell {
                            array: keys.as_ref(),
                            index,
                        };
                        let key = match keys.as_string_opt::<i32>() {
                            Some(k) => k.value(index).to_string(),
                            None => key.text().map_err(S::Error::custom)?,
                        };
                        map.serialize_entry(
                            &key,
                            &Cell {
                                array: values.as_ref(),
                                index,
                            },
                        )?;
                    }
                    return map.end();
                }
            }
            DataType::Timestamp(unit, Some(_)) => {
                let v = match unit {
                    TimeUnit::Second => a
                        .as_primitive_opt::<TimestampSecondType>()
                        .map(|p| p.value(i)),
                    TimeUnit::Millisecond => a
                        .as_primitive_opt::<TimestampMillisecondType>()
                        .map(|p| p.value(i)),
                    TimeUnit::Microsecond => a
                        .as_primitive_opt::<TimestampMicrosecondType>()
                        .map(|p| p.value(i)),
                    TimeUnit::Nanosecond => a
                        .as_primitive_opt::<TimestampNanosecondType>()
                        .map(|p| p.value(i)),
                };
                if let Some(t) = v.and_then(|v| instant(v, *unit)) {
                    return s.serialize_str(&t);
                }
            }
            DataType::Decimal128(_, _) | DataType::Decimal256(_, _) => {
                let text = self.text().map_err(S::Error::custom)?;
                return match serde_json::from_str::<serde_json::Number>(&text) {
                    Ok(n) => n.serialize(s),
                    Err(_) => s.serialize_str(&text),
                };
            }
            _ => {}
        }
        s.serialize_str(&self.text().map_err(S::Error::custom)?)
    }
}
