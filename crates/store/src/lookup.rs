//! Reading one household, one village or a handful of search hits: the registry as the web
//! app sees it, a page at a time, where [`crate::registry`] streams whole tables for exports
//! and measurement.
//!
//! Searches take an [`AreaFilter`] and apply it in SQL, so a scoped user's search never
//! fetches a household outside their areas (the web app checks every hit again anyway).

use std::collections::HashSet;

use crate::registry::TxInner;
use crate::rows::{self, RowGet};
use crate::{Inner, Store, StoreError, Tx, dispatch};
use halve_domain::{
    Assessment, BeYear, Household, MembershipEvent, Person, PersonFlag, Village, WelfareCard,
};

/// Where a search may look: households whose village code starts with one of `include`
/// (every household when `include` is empty) and with none of `exclude`. Codes are area codes
/// (digits only), so they are safe inside a `LIKE` pattern.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AreaFilter {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// True when nothing at all may be seen (a scoped account whose scope matches no area).
    pub nothing: bool,
}

/// What to search for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SearchBy {
    /// Every term must begin the first or the last name of one person (Thai names are
    /// written without spaces inside a name, so a term is the start of a name).
    Name(Vec<String>),
    /// The 13 digits of a citizen ID.
    CitizenId(String),
    /// A house code, exactly.
    HouseCode(String),
    /// Every household of one village (8-digit code).
    Village(String),
}

