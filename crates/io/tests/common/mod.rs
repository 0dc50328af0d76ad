//! Shared test helpers: lazy byte generators and a byte-counting reader.
//!
//! The huge-input tests must prove that refusal happens after a bounded
//! amount of reading, so inputs are produced on demand (never held in
//! memory) and every byte handed out is counted.

#![allow(dead_code)]

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub const GIB: u64 = 1024 * 1024 * 1024;

/// Counts bytes read through it; the count stays readable after the reader
/// has been moved into a `TableReader`.
pub struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R> Counting<R> {
    pub fn new(inner: R) -> (Self, Arc<AtomicU64>) {
        let count = Arc::new(AtomicU64::new(0));
        (
            Counting {
                inner,
                count: Arc::clone(&count),
            },
            count,
        )
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

pub fn count(c: &Arc<AtomicU64>) -> u64 {
    c.load(Ordering::Relaxed)
}

/// xorshift64*: deterministic and dependency-free.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// `len` bytes, each drawn by `pick` from the generator, produced lazily.
pub struct Generated<F> {
    remaining: u64,
    rng: Rng,
    pick: F,
}

impl<F: FnMut(u64) -> u8> Generated<F> {
    pub fn new(len: u64, seed: u64, pick: F) -> Self {
        Generated {
            remaining: len,
            rng: Rng::new(seed),
            pick,
        }
    }
}

impl<F: FnMut(u64) -> u8> Read for Generated<F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (buf.len() as u64).min(self.remaining) as usize;
        for b in &mut buf[..n] {
            *b = (self.pick)(self.rng.next());
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// A fixed prefix followed by one line repeated up to `len` bytes in all.
pub struct Repeating {
    prefix: Vec<u8>,
    line: Vec<u8>,
    pos: u64,
    len: u64,
}

impl Repeating {
    pub fn new(prefix: &str, line: &str, len: u64) -> Self {
        Repeating {
            prefix: prefix.as_bytes().to_vec(),
            line: line.as_bytes().to_vec(),
            pos: 0,
            len,
        }
    }
}

impl Read for Repeating {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (buf.len() as u64).min(self.len - self.pos) as usize;
        for b in &mut buf[..n] {
            let p = self.pos as usize;
            *b = if p < self.prefix.len() {
                self.prefix[p]
            } else {
                self.line[(p - self.prefix.len()) % self.line.len()]
            };
            self.pos += 1;
        }
        Ok(n)
    }
}
