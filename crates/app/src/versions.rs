//! Specs and targets edited in the app: checking an edit and storing it as a new version.
//!
//! A measurement spec or a target is data the council changes without a new release of
//! halve, and every figure names the id and version of the definition it was computed under.
//! So an edit never changes a version: it is checked with the same parsers the measures use
//! (an invalid definition is refused with the parser's own message and line), keeps its id,
//! and is stored as the next version, after both the version shipped in the binary and every
//! stored one. The version number in the text is not the editor's to choose: [`save`] sets
//! the text's top-level `version` to that next number (adding the key when it is missing),
//! so what is stored always says which version it is. A text that differs from the latest
//! version only in that number is "nothing changed" and refused. Who saved, when, and the
//! texts before and after go to the audit log in the caller's transaction (definitions are
//! not personal data), so the caller can spend its one-time form token in the same commit.
//!
//! A saved version is not taken up by a running server: [`newest_spec`] and
//! [`newest_target`] give what a server starting now should use.

use halve_measure::{Spec, Target};
use halve_store::{AuditEntry, DefinitionVersionInfo, NewDefinitionVersion, Store, StoreError};
use halve_store::{Tx, VersionSave};
use serde_json::json;

use crate::AppError;
use crate::measure::shipped_spec;
use crate::target::{parse_target, shipped_target};

pub use halve_store::DefinitionKind as Kind;

/// The specs shipped in the binary (`specs/`), by id, in the order they are listed.
pub const SHIPPED_SPECS: [&str; 4] = ["tpmap-5", "global-mpi", "ppaos-5-capitals", "council-5"];
/// The targets shipped in the binary (`targets/`), by id.
pub const SHIPPED_TARGETS: [&str; 2] = ["nst-halve-2571", "nst-halve-2571-literal"];

/// The largest definition text an edit may submit. The shipped ones are under 8 KiB; this
/// keeps a pasted mistake (a data file) from being parsed, stored and diffed.
pub const MAX_TEXT_BYTES: usize = 128 * 1024;
/// The longest note an edit may carry, in characters.
pub const MAX_NOTE_CHARS: usize = 500;

/// The ids shipped in the binary for a kind.
pub fn shipped_ids(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Spec => &SHIPPED_SPECS,
        Kind::Target => &SHIPPED_TARGETS,
    }
}

/// The shipped text of a definition, if `id` is shipped.
pub fn shipped_text(kind: Kind, id: &str) -> Option<&'static str> {
    match kind {
        Kind::Spec => shipped_spec(id),
        Kind::Target => shipped_target(id),
    }
}

/// A definition read by its parser.
#[derive(Clone, Debug)]
pub enum Parsed {
    Spec(Box<Spec>),
    Target(Box<Target>),
}

impl Parsed {
    pub fn id(&self) -> &str {
        match self {
            Parsed::Spec(s) => &s.id,
            Parsed::Target(t) => &t.id,
        }
    }

    pub fn version(&self) -> u32 {
        match self {
            Parsed::Spec(s) => s.version,
            Parsed::Target(t) => t.version,
        }
    }
}

/// Why a text is not a valid definition: the parser's message and, when it can tell, where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// 1-based, in the text as submitted.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The parser's words (the target parser's are Thai then English; the spec parser's are
    /// English).
    pub message: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "บรรทัด {l} คอลัมน์ {c} (line {l}, column {c}): ")?,
            (Some(l), None) => write!(f, "บรรทัด {l} (line {l}): ")?,
            _ => {}
        }
        f.write_str(&self.message)
    }
}

/// Reads `text` as a definition of `kind` with the parsers the measures use. A target's
/// vulnerability flags are checked too (`parse_target`).
pub fn parse(kind: Kind, text: &str, source_name: &str) -> Result<Parsed, Refusal> {
    match kind {
        Kind::Spec => Spec::from_toml_str(text, source_name)
            .map(|s| Parsed::Spec(Box::new(s)))
            .map_err(|e| Refusal {
                line: e.at.line,
                column: e.at.column,
                message: e.kind.to_string(),
            }),
        Kind::Target => {
            Target::from_toml_str(text, source_name).map_err(|e| Refusal {
                line: e.at.line,
                column: e.at.column,
                message: e.kind.to_string(),
            })?;
            parse_target(text, source_name)
                .map(|t| Parsed::Target(Box::new(t)))
                .map_err(|e| Refusal {
                    line: None,
                    column: None,
                    message: e.to_string(),
                })
        }
    }
}

