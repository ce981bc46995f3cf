//! JSON stored as TEXT (portable across both backends), read as a typed value: a column
//! selected as `JsonText<T>` is decoded when the row is loaded, and a value that does not decode
//! is an error of the query — a corrupt row fails loudly instead of reading as empty.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, Queryable};
use diesel::sql_types::Text;
use serde::de::DeserializeOwned;

/// A TEXT column holding the JSON of a `T`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonText<T>(pub T);

impl<T> JsonText<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// Decodes JSON stored as TEXT that was loaded as a string (a nullable column, a field of a
/// wider row): like a `JsonText` column, a value that does not decode is an error of the query.
pub fn decode<T: DeserializeOwned>(text: &str) -> diesel::QueryResult<T> {
    serde_json::from_str(text).map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
}

impl<T, DB> FromSql<Text, DB> for JsonText<T>
where
    DB: Backend,
    String: FromSql<Text, DB>,
    T: DeserializeOwned,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, DB>>::from_sql(bytes)?;
        Ok(JsonText(serde_json::from_str(&text)?))
    }
}

impl<T, DB> Queryable<Text, DB> for JsonText<T>
where
    DB: Backend,
    Self: FromSql<Text, DB>,
{
    type Row = Self;

    fn build(row: Self) -> deserialize::Result<Self> {
        Ok(row)
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::Nullable;

    use super::*;

    fn conn() -> crate::db::DbConn {
        let mut c = crate::db::DbConn::Sqlite(SqliteConnection::establish(":memory:").unwrap());
        c.batch_execute("SELECT 1").unwrap();
        c
    }

    #[derive(QueryableByName)]
    struct One {
        #[diesel(sql_type = Text)]
        v: JsonText<Vec<i64>>,
    }

    #[derive(QueryableByName)]
    struct Maybe {
        #[diesel(sql_type = Nullable<Text>)]
        v: Option<JsonText<Vec<String>>>,
    }

    #[test]
    fn a_stored_json_value_reads_as_its_type() {
        let row: One = diesel::sql_query("SELECT '[1,2,3]' AS v")
            .get_result(&mut conn())
            .unwrap();
        assert_eq!(row.v.into_inner(), vec![1, 2, 3]);
        let row: Maybe = diesel::sql_query("SELECT NULL AS v")
            .get_result(&mut conn())
            .unwrap();
        assert_eq!(row.v, None);
    }

    #[test]
    fn a_corrupt_value_is_an_error_not_an_empty_value() {
        for stored in ["", "not json", "{\"a\":1}", "[\"x\"]"] {
            let got =
                diesel::sql_query(format!("SELECT '{stored}' AS v")).get_result::<One>(&mut conn());
            assert!(
                matches!(got, Err(diesel::result::Error::DeserializationError(_))),
                "{stored:?} read as {:?}",
                got.map(|r| r.v)
            );
        }
    }
}
