//! Stored versions of measurement specs and targets: each edit in the app is a new version.