/// Where a version comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Shipped in the binary.
    Shipped,
    /// Saved in the app.
    Stored {
        saved_by: String,
        saved_at: String,
        note: String,
    },
}

/// One version of a definition, with its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Definition {
    pub kind: Kind,
    pub id: String,
    pub version: u32,
    pub text: String,
    pub origin: Origin,
}

impl Definition {
    /// The definition parsed; a stored text was checked when it was saved, so a refusal here
    /// means the parser has grown stricter since.
    pub fn parse(&self) -> Result<Parsed, AppError> {
        parse(self.kind, &self.text, &format!("{}.toml", self.id)).map_err(|r| {
            AppError::Invalid(format!(
                "{} {} รุ่น {} อ่านไม่ได้ ({} {} version {} does not parse): {r}",
                self.kind.code(),
                self.id,
                self.version,
                self.kind.code(),
                self.id,
                self.version
            ))
        })
    }
}

/// One version in a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedVersion {
    pub version: u32,
    pub origin: Origin,
}

/// A definition and all its versions, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub kind: Kind,
    pub id: String,
    pub versions: Vec<ListedVersion>,
}

fn shipped_version(kind: Kind, id: &str) -> Result<Option<u32>, AppError> {
    let Some(text) = shipped_text(kind, id) else {
        return Ok(None);
    };
    let parsed = parse(kind, text, &format!("{id}.toml")).map_err(|r| {
        AppError::Invalid(format!(
            "{id}: ไฟล์ที่มากับโปรแกรมอ่านไม่ได้ (the shipped definition does not parse): {r}"
        ))
    })?;
    Ok(Some(parsed.version()))
}

fn origin_of(v: &DefinitionVersionInfo) -> Origin {
    Origin::Stored {
        saved_by: v.saved_by.clone(),
        saved_at: v.saved_at.clone(),
        note: v.note.clone(),
    }
}

/// Every definition, shipped or stored, with its versions: specs then targets; within a
/// kind the shipped ids in their order, then ids only stored, bytewise.
pub async fn catalogue(store: &Store) -> Result<Vec<Listed>, AppError> {
    let stored = store.definition_versions().await?;
    let mut out = Vec::new();
    for kind in Kind::ALL {
        let mut ids: Vec<String> = shipped_ids(kind).iter().map(|s| s.to_string()).collect();
        for v in stored.iter().filter(|v| v.kind == kind) {
            if !ids.contains(&v.id) {
                ids.push(v.id.clone());
            }
        }
        for id in ids {
            let mut versions = Vec::new();
            if let Some(version) = shipped_version(kind, &id)? {
                versions.push(ListedVersion {
                    version,
                    origin: Origin::Shipped,
                });
            }
            versions.extend(
                stored
                    .iter()
                    .filter(|v| v.kind == kind && v.id == id)
                    .map(|v| ListedVersion {
                        version: v.version,
                        origin: origin_of(v),
                    }),
            );
            versions.sort_by_key(|v| v.version);
            out.push(Listed { kind, id, versions });
        }
    }
    Ok(out)
}

/// One version of a definition: the stored one of that number, else the shipped one when
/// it has that number.
pub async fn definition(
    store: &Store,
    kind: Kind,
    id: &str,
    version: u32,
) -> Result<Option<Definition>, AppError> {
    if let Some(v) = store.definition_version(kind, id, version).await? {
        return Ok(Some(Definition {
            kind,
            id: v.id,
            version: v.version,
            text: v.text,
            origin: Origin::Stored {
                saved_by: v.saved_by,
                saved_at: v.saved_at,
                note: v.note,
            },
        }));
    }
    if shipped_version(kind, id)? == Some(version) {
        let text = shipped_text(kind, id).expect("a shipped version has a shipped text");
        return Ok(Some(Definition {
            kind,
            id: id.to_owned(),
            version,
            text: text.to_owned(),
            origin: Origin::Shipped,
        }));
    }
    Ok(None)
}

/// The newest version of a definition, stored or shipped.
pub async fn latest(store: &Store, kind: Kind, id: &str) -> Result<Option<Definition>, AppError> {
    let shipped = shipped_version(kind, id)?;
    let stored = store.latest_definition_version(kind, id).await?;
    match (shipped, stored) {
        (Some(s), Some(v)) if s > v.version => definition(store, kind, id, s).await,
        (_, Some(v)) => definition(store, kind, id, v.version).await,
        (Some(s), None) => definition(store, kind, id, s).await,
        (None, None) => Ok(None),
    }
}

