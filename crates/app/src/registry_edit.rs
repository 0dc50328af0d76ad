//! Changes to the registry made one at a time from the app (births, deaths, moves), each
//! checked, written in one transaction and audited with its before and after.