/// One household found, with the person whose name or ID matched (if the search was by
/// person).
#[derive(Clone, Debug, PartialEq)]
pub struct SearchHit {
    pub household: Household,
    pub person: Option<Person>,
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
/// `column` starts with `prefix`, as a bytewise range the name indexes serve (a `LIKE` would
/// read every person, on SQLite and under PostgreSQL's collations alike).
fn name_range(column: &str, prefix: &str, params: &mut Vec<String>) -> String {
    params.push(prefix.to_owned());
    let from = params.len();
    match prefix_end(prefix) {
        Some(end) => {
            params.push(end);
            let to = params.len();
            format!("({column}{{{{C}}}} >= ${from} AND {column}{{{{C}}}} < ${to})")
        }
        None => format!("{column}{{{{C}}}} >= ${from}"),
    }
}

/// The least string above every string that starts with `prefix`, in code point order (which
/// is UTF-8's byte order): the prefix with its last character raised by one, dropping
/// trailing characters that cannot be raised. `None` when every string from `prefix` on
/// starts with it.
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = u32::from(last) + 1;
        if (0xD800..0xE000).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `col LIKE` conditions of a filter, with their parameters numbered from `next`.
fn area_sql(column: &str, filter: &AreaFilter, params: &mut Vec<String>) -> String {
    let mut sql = String::new();
    if filter.nothing {
        return " AND 1 = 0".into();
    }
    if !filter.include.is_empty() {
        let parts: Vec<String> = filter
            .include
            .iter()
            .map(|code| {
                params.push(format!("{}%", like_literal(code)));
                format!("{column} LIKE ${} ESCAPE '\\'", params.len())
            })
            .collect();
        sql.push_str(&format!(" AND ({})", parts.join(" OR ")));
    }
    for code in &filter.exclude {
        params.push(format!("{}%", like_literal(code)));
        sql.push_str(&format!(
            " AND NOT ({column} LIKE ${} ESCAPE '\\')",
            params.len()
        ));
    }
    sql
}

fn prefixed(columns: &str, alias: &str) -> String {
    columns
        .split(", ")
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// Rows of a query with text parameters, each mapped once for both drivers.
    async fn fetch_mapped<T>(
        &self,
        sql: &str,
        params: &[String],
        map: fn(&dyn RowGet) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let sql = self.dialect(sql);
        dispatch!(&self.inner, Inner, pool => {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for p in params {
                query = query.bind(p.clone());
            }
            let rows = query.fetch_all(pool).await?;
            rows.iter().map(|r| map(r)).collect()
        })
    }

    pub async fn household(&self, house_code: &str) -> Result<Option<Household>, StoreError> {
        let sql = format!(
            "SELECT {} FROM household WHERE house_code = $1",
            rows::HOUSEHOLD_COLUMNS
        );
        let mut found = self
            .fetch_mapped(&sql, &[house_code.to_owned()], |r| {
                rows::household_from_row(r)
            })
            .await?;
        Ok(found.pop())
    }

    pub async fn village(&self, code: &str) -> Result<Option<Village>, StoreError> {
        let sql = format!(
            "SELECT {} FROM village WHERE code = $1",
            rows::VILLAGE_COLUMNS
        );
        let mut found = self
            .fetch_mapped(&sql, &[code.to_owned()], |r| rows::village_from_row(r))
            .await?;
        Ok(found.pop())
    }

    /// The villages of a subdistrict, by code.
    pub async fn villages_in(&self, subdistrict: &str) -> Result<Vec<Village>, StoreError> {
        let sql = format!(
            "SELECT {} FROM village WHERE subdistrict = $1 ORDER BY code{{{{C}}}}",
            rows::VILLAGE_COLUMNS
        );
        self.fetch_mapped(&sql, &[subdistrict.to_owned()], |r| {
            rows::village_from_row(r)
        })
        .await
    }

    /// The persons registered in a household now, by person code.
    pub async fn persons_in(&self, house_code: &str) -> Result<Vec<Person>, StoreError> {
        let sql = format!(
            "SELECT {} FROM person WHERE house_code = $1 ORDER BY person_code{{{{C}}}}",
            rows::PERSON_COLUMNS
        );
        self.fetch_mapped(&sql, &[house_code.to_owned()], |r| rows::person_from_row(r))
            .await
    }

    /// The vulnerability flags of the persons registered in a household now.
    pub async fn flags_in(&self, house_code: &str) -> Result<Vec<PersonFlag>, StoreError> {
        let sql = format!(
            "SELECT {} FROM person_flag f WHERE f.person_code IN \
             (SELECT person_code FROM person WHERE house_code = $1) \
             ORDER BY f.person_code{{{{C}}}}, f.flag{{{{C}}}}, f.as_of",
            prefixed(rows::FLAG_COLUMNS, "f")
        );
        self.fetch_mapped(&sql, &[house_code.to_owned()], |r| rows::flag_from_row(r))
            .await
    }

    /// The welfare-card records of the persons registered in a household now.
    pub async fn welfare_cards_in(&self, house_code: &str) -> Result<Vec<WelfareCard>, StoreError> {
        let sql = format!(
            "SELECT {} FROM welfare_card w WHERE w.person_code IN \
             (SELECT person_code FROM person WHERE house_code = $1) \
             ORDER BY w.person_code{{{{C}}}}, w.as_of",
            prefixed(rows::WELFARE_COLUMNS, "w")
        );
        self.fetch_mapped(&sql, &[house_code.to_owned()], |r| {
            rows::welfare_from_row(r)
        })
        .await
    }

    /// A household's assessments, by round.
    pub async fn assessments_of(&self, house_code: &str) -> Result<Vec<Assessment>, StoreError> {
        let sql = format!(
            "SELECT {} FROM assessment WHERE house_code = $1 ORDER BY round_year",
            rows::ASSESSMENT_COLUMNS
        );
        self.fetch_mapped(&sql, &[house_code.to_owned()], |r| {
            rows::assessment_from_row(r)
        })
        .await
    }

    /// Births, deaths and moves recorded at a household, oldest first.
    pub async fn events_at(&self, house_code: &str) -> Result<Vec<MembershipEvent>, StoreError> {
        let sql = format!(
            "SELECT {} FROM membership_event WHERE house_code = $1 \
             ORDER BY event_date, person_code{{{{C}}}}, kind{{{{C}}}}",
            rows::EVENT_COLUMNS
        );
        self.fetch_mapped(&sql, &[house_code.to_owned()], |r| rows::event_from_row(r))
            .await
    }

    /// Households matching `by` inside `filter`, at most `limit`, by house code (then person
    /// code).
    pub async fn search_households(
        &self,
        by: &SearchBy,
        filter: &AreaFilter,
        limit: u32,
    ) -> Result<Vec<SearchHit>, StoreError> {
        let mut params = Vec::new();
        let person_hits = |params: &mut Vec<String>, condition: String| {
            let area = area_sql("h.village", filter, params);
            format!(
                "SELECT {} FROM person p JOIN household h ON h.house_code = p.house_code \
                 WHERE {condition}{area} ORDER BY p.house_code{{{{C}}}}, p.person_code{{{{C}}}} \
                 LIMIT {limit}",
                prefixed(rows::PERSON_COLUMNS, "p")
            )
        };
        let persons: Vec<Person> = match by {
            SearchBy::Name(terms) => {
                let mut terms: Vec<&String> =
                    terms.iter().filter(|t| !t.is_empty()).take(4).collect();
                if terms.is_empty() {
                    return Ok(Vec::new());
                }
                // The longest term drives the index walk (it is likely the rarest); the others
                // filter the persons it finds.
                terms.sort_by_key(|t| std::cmp::Reverse(t.chars().count()));
                let mut found: Vec<(String, Person)> = Vec::new();
                for column in ["first_name", "last_name"] {
                    let mut params = Vec::new();
                    let driver = name_range(&format!("p.{column}"), terms[0], &mut params);
                    let mut conditions = vec![driver];
                    for term in &terms[1..] {
                        let first = name_range("p.first_name", term, &mut params);
                        let last = name_range("p.last_name", term, &mut params);
                        conditions.push(format!("({first} OR {last})"));
                    }
                    let area = area_sql("h.village", filter, &mut params);
                    let sql = format!(
                        "SELECT {} FROM person p JOIN household h ON h.house_code = p.house_code \
                         WHERE {}{area} ORDER BY p.{column}{{{{C}}}}, p.person_code{{{{C}}}} \
                         LIMIT {limit}",
                        prefixed(rows::PERSON_COLUMNS, "p"),
                        conditions.join(" AND ")
                    );
                    let persons = self
                        .fetch_mapped(&sql, &params, |r| rows::person_from_row(r))
                        .await?;
                    found.extend(persons.into_iter().map(|p| {
                        let key = if column == "first_name" {
                            p.first_name.clone()
                        } else {
                            p.last_name.clone()
                        };
                        (key, p)
                    }));
                }
                // Both walks in one list, in the order of the name that matched, each person
                // once (a first and a last name can both match).
                found.sort_by(|(ka, a), (kb, b)| {
                    (ka.as_bytes(), a.person_code.as_str().as_bytes())
                        .cmp(&(kb.as_bytes(), b.person_code.as_str().as_bytes()))
                });
                let mut seen = HashSet::new();
                found
                    .into_iter()
                    .map(|(_, p)| p)
                    .filter(|p| seen.insert(p.person_code.as_str().to_owned()))
                    .take(limit as usize)
                    .collect()
            }
            SearchBy::CitizenId(digits) => {
                params.push(digits.clone());
                let sql = person_hits(&mut params, "p.citizen_id = $1".into());
                self.fetch_mapped(&sql, &params, |r| rows::person_from_row(r))
                    .await?
            }
            SearchBy::HouseCode(code) => {
                params.push(code.clone());
                let area = area_sql("village", filter, &mut params);
                let sql = format!(
                    "SELECT {} FROM household WHERE house_code = $1{area}",
                    rows::HOUSEHOLD_COLUMNS
                );
                let found = self
                    .fetch_mapped(&sql, &params, |r| rows::household_from_row(r))
                    .await?;
                return Ok(found
                    .into_iter()
                    .map(|household| SearchHit {
                        household,
                        person: None,
                    })
                    .collect());
            }
            SearchBy::Village(code) => {
                params.push(code.clone());
                let area = area_sql("village", filter, &mut params);
                let sql = format!(
                    "SELECT {} FROM household WHERE village = $1{area} \
                     ORDER BY house_code{{{{C}}}} LIMIT {limit}",
                    rows::HOUSEHOLD_COLUMNS
                );
                let found = self
                    .fetch_mapped(&sql, &params, |r| rows::household_from_row(r))
                    .await?;
                return Ok(found
                    .into_iter()
                    .map(|household| SearchHit {
                        household,
                        person: None,
                    })
                    .collect());
            }
        };
        let mut hits = Vec::with_capacity(persons.len());
        for person in persons {
            // At most `limit` persons, so one lookup each stays small.
            if let Some(household) = self.household(person.household.as_str()).await? {
                hits.push(SearchHit {
                    household,
                    person: Some(person),
                });
            }
        }
        Ok(hits)
    }
}

impl Tx {
    /// A household's assessment in one round, read inside the transaction (the "before" of
    /// an audited change).
    pub async fn assessment(
        &mut self,
        round: BeYear,
        house_code: &str,
    ) -> Result<Option<Assessment>, StoreError> {
        let sql = format!(
            "SELECT {} FROM assessment WHERE round_year = $1 AND house_code = $2",
            rows::ASSESSMENT_COLUMNS
        );
        dispatch!(&mut self.inner, TxInner, tx => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(i64::from(round.be()))
                .bind(house_code)
                .fetch_optional(&mut **tx)
                .await?;
            row.as_ref().map(rows::assessment_from_row).transpose()
        })
    }