/// The version before `version` (the highest lower number that exists), for a diff.
pub async fn previous(
    store: &Store,
    kind: Kind,
    id: &str,
    version: u32,
) -> Result<Option<Definition>, AppError> {
    let listed = catalogue(store).await?;
    let before = listed
        .iter()
        .find(|l| l.kind == kind && l.id == id)
        .and_then(|l| {
            l.versions
                .iter()
                .map(|v| v.version)
                .filter(|&v| v < version)
                .max()
        });
    match before {
        Some(v) => definition(store, kind, id, v).await,
        None => Ok(None),
    }
}

/// The newest spec of that id, stored or shipped, parsed: what a server starting now should
/// measure with.
pub async fn newest_spec(store: &Store, id: &str) -> Result<Option<Spec>, AppError> {
    match latest(store, Kind::Spec, id).await? {
        Some(d) => match d.parse()? {
            Parsed::Spec(s) => Ok(Some(*s)),
            Parsed::Target(_) => unreachable!("a spec parses as a spec"),
        },
        None => Ok(None),
    }
}

/// The newest target of that id, stored or shipped, parsed.
pub async fn newest_target(store: &Store, id: &str) -> Result<Option<Target>, AppError> {
    match latest(store, Kind::Target, id).await? {
        Some(d) => match d.parse()? {
            Parsed::Target(t) => Ok(Some(*t)),
            Parsed::Spec(_) => unreachable!("a target parses as a target"),
        },
        None => Ok(None),
    }
}

/// An edit as submitted.
#[derive(Clone, Debug)]
pub struct Edit<'a> {
    pub kind: Kind,
    pub id: &'a str,
    pub text: &'a str,
    /// Why; may be empty.
    pub note: &'a str,
    /// The audit log's actor (`web:NAME`).
    pub actor: &'a str,
    /// UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub at: &'a str,
}

/// What an edit stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Saved {
    pub kind: Kind,
    pub id: String,
    /// The latest version before the edit.
    pub before: u32,
    /// The new version.
    pub after: u32,
}

/// Why an edit was refused; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("ไม่มีเกณฑ์หรือเป้าหมายนี้ (no such spec or target)")]
    Unknown,
    #[error("ข้อความว่าง (the text is empty)")]
    Empty,
    #[error("ข้อความยาวเกิน {MAX_TEXT_BYTES} ไบต์ (the text is longer than {MAX_TEXT_BYTES} bytes)")]
    TooLong,
    #[error(
        "หมายเหตุยาวเกิน {MAX_NOTE_CHARS} ตัวอักษร (the note is longer than {MAX_NOTE_CHARS} characters)"
    )]
    NoteTooLong,
    #[error("ข้อความไม่ถูกต้อง (the definition is not valid): {0}")]
    Invalid(Refusal),
    #[error(
        "แก้ id ไม่ได้: ต้องเป็น {expected} (the id cannot change in an edit: it must stay {expected}, not {found})"
    )]
    IdChanged { expected: String, found: String },
    #[error(
        "ไม่มีอะไรเปลี่ยนจากรุ่น {latest} (nothing changed from version {latest}; only the version number differs, if anything)"
    )]
    NothingChanged { latest: u32 },
    #[error(
        "ตั้งเลขรุ่นในข้อความไม่ได้ (the top-level `version` key could not be set to {version}): write it as `version = {version}`"
    )]
    VersionNotSet { version: u32 },
    #[error(
        "เป้าหมายอ้างเกณฑ์ {spec}{} ที่ไม่มีอยู่ (the target names spec {spec}{}, which does not exist)",
        .version.map(|v| format!(" รุ่น {v}")).unwrap_or_default(),
        .version.map(|v| format!(" version {v}")).unwrap_or_default()
    )]
    UnknownSpec { spec: String, version: Option<u32> },
    #[error(
        "มีผู้บันทึกรุ่น {version} ไปก่อนแล้ว เปิดหน้าแก้ไขใหม่ (version {version} was saved by someone else meanwhile: reload the edit page)"
    )]
    VersionTaken { version: u32 },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    App(#[from] AppError),
}

