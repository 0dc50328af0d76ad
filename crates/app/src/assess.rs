//! Recording one household's assessment, as a worker does from the field: the rule for what
//! is kept, what is replaced and what the audit log says, whatever the surface (the web form
//! today, the API or a phone sync later).
//!
//! The caller owns the transaction, so that it can bind other work to the same commit (the
//! web app spends its one-time form token there, which makes a double submit write once).
//! The change reaches the live snapshot through the store's change feed when the caller
//! commits.

use std::collections::BTreeMap;

use halve_domain::{Assessment, BeDate, BeYear, IndicatorValue, Key};
use halve_store::{AuditEntry, Tx};
use serde_json::{Value as Json, json};

use crate::error::AppError;

/// A checked assessment as entered: the values of the indicators the form asked about.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub round: BeYear,
    pub household: Key,
    pub assessed_on: BeDate,
    pub members: u16,
    pub values: BTreeMap<String, IndicatorValue>,
}

/// What was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    pub before: Option<Assessment>,
    pub after: Assessment,
}

/// Writes `entry` in `tx` and audits it (who, when, before and after). Values the entry does
/// not carry (indicators of another spec) are kept from the household's earlier assessment
/// of the same round; the rest is replaced.
pub async fn record(
    tx: &mut Tx,
    actor: &str,
    at: &str,
    entry: Entry,
) -> Result<Recorded, AppError> {
    let code = entry.household.as_str().to_owned();
    let before = tx.assessment(entry.round, &code).await?;
    let mut values = before
        .as_ref()
        .map(|b| b.values.clone())
        .unwrap_or_default();
    values.extend(entry.values);
    let after = Assessment {
        round: entry.round,
        household: entry.household,
        assessed_on: entry.assessed_on,
        members: entry.members,
        values,
    };
    tx.upsert_assessments(std::slice::from_ref(&after)).await?;
    tx.append_audit(&AuditEntry {
        at: at.to_owned(),
        actor: actor.to_owned(),
        action: if before.is_some() { "update" } else { "create" }.into(),
        entity: "assessment".into(),
        entity_key: format!("{}/{code}", after.round.be()),
        before: before.as_ref().map(audit_json),
        after: Some(audit_json(&after)),
    })
    .await?;
    Ok(Recorded { before, after })
}

/// An assessment as the audit log keeps it (JSON; `NA` for not applicable).
pub fn audit_json(a: &Assessment) -> String {
    let values: serde_json::Map<String, Json> = a
        .values
        .iter()
        .map(|(k, v)| {
            let v = match v {
                IndicatorValue::Number(x) => json!(x),
                IndicatorValue::NotApplicable => json!("NA"),
            };
            (k.clone(), v)
        })
        .collect();
    json!({
        "round": a.round.be(),
        "assessed_on": a.assessed_on.to_string(),
        "members": a.members,
        "values": values,
    })
    .to_string()
}
