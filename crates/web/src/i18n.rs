//! Thai first, English second: the language of a request and the words of the pages.
//!
//! The words are data (`messages/*.toml`, embedded; one file per part of the app): one key, its Thai and its English. A
//! request is in Thai unless `?lang=en` asked for English (remembered in a cookie). Dates are
//! always Buddhist Era.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use halve_domain::BeDate;

use crate::access::{LANG_COOKIE, read_cookie};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    Th,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Th => "th",
            Lang::En => "en",
        }
    }

    fn parse(s: &str) -> Option<Lang> {
        match s {
            "th" => Some(Lang::Th),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language a query string asks for (`lang=en`), if any.
    pub fn from_query(query: Option<&str>) -> Option<Lang> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(query.unwrap_or_default()).unwrap_or_default();
        pairs
            .iter()
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(v))
    }

    /// The request's language: the query's, else the cookie's, else Thai.
    pub fn of(parts: &Parts) -> Lang {
        Lang::from_query(parts.uri.query())
            .or_else(|| read_cookie(&parts.headers, LANG_COOKIE).and_then(Lang::parse))
            .unwrap_or_default()
    }

    /// The word for `key`; the key itself when the catalogue lacks it (a test checks it never
    /// does for the keys the code uses).
    pub fn t(self, key: &str) -> &'static str {
        let map = match self {
            Lang::Th => &CATALOGUE.0,
            Lang::En => &CATALOGUE.1,
        };
        map.get(key).map_or("?", |s| s.as_str())
    }

    /// Every word in this language, for templates (`tr.key`).
    pub fn words(self) -> &'static BTreeMap<String, String> {
        match self {
            Lang::Th => &CATALOGUE.0,
            Lang::En => &CATALOGUE.1,
        }
    }

    /// A date as people read it: `23 ก.พ. 2566` or `23 Feb 2566 BE`.
    pub fn date(self, date: BeDate) -> String {
        match self {
            Lang::Th => date.to_thai(),
            Lang::En => {
                const MONTHS: [&str; 12] = [
                    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                    "Dec",
                ];
                format!(
                    "{} {} {} BE",
                    date.day(),
                    MONTHS[usize::from(date.month() - 1)],
                    date.year().be()
                )
            }
        }
    }

    /// Thai or English text of a pair, whichever this language is.
    pub fn pick<'a>(self, th: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Th => th,
            Lang::En => en,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Lang>()
            .copied()
            .unwrap_or_else(|| Lang::of(parts)))
    }
}

type Catalogue = (BTreeMap<String, String>, BTreeMap<String, String>);

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| {
    let mut th = BTreeMap::new();
    let mut en = BTreeMap::new();
    for (file, text) in crate::embedded::MESSAGES {
        let raw: BTreeMap<String, (String, String)> = toml::from_str(text)
            .unwrap_or_else(|e| panic!("messages/{file} is valid (tested): {e}"));
        for (key, (t, e)) in raw {
            // One key, one meaning: two files defining a word would make one of them lie.
            assert!(
                th.insert(key.clone(), t).is_none(),
                "messages/{file}: {key} is defined twice"
            );
            en.insert(key, e);
        }
    }
    (th, en)
});

/// `1234567.8` → `1,234,568`.
pub fn grouped(n: f64) -> String {
    let rounded = n.round() as i64;
    let digits = rounded.unsigned_abs().to_string();
    let mut out = String::new();
    if rounded < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A share as a percentage with one decimal: `0.2345` → `23.5%`.
pub fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_has_both_languages_for_every_key() {
        assert!(!CATALOGUE.0.is_empty());
        assert_eq!(CATALOGUE.0.len(), CATALOGUE.1.len());
        for (k, v) in &CATALOGUE.0 {
            assert!(!v.is_empty() && !CATALOGUE.1[k].is_empty(), "{k}");
        }
    }

    #[test]
    fn numbers_and_dates_read_as_people_write_them() {
        assert_eq!(grouped(1234567.6), "1,234,568");
        assert_eq!(grouped(12.0), "12");
        assert_eq!(percent(0.2346), "23.5%");
        let d = BeDate::parse("2566-02-23").unwrap();
        assert_eq!(Lang::En.date(d), "23 Feb 2566 BE");
        assert_eq!(Lang::Th.date(d), "23 ก.พ. 2566");
        assert_eq!(Lang::from_query(Some("a=1&lang=en")), Some(Lang::En));
        assert_eq!(Lang::from_query(Some("lang=fr")), None);
    }
}
