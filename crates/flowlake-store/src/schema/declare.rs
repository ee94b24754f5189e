//! [`declare_table!`](crate::declare_table): a table declared once, its row writer following from it.

/// Declares a table and the writer of its rows in one place: each column's name, type and value sit on one
/// line, so the [`TableDef`](crate::schema::TableDef)'s column order and the writer's order cannot drift, and a
/// value of the wrong type for its column (a `String` for a `Timestamp`, an `Option` for a column that is
/// not nullable) does not compile.
///
/// A column is `name: Type = value` (not nullable: the value is the column's Rust type) or
/// `name: Type? = value` (nullable: an `Option` of it), where `Type` is a [`ColType`](crate::schema::ColType)
/// and the Rust types are those of [`Row`](crate::batch::Row)'s setters: `Text` and `Json` `&str`, `Int`
/// `i64`, `Float` `f64`, `Bool` `bool`, `Timestamp` `DateTime<Utc>`, `TextList` `&[String]` (never null),
/// `Label` `&str`, `Item` the batch's number of an item id (`i64`, only inside this crate).
///
/// Two forms. An entity kind (a value written as one row on its own) names its type and the binding its
/// values read; it gets a [`TableRow`](crate::entity::TableRow) impl and a static
/// [`EntityTable`](crate::entity::EntityTable), and `once by key` keeps one row per key within a batch:
///
/// ```ignore
/// declare_table! {
///     /// Deployments.
///     pub DEPLOYMENTS = "deployments", "Deployments of a service to an environment";
///     key [id], replace [id];
///     entity DEPLOYMENT for d: Deployment;
///     {
///         id: Text = &d.id,
///         commit_sha: Text? = d.commit_sha.as_deref(),
///         created_at: Timestamp = d.created_at,
///     }
/// }
/// ```
///
/// A row made of several values (an item with its metrics) names a writer function and its arguments instead:
/// `fn write_status_change(c: &StatusChange, item: i64);` gives `fn write_status_change(row: Row<'_>, c, item)`.
#[macro_export]
macro_rules! declare_table {
    (
        $(#[$attr:meta])*
        $vis:vis $TABLE:ident = $name:literal, $doc:literal;
        key [$($pk:ident),* $(,)?], replace [$($rk:ident),* $(,)?];
        entity $ENTITY:ident for $e:ident : $T:ty $(, once by $once:expr)?;
        { $($cols:tt)* }
    ) => {
        $crate::declare_table!(@munch
            [entity [$(#[$attr])* $vis $TABLE $name $doc [$($pk)*] [$($rk)*]] $vis $ENTITY $e [$T] [$($once)?]]
            [] $($cols)*);
    };
    (
        $(#[$attr:meta])*
        $vis:vis $TABLE:ident = $name:literal, $doc:literal;
        key [$($pk:ident),* $(,)?], replace [$($rk:ident),* $(,)?];
        fn $writer:ident ( $($arg:ident : $argty:ty),* $(,)? );
        { $($cols:tt)* }
    ) => {
        $crate::declare_table!(@munch
            [writer [$(#[$attr])* $vis $TABLE $name $doc [$($pk)*] [$($rk)*]] $writer [$($arg [$argty])*]]
            [] $($cols)*);
    };
    // One column at a time into `[(name Type nullable value) …]`.
    (@munch $head:tt [$($done:tt)*] $col:ident : $ty:ident ? = $v:expr $(, $($rest:tt)*)?) => {
        $crate::declare_table!(@munch $head [$($done)* ($col $ty true $v)] $($($rest)*)?);
    };
    (@munch $head:tt [$($done:tt)*] $col:ident : $ty:ident = $v:expr $(, $($rest:tt)*)?) => {
        $crate::declare_table!(@munch $head [$($done)* ($col $ty false $v)] $($($rest)*)?);
    };
    (@munch [entity $def:tt $vis:vis $ENTITY:ident $e:ident [$T:ty] [$($once:expr)?]] $cols:tt) => {
        $crate::declare_table!(@def $def $cols);
        $crate::declare_table!(@entity $def $vis $ENTITY $e [$T] [$($once)?] $cols);
    };
    (@munch [writer $def:tt $writer:ident [$($arg:ident [$argty:ty])*]] $cols:tt) => {
        $crate::declare_table!(@def $def $cols);
        $crate::declare_table!(@writer $writer [$($arg [$argty])*] $cols);
    };
    (@def [$(#[$attr:meta])* $vis:vis $TABLE:ident $name:literal $doc:literal [$($pk:ident)*] [$($rk:ident)*]]
          [$(($col:ident $ty:ident $null:tt $v:expr))*]) => {
        $(#[$attr])*
        $vis const $TABLE: $crate::schema::TableDef = $crate::schema::TableDef {
            name: $name,
            doc: $doc,
            columns: &[$($crate::schema::Column {
                name: stringify!($col),
                ty: $crate::schema::ColType::$ty,
                nullable: $null,
            }),*],
            primary_key: &[$(stringify!($pk)),*],
            replace_key: &[$(stringify!($rk)),*],
        };
    };
    (@entity [$(#[$attr:meta])* $tvis:vis $TABLE:ident $name:literal $doc:literal $pk:tt $rk:tt]
             $vis:vis $ENTITY:ident $e:ident [$T:ty] [$($once:expr)?]
             [$(($col:ident $ty:ident $null:tt $v:expr))*]) => {
        impl $crate::entity::TableRow for $T {
            const TABLE: &'static $crate::schema::TableDef = &$TABLE;
            #[inline]
            fn write_row(&self, row: $crate::batch::Row<'_>) {
                let $e = self;
                $(let row = $crate::declare_table!(@cell row $ty $null $v);)*
                row.end();
            }
            $(
                fn once_key(&self) -> Option<&str> {
                    let $e = self;
                    Some($once)
                }
            )?
        }
        #[doc = concat!("The entity kind of `", stringify!($T), "`, rows of `", $name, "`.")]
        $vis static $ENTITY: $crate::entity::EntityTable = $crate::entity::EntityTable::of::<$T>();
    };
    (@writer $writer:ident [$($arg:ident [$argty:ty])*] [$(($col:ident $ty:ident $null:tt $v:expr))*]) => {
        #[inline]
        pub(crate) fn $writer(row: $crate::batch::Row<'_>, $($arg: $argty),*) {
            $(let row = $crate::declare_table!(@cell row $ty $null $v);)*
            row.end();
        }
    };
    // One value into its column, through the setter of its type: the value must have the setter's type.
    (@cell $row:ident Text false $v:expr) => { $row.text(Some($v)) };
    (@cell $row:ident Text true $v:expr) => { $row.text($v) };
    (@cell $row:ident Json false $v:expr) => { $row.text(Some($v)) };
    (@cell $row:ident Json true $v:expr) => { $row.text($v) };
    (@cell $row:ident Int false $v:expr) => { $row.int(Some($v)) };
    (@cell $row:ident Int true $v:expr) => { $row.int($v) };
    (@cell $row:ident Float false $v:expr) => { $row.float(Some($v)) };
    (@cell $row:ident Float true $v:expr) => { $row.float($v) };
    (@cell $row:ident Bool false $v:expr) => { $row.bool(Some($v)) };
    (@cell $row:ident Bool true $v:expr) => { $row.bool($v) };
    (@cell $row:ident Timestamp false $v:expr) => { $row.ts(Some($v)) };
    (@cell $row:ident Timestamp true $v:expr) => { $row.ts($v) };
    (@cell $row:ident TextList false $v:expr) => { $row.list($v) };
    (@cell $row:ident Label false $v:expr) => { $row.label(Some($v)) };
    (@cell $row:ident Label true $v:expr) => { $row.label($v) };
    (@cell $row:ident Item false $v:expr) => { $row.item($v) };
}
