//! One column of a hand-over record read row by row, for the stores that encode rows themselves
//! (PostgreSQL's binary `COPY`, ClickHouse's `RowBinary`): label and item columns decoded from their
//! dictionaries, every other column as the Arrow array it is.

use arrow::array::{Array, ArrayRef, AsArray, StringArray};
use arrow::datatypes::{DataType, Int32Type, Int64Type, TimeUnit};

use crate::error::StoreError;
use crate::schema::{ColType, TableDef};

/// One column of a [`TableRows`](super::TableRows) record, by its [`ColType`].
pub(crate) enum HandOverColumn<'a> {
    /// Text or JSON text.
    Text(&'a StringArray),
    /// A label or item column: each row's key into `values` (the table's labels, or the batch's item ids).
    Coded {
        keys: Vec<Option<usize>>,
        values: &'a StringArray,
    },
    Int(&'a arrow::array::Int64Array),
    Float(&'a arrow::array::Float64Array),
    Bool(&'a arrow::array::BooleanArray),
    /// UTC microseconds.
    Timestamp(&'a arrow::array::TimestampMicrosecondArray),
    TextList(&'a arrow::array::ListArray),
}

impl<'a> HandOverColumn<'a> {
    pub(crate) fn new(
        def: &TableDef,
        ty: ColType,
        array: &'a ArrayRef,
        items: &'a StringArray,
    ) -> Result<Self, StoreError> {
        let wrong = || StoreError::Batch {
            table: def.name.to_string(),
            message: format!("a {ty:?} column arrived as {}", array.data_type()),
        };
        Ok(match ty {
            ColType::Text | ColType::Json => Self::Text(array.as_string_opt().ok_or_else(wrong)?),
            ColType::Label => {
                let dict = array.as_dictionary_opt::<Int32Type>().ok_or_else(wrong)?;
                Self::Coded {
                    keys: dict.keys().iter().map(|k| k.map(|k| k as usize)).collect(),
                    values: dict.values().as_string_opt().ok_or_else(wrong)?,
                }
            }
            ColType::Item => {
                let dict = array.as_dictionary_opt::<Int64Type>().ok_or_else(wrong)?;
                Self::Coded {
                    keys: dict.keys().iter().map(|k| k.map(|k| k as usize)).collect(),
                    values: items,
                }
            }
            ColType::Int => Self::Int(array.as_primitive_opt().ok_or_else(wrong)?),
            ColType::Float => Self::Float(array.as_primitive_opt().ok_or_else(wrong)?),
            ColType::Bool => Self::Bool(array.as_boolean_opt().ok_or_else(wrong)?),
            ColType::Timestamp => match array.data_type() {
                DataType::Timestamp(TimeUnit::Microsecond, _) => {
                    Self::Timestamp(array.as_primitive_opt().ok_or_else(wrong)?)
                }
                _ => return Err(wrong()),
            },
            ColType::TextList => Self::TextList(array.as_list_opt().ok_or_else(wrong)?),
        })
    }

    /// Whether row `i` is NULL.
    pub(crate) fn is_null(&self, i: usize) -> bool {
        match self {
            Self::Text(a) => a.is_null(i),
            Self::Coded { .. } => self.coded(i).is_none(),
            Self::Int(a) => a.is_null(i),
            Self::Float(a) => a.is_null(i),
            Self::Bool(a) => a.is_null(i),
            Self::Timestamp(a) => a.is_null(i),
            Self::TextList(a) => a.is_null(i),
        }
    }

    /// Row `i`'s text of a label or item column (`None` for NULL, or for another kind of column).
    pub(crate) fn coded(&self, i: usize) -> Option<&'a str> {
        match self {
            Self::Coded { keys, values } => keys
                .get(i)
                .copied()
                .flatten()
                .filter(|k| *k < values.len() && values.is_valid(*k))
                .map(|k| values.value(k)),
            _ => None,
        }
    }
}
