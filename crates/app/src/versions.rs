//! Specs and targets edited in the app: checking an edit and storing it as a new version.