/// Line endings as stored: `\n`. Browsers send a textarea's lines with `\r\n`.
pub fn normalise(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// `text` with its top-level `version` key set to `version`, and the line at which a key was
/// added when there was none (1-based; later lines moved down by one).
///
/// Only lines before the first table header count as top level, outside multi-line strings.
/// A key the scan cannot see (quoted, say) is not found and a second one is added; the parser
/// then refuses the duplicate, so the result is never silently wrong ([`save`] also checks
/// the parsed version).
pub fn set_version(text: &str, version: u32) -> (String, Option<usize>) {
    let mut in_multiline: Option<&str> = None;
    let mut id_line_end: Option<(usize, usize)> = None;
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += line.len();
        if let Some(delim) = in_multiline {
            if line.matches(delim).count() % 2 == 1 {
                in_multiline = None;
            }
            continue;
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            break;
        }
        for delim in ["\"\"\"", "'''"] {
            if line.matches(delim).count() % 2 == 1 {
                in_multiline = Some(delim);
            }
        }
        let key_rest = |key: &str| {
            trimmed
                .strip_prefix(key)
                .map(str::trim_start)
                .and_then(|r| r.strip_prefix('='))
        };
        if let Some(rest) = key_rest("version") {
            let indent = &line[..line.len() - trimmed.len()];
            let comment = rest.find('#').map(|i| rest[i..].trim_end()).unwrap_or("");
            let newline = if line.ends_with('\n') { "\n" } else { "" };
            let spacer = if comment.is_empty() { "" } else { " " };
            let replaced = format!("{indent}version = {version}{spacer}{comment}{newline}");
            let mut out = String::with_capacity(text.len() + 8);
            out.push_str(&text[..start]);
            out.push_str(&replaced);
            out.push_str(&text[offset..]);
            return (out, None);
        }
        if id_line_end.is_none() && (key_rest("id").is_some() || key_rest("name").is_some()) {
            id_line_end = Some((offset, index + 1));
        }
    }
    // No key: add one after the id (top-level keys must come before any table), else first.
    let (at, after_line) = id_line_end.unwrap_or((0, 0));
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..at]);
    if at > 0 && !text[..at].ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!("version = {version}\n"));
    out.push_str(&text[at..]);
    (out, Some(after_line + 1))
}

/// Checks `edit` and stores it as the next version of its definition in `tx`, with its
/// audit entry. On any refusal nothing has been written by this function; the caller rolls
/// back.
pub async fn save(tx: &mut Tx, edit: &Edit<'_>) -> Result<Saved, EditError> {
    let text = normalise(edit.text);
    if text.trim().is_empty() {
        return Err(EditError::Empty);
    }
    if text.len() > MAX_TEXT_BYTES {
        return Err(EditError::TooLong);
    }
    let note = edit.note.split_whitespace().collect::<Vec<_>>().join(" ");
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(EditError::NoteTooLong);
    }
    let (kind, id) = (edit.kind, edit.id);
    let shipped = shipped_version(kind, id)?;
    let stored = tx.latest_definition_number(kind, id).await?;
    let (before, before_text, before_origin) = match (shipped, stored) {
        (None, None) => return Err(EditError::Unknown),
        (Some(s), stored) if stored.is_none_or(|v| v < s) => (
            s,
            shipped_text(kind, id)
                .expect("a shipped version has a shipped text")
                .to_owned(),
            "shipped",
        ),
        (_, Some(v)) => (
            v,
            tx.definition_text(kind, id, v)
                .await?
                .ok_or(EditError::VersionTaken { version: v })?,
            "stored",
        ),
        (Some(_), None) => unreachable!("covered by the shipped arm"),
    };
    let next = tx
        .next_definition_number(kind, id, shipped.unwrap_or(0))
        .await?;

    let (candidate, inserted) = set_version(&text, next);
    if candidate == set_version(&normalise(&before_text), next).0 {
        return Err(EditError::NothingChanged { latest: before });
    }
    let parsed = parse(kind, &candidate, &format!("{id}.toml")).map_err(|mut r| {
        // Report lines as the editor typed them, before a `version` line was added.
        if let (Some(line), Some(added)) = (r.line, inserted) {
            if line == added {
                r.line = None;
                r.column = None;
            } else if line > added {
                r.line = Some(line - 1);
            }
        }
        EditError::Invalid(r)
    })?;
    if parsed.id() != id {
        return Err(EditError::IdChanged {
            expected: id.to_owned(),
            found: parsed.id().to_owned(),
        });
    }
    if parsed.version() != next {
        return Err(EditError::VersionNotSet { version: next });
    }
    if let Parsed::Target(target) = &parsed
        && let Some(poor) = &target.poor
    {
        check_spec_exists(tx, &poor.spec, poor.spec_version).await?;
    }

    let saved = tx
        .save_definition_version(&NewDefinitionVersion {
            kind,
            id,
            version: next,
            text: &candidate,
            saved_by: edit.actor,
            saved_at: edit.at,
            note: &note,
        })
        .await?;
    if saved == VersionSave::Taken {
        return Err(EditError::VersionTaken { version: next });
    }
    tx.append_audit(&AuditEntry {
        at: edit.at.to_owned(),
        actor: edit.actor.to_owned(),
        action: "new_version".into(),
        entity: kind.code().into(),
        entity_key: id.to_owned(),
        before: Some(
            json!({"version": before, "origin": before_origin, "toml": normalise(&before_text)})
                .to_string(),
        ),
        after: Some(json!({"version": next, "note": note, "toml": candidate}).to_string()),
    })
    .await?;
    Ok(Saved {
        kind,
        id: id.to_owned(),
        before,
        after: next,
    })
}

