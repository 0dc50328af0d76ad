//! The vocabulary of halve: the types every other crate speaks, parsed once at the edge.
//!
//! A value of one of these types is valid by construction: a [`CitizenId`] has a correct check
//! digit, an [`AreaCode`] names a real area, a [`BeDate`] is a real day written in the Buddhist
//! Era. Parsers take raw text (as it arrives in CSV cells or form fields) and return a
//! [`ParseError`] that says what is wrong in Thai and English without repeating the value, so
//! that personal data never reaches a log or an error report.
//!
//! This crate knows no SQL, HTTP or files: reference data (the area tree, the eco-zone draft) is
//! embedded text parsed at first use.

pub mod area;
pub mod case;
pub mod citizen_id;
pub mod date;
pub mod ecozone;
pub mod error;
pub mod money;
pub mod registry;
pub mod text;

pub use area::{Area, AreaCode, AreaLevel, AreaTree};
pub use citizen_id::CitizenId;
pub use date::{BeDate, BeYear};
pub use ecozone::{EcoZone, EcoZoneSet};
pub use error::ParseError;
pub use money::Satang;
pub use registry::*;
