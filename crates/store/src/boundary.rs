//! Area boundaries: GeoJSON geometry per area code, for the choropleth maps.
//!
//! The store keeps what an import checked (`halve_app::boundaries` parses and validates the
//! file): the geometry object's text as it came, the file it came from and when. Maps read the
//! boundaries of one area's children at a time, through the `parent_code` index.

use crate::registry::TxInner;
use crate::{Inner, Store, StoreError, dispatch};
use halve_domain::AreaCode;

/// The boundary of one area.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Boundary {
    pub area: AreaCode,
    /// A GeoJSON geometry object (`Polygon` or `MultiPolygon`), as JSON text.
    pub geometry: String,
    /// The name of the file it was imported from.
    pub source: String,
    /// UTC, `YYYY-MM-DDTHH:MM:SSZ`: when this geometry was first imported as it is.
    pub imported_at: String,
}

const COLUMNS: &str = "area_code, geometry, source, imported_at";

type Row = (String, String, String, String);

fn from_row((code, geometry, source, imported_at): Row) -> Result<Boundary, StoreError> {
    let area = AreaCode::parse_syntax(&code).map_err(|_| StoreError::Corrupt {
        table: "area_boundary",
        column: "area_code",
    })?;
    Ok(Boundary {
        area,
        geometry,
        source,
        imported_at,
    })
}

impl Store {
    /// The boundaries of the areas directly inside `parent` (the districts of a province…),
    /// by area code.
    pub async fn boundaries_within(&self, parent: AreaCode) -> Result<Vec<Boundary>, StoreError> {
        let sql = self.dialect(&format!(
            "SELECT {COLUMNS} FROM area_boundary WHERE parent_code = $1 ORDER BY area_code{{{{C}}}}"
        ));
        let rows = dispatch!(&self.inner, Inner, pool => {
            sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
                .bind(parent.to_string())
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(from_row).collect()
    }

    /// The boundary of one area, if one was imported.
    pub async fn boundary(&self, area: AreaCode) -> Result<Option<Boundary>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM area_boundary WHERE area_code = $1");
        let row = dispatch!(&self.inner, Inner, pool => {
            sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
                .bind(area.to_string())
                .fetch_optional(pool)
                .await?
        });
        row.map(from_row).transpose()
    }

    /// How many areas have a boundary.
    pub async fn boundary_count(&self) -> Result<i64, StoreError> {
        Ok(dispatch!(&self.inner, Inner, pool => {
            sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM area_boundary")
                .fetch_one(pool)
                .await?
                .0
        }))
    }
}

impl crate::Tx {
    /// Inserts or replaces boundaries (one per area code). A boundary already stored with the
    /// same geometry and source is left as it is, import time included, so importing a file
    /// again writes nothing. Returns how many rows were inserted or changed.
    pub async fn upsert_boundaries(&mut self, rows: &[Boundary]) -> Result<u64, StoreError> {
        let sql = "INSERT INTO area_boundary \
             (area_code, parent_code, geometry, source, imported_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (area_code) DO UPDATE SET geometry = excluded.geometry, \
             source = excluded.source, imported_at = excluded.imported_at \
             WHERE area_boundary.geometry IS DISTINCT FROM excluded.geometry \
             OR area_boundary.source IS DISTINCT FROM excluded.source";
        let mut written = 0;
        for b in rows {
            written += dispatch!(&mut self.inner, TxInner, tx => {
                sqlx::query(sql)
                    .bind(b.area.to_string())
                    .bind(b.area.parent().map(|p| p.to_string()))
                    .bind(b.geometry.as_str())
                    .bind(b.source.as_str())
                    .bind(b.imported_at.as_str())
                    .execute(&mut **tx)
                    .await?
                    .rows_affected()
            });
        }
        Ok(written)
    }
}