/// A target's `poor` term must name a spec that exists, in the version it pins: otherwise
/// progress could never be computed under it.
async fn check_spec_exists(tx: &mut Tx, spec: &str, version: Option<u32>) -> Result<(), EditError> {
    let shipped = shipped_version(Kind::Spec, spec)?;
    let exists = match version {
        None => {
            shipped.is_some()
                || tx
                    .latest_definition_number(Kind::Spec, spec)
                    .await?
                    .is_some()
        }
        Some(v) => shipped == Some(v) || tx.definition_text(Kind::Spec, spec, v).await?.is_some(),
    };
    if exists {
        Ok(())
    } else {
        Err(EditError::UnknownSpec {
            spec: spec.to_owned(),
            version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_id_resolves_and_parses_under_its_own_id() {
        for kind in Kind::ALL {
            for id in shipped_ids(kind) {
                let text = shipped_text(kind, id).unwrap();
                let parsed = parse(kind, text, "x.toml").unwrap();
                assert_eq!(parsed.id(), *id);
            }
        }
        assert_eq!(shipped_text(Kind::Spec, "nst-halve-2571"), None);
        assert_eq!(shipped_text(Kind::Target, "tpmap-5"), None);
    }

    #[test]
    fn the_version_key_is_replaced_in_place_keeping_its_comment() {
        let text = "# v\nid = \"a\"\n  version = 3 # bump me\n[[dimension]]\nversion = 9\n";
        let (out, added) = set_version(text, 4);
        assert_eq!(
            out,
            "# v\nid = \"a\"\n  version = 4 # bump me\n[[dimension]]\nversion = 9\n"
        );
        assert_eq!(added, None);
    }

    #[test]
    fn a_missing_version_key_is_added_after_the_id_and_never_inside_a_table() {
        let (out, added) = set_version("# c\nid = \"a\"\nk = 5\n[x]\nversion = 2\n", 2);
        assert_eq!(
            out,
            "# c\nid = \"a\"\nversion = 2\nk = 5\n[x]\nversion = 2\n"
        );
        assert_eq!(added, Some(3));
        let (out, added) = set_version("k = 5", 7);
        assert_eq!(out, "version = 7\nk = 5");
        assert_eq!(added, Some(1));
        let (out, _) = set_version("id = \"a\"", 2);
        assert_eq!(out, "id = \"a\"\nversion = 2\n");
    }

    #[test]
    fn a_version_line_inside_a_multiline_string_is_not_the_key() {
        let text = "id = \"a\"\ndescription = \"\"\"\nversion = 1\n\"\"\"\nversion = 1\n";
        let (out, added) = set_version(text, 2);
        assert_eq!(
            out,
            "id = \"a\"\ndescription = \"\"\"\nversion = 1\n\"\"\"\nversion = 2\n"
        );
        assert_eq!(added, None);
    }

    #[test]
    fn crlf_line_endings_become_lf() {
        assert_eq!(normalise("a\r\nb\rc\n"), "a\nb\nc\n");
    }
}
