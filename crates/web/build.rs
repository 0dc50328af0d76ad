//! Embeds every template (`templates/*.html`), word list (`messages/*.toml`) and stylesheet
//! part (`static/*.css`) by
//! listing the directories at build time, so adding a page means adding a file and nothing
//! else: no hand-kept list can fall out of step with the directory.

use std::fmt::Write as _;
use std::path::Path;

fn listing(dir: &str, ext: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .into_string()
                .expect("UTF-8 name")
        })
        .filter(|n| n.ends_with(ext))
        .collect();
    // Sorted, so the build does not depend on the directory's order.
    names.sort();
    names
}

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it");
    let out = std::env::var("OUT_DIR").expect("cargo sets it");
    let mut code = String::from("pub const TEMPLATES: &[(&str, &str)] = &[\n");
    for name in listing(&format!("{root}/templates"), ".html") {
        writeln!(
            code,
            "    ({name:?}, include_str!(r\"{root}/templates/{name}\")),"
        )
        .unwrap();
    }
    code.push_str("];\npub const MESSAGES: &[(&str, &str)] = &[\n");
    for name in listing(&format!("{root}/messages"), ".toml") {
        writeln!(
            code,
            "    ({name:?}, include_str!(r\"{root}/messages/{name}\")),"
        )
        .unwrap();
    }
    // One stylesheet, concatenated from the parts in `static/` in name order (`style.css`
    // first by its name's place, parts after it).
    code.push_str("];\npub const STYLESHEET: &str = concat!(\n");
    for name in listing(&format!("{root}/static"), ".css") {
        writeln!(code, "    include_str!(r\"{root}/static/{name}\"),").unwrap();
    }
    code.push_str(");\n");
    std::fs::write(Path::new(&out).join("embedded.rs"), code).expect("writing OUT_DIR");
    println!("cargo::rerun-if-changed=templates");
    println!("cargo::rerun-if-changed=messages");
    println!("cargo::rerun-if-changed=static");
}
