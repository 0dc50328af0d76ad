//! What the national benchmarks (`national.rs`, `progress_national.rs`) share: a seeded
//! generator that needs no crate, raw little-endian arrays on disk, medians, and the
//! `RESULT key value` lines their drivers read.

use std::io::Write;
use std::path::Path;

/// xorshift64*: deterministic and needs no crate.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub fn write_raw(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

#[allow(dead_code)] // one of the two benchmarks reads its arrays its own way
pub fn read_raw(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// Prints one result line for the driver: `RESULT key value` (flushed, so that a driver
/// reading a pipe sees it at once).
pub fn result(key: &str, value: impl std::fmt::Display) {
    println!("RESULT {key} {value}");
    let _ = std::io::stdout().flush();
}