    /// Whether a household exists, read inside the transaction.
    pub async fn household_exists(&mut self, house_code: &str) -> Result<bool, StoreError> {
        dispatch!(&mut self.inner, TxInner, tx => {
            let row: Option<(String,)> =
                sqlx::query_as("SELECT house_code FROM household WHERE house_code = $1")
                    .bind(house_code)
                    .fetch_optional(&mut **tx)
                    .await?;
            Ok(row.is_some())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_ends_where_its_last_character_is_raised() {
        assert_eq!(prefix_end("สม").as_deref(), Some("สย"));
        assert_eq!(prefix_end("ab").as_deref(), Some("ac"));
        // Raising skips the surrogate gap, and a character that cannot be raised is dropped.
        assert_eq!(prefix_end("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{10FFFF}"), None);
        // Every string with the prefix sorts below the end, bytewise as SQL compares them.
        for name in ["สม", "สมศรี", "สม\u{10FFFF}x"] {
            assert!(name.as_bytes() < prefix_end("สม").unwrap().as_bytes());
        }
    }

    #[test]
    fn like_patterns_escape_wildcards_and_filters_number_their_parameters() {
        assert_eq!(like_literal("a%b_c\\"), "a\\%b\\_c\\\\");
        let mut params = vec!["x".to_string()];
        let filter = AreaFilter {
            include: vec!["8001".into(), "800201".into()],
            exclude: vec!["80010101".into()],
            nothing: false,
        };
        let sql = area_sql("h.village", &filter, &mut params);
        assert_eq!(
            sql,
            " AND (h.village LIKE $2 ESCAPE '\\' OR h.village LIKE $3 ESCAPE '\\') \
             AND NOT (h.village LIKE $4 ESCAPE '\\')"
        );
        assert_eq!(params, ["x", "8001%", "800201%", "80010101%"]);
        let none = AreaFilter {
            nothing: true,
            ..AreaFilter::default()
        };
        assert_eq!(area_sql("v", &none, &mut params), " AND 1 = 0");
    }
}
