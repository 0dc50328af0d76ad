//! Encoding detection and streaming decode of text files.
//!
//! Government offices send us UTF-8 (often with Excel's BOM) or the Thai
//! legacy encoding TIS-620, which we read as its superset Windows-874. We
//! decide by looking at the opening block, then decode the rest as a stream
//! so memory stays flat however large the file is. Decoding never replaces
//! bad bytes with U+FFFD: a silently mangled name or ID is worse than a
//! refused file, so any byte that is not valid in the chosen encoding is an
//! error naming its byte offset and line. Binary data (NUL and other C0
//! control bytes except tab, CR and LF) is refused the same way, which also
//! catches spreadsheets and UTF-16 files renamed to `.csv`.

use std::io::{self, Read};

use encoding_rs::{Decoder, DecoderResult, UTF_8, WINDOWS_874};
use thiserror::Error;

/// How many bytes are examined to pick the encoding.
pub const SNIFF_LEN: usize = 64 * 1024;

/// Raw bytes decoded per step once streaming.
const CHUNK: usize = 64 * 1024;

/// Windows-874 turns one byte into at most 3 UTF-8 bytes; the slack covers a
/// UTF-8 sequence carried over from the previous chunk.
const OUT_CAP: usize = 3 * CHUNK + 16;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A text encoding halve accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8; `bom` tells whether the file opened with a byte-order mark.
    Utf8 { bom: bool },
    /// Windows-874, read also for TIS-620 (its subset).
    Windows874,
}

impl Encoding {
    /// Name for logs and messages.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 { bom: false } => "UTF-8",
            Encoding::Utf8 { bom: true } => "UTF-8 (BOM)",
            Encoding::Windows874 => "TIS-620/Windows-874",
        }
    }
}

/// Why a byte stream was refused as text.
///
/// Offsets are 0-based byte offsets into the raw file; lines are 1-based.
/// No variant carries file content.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    #[error("empty file")]
    Empty,
    #[error("UTF-16 text is not supported; save the file as \"CSV UTF-8\"")]
    Utf16,
    #[error("line {line}: binary data, not text (control byte at byte offset {offset})")]
    Binary { offset: u64, line: u64 },
    #[error(
        "line {line}: not in a supported encoding (UTF-8, TIS-620/Windows-874): \
         invalid byte at offset {offset}"
    )]
    Unsupported { offset: u64, line: u64 },
}

impl DecodeError {
    /// Recovers the decode error carried inside an `io::Error` produced by
    /// [`DecodingReader`]; `None` for genuine I/O failures.
    pub fn from_io(err: &io::Error) -> Option<&DecodeError> {
        err.get_ref()?.downcast_ref::<DecodeError>()
    }

    /// The 1-based line the problem is on, when it has one.
    pub fn line(&self) -> Option<u64> {
        match self {
            DecodeError::Binary { line, .. } | DecodeError::Unsupported { line, .. } => Some(*line),
            DecodeError::Empty | DecodeError::Utf16 => None,
        }
    }

    fn shifted(self, offset_base: u64, line_base: u64) -> Self {
        match self {
            DecodeError::Binary { offset, line } => DecodeError::Binary {
                offset: offset + offset_base,
                line: line + line_base - 1,
            },
            DecodeError::Unsupported { offset, line } => DecodeError::Unsupported {
                offset: offset + offset_base,
                line: line + line_base - 1,
            },
            other => other,
        }
    }
}

impl From<DecodeError> for io::Error {
    fn from(err: DecodeError) -> Self {
        io::Error::new(io::ErrorKind::InvalidData, err)
    }
}

fn is_forbidden_control(b: u8) -> bool {
    b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')
}

/// Line of `block[offset]`. CRLF, LF and a lone CR (old Mac exports) each
/// end a line, as they do for the CSV parser.
fn line_at(block: &[u8], offset: usize) -> u64 {
    let mut line = 1;
    let mut prev_cr = false;
    for &b in &block[..offset] {
        if b == b'\r' || (b == b'\n' && !prev_cr) {
            line += 1;
        }
        prev_cr = b == b'\r';
    }
    line
}

/// Index of the first byte Windows-874 leaves unmapped, if any.
fn first_unmapped_874(block: &[u8]) -> Option<usize> {
    let mut decoder = WINDOWS_874.new_decoder_without_bom_handling();
    let mut out = vec![0u8; 3 * block.len() + 16];
    let (res, _read, written) = decoder.decode_to_utf8_without_replacement(block, &mut out, true);
    match res {
        // Windows-874 is one byte per character, so the characters written
        // before the failure give the offending byte's index.
        DecoderResult::Malformed(..) => Some(char_count(&out[..written])),
        DecoderResult::InputEmpty | DecoderResult::OutputFull => None,
    }
}

fn char_count(utf8: &[u8]) -> usize {
    utf8.iter().filter(|&&b| b & 0xC0 != 0x80).count()
}

/// Chooses between UTF-8 and Windows-874 for a block that has no BOM and no
/// control bytes. Errors carry offsets relative to `body`.
fn classify(body: &[u8], at_eof: bool) -> Result<Encoding, DecodeError> {
    let err = match std::str::from_utf8(body) {
        Ok(_) => return Ok(Encoding::Utf8 { bom: false }),
        // A multi-byte sequence cut by the block boundary is still UTF-8.
        Err(e) if e.error_len().is_none() && !at_eof => return Ok(Encoding::Utf8 { bom: false }),
        Err(e) => e,
    };
    let Some(bad_874) = first_unmapped_874(body) else {
        return Ok(Encoding::Windows874);
    };
    // Point at the spot most likely to help: if the text before the first
    // UTF-8 error already held UTF-8 Thai, the file is UTF-8 with a bad
    // byte; otherwise it is legacy text with a byte TIS-620 doesn't define.
    let looks_utf8 = body[..err.valid_up_to()].iter().any(|b| !b.is_ascii());
    let at = if looks_utf8 {
        err.valid_up_to()
    } else {
        bad_874
    };
    Err(DecodeError::Unsupported {
        offset: at as u64,
        line: line_at(body, at),
    })
}

/// Picks the encoding of a file from its opening block.
///
/// `at_eof` says the block is the whole file, so a multi-byte sequence cut at
/// its end is an error rather than a boundary artefact. A block of plain
/// ASCII is reported as UTF-8 without BOM.
pub fn sniff(block: &[u8], at_eof: bool) -> Result<Encoding, DecodeError> {
    if block.starts_with(b"\xFF\xFE") || block.starts_with(b"\xFE\xFF") {
        return Err(DecodeError::Utf16);
    }
    let (bom, body) = match block.strip_prefix(UTF8_BOM) {
        Some(rest) => (true, rest),
        None => (false, block),
    };
    let base = if bom { UTF8_BOM.len() as u64 } else { 0 };
    if at_eof && body.iter().all(u8::is_ascii_whitespace) {
        return Err(DecodeError::Empty);
    }
    if let Some(i) = body.iter().position(|&b| is_forbidden_control(b)) {
        return Err(DecodeError::Binary {
            offset: base + i as u64,
            line: line_at(body, i),
        });
    }
    if bom {
        return Ok(Encoding::Utf8 { bom: true });
    }
    classify(body, at_eof)
}

/// Reads until `buf` is full or the source ends; returns the bytes read.
pub(crate) fn read_up_to<R: Read>(inner: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match inner.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// A `Read` adapter yielding the UTF-8 text of a UTF-8 or Windows-874 source.
///
/// Construction reads and checks the opening block ([`SNIFF_LEN`] bytes);
/// after that the source is decoded in fixed-size chunks. Errors found later
/// (an invalid byte, a control byte) surface as `io::Error`s of kind
/// `InvalidData` wrapping a [`DecodeError`]; use [`DecodeError::from_io`].
/// The BOM, if any, is not part of the output.
pub struct DecodingReader<R> {
    inner: R,
    /// `None` while everything seen is ASCII: legal in both encodings, so
    /// the choice waits for the first non-ASCII byte wherever it appears.
    encoding: Option<Encoding>,
    bom: bool,
    decoder: Decoder,
    raw: Vec<u8>,
    raw_pos: usize,
    inner_eof: bool,
    out: Vec<u8>,
    out_pos: usize,
    out_len: usize,
    /// Raw offset of the next character to be produced.
    raw_offset: u64,
    /// Line of the next character to be produced.
    line: u64,
    /// Whether the last byte produced was CR, so a following LF is not a
    /// second line break.
    prev_cr: bool,
    finished: bool,
    failed: Option<DecodeError>,
}

impl<R: Read> DecodingReader<R> {
    /// Reads the opening block of `inner` and decides its encoding.
    ///
    /// Fails with a wrapped [`DecodeError`] when the file is empty, binary,
    /// UTF-16 or in no supported encoding, and with the source's own error
    /// when reading fails.
    pub fn new(mut inner: R) -> io::Result<Self> {
        let mut raw = vec![0u8; SNIFF_LEN];
        let n = read_up_to(&mut inner, &mut raw)?;
        raw.truncate(n);
        let at_eof = n < SNIFF_LEN;
        let sniffed = sniff(&raw, at_eof)?;
        let bom = sniffed == Encoding::Utf8 { bom: true };
        // The BOM is dropped here rather than by the decoder so that a
        // decoder created mid-file never strips a U+FEFF that is content.
        let skip = if bom { UTF8_BOM.len() } else { 0 };
        let encoding = if !bom && !at_eof && raw.is_ascii() {
            None
        } else {
            Some(sniffed)
        };
        Ok(DecodingReader {
            inner,
            encoding,
            bom,
            decoder: new_decoder(sniffed),
            raw,
            raw_pos: skip,
            inner_eof: at_eof,
            out: vec![0u8; OUT_CAP],
            out_pos: 0,
            out_len: 0,
            raw_offset: skip as u64,
            line: 1,
            prev_cr: false,
            finished: false,
            failed: None,
        })
    }

    /// The encoding in use. A source that has been pure ASCII so far reports
    /// UTF-8 without BOM.
    pub fn encoding(&self) -> Encoding {
        self.encoding.unwrap_or(Encoding::Utf8 { bom: self.bom })
    }

    /// Raw bytes read from the source but not yet decoded. Before the first
    /// read this is the opening block, which lets callers guess a CSV
    /// delimiter without a second pass.
    pub fn peek_raw(&self) -> &[u8] {
        &self.raw[self.raw_pos..]
    }

    /// Raw byte offset of the next character to be produced.
    pub fn raw_offset(&self) -> u64 {
        self.raw_offset
    }

    /// Unwraps the underlying source.
    pub fn into_inner(self) -> R {
        self.inner
    }

    fn refill_raw(&mut self) -> io::Result<()> {
        self.raw.clear();
        self.raw.resize(CHUNK, 0);
        self.raw_pos = 0;
        let n = read_up_to(&mut self.inner, &mut self.raw)?;
        self.raw.truncate(n);
        if n < CHUNK {
            self.inner_eof = true;
        }
        Ok(())
    }

    /// Moves unread raw bytes to the front and reads until at least
    /// [`SNIFF_LEN`] are buffered or the source ends.
    fn top_up(&mut self) -> io::Result<()> {
        self.raw.drain(..self.raw_pos);
        self.raw_pos = 0;
        if self.inner_eof || self.raw.len() >= SNIFF_LEN {
            return Ok(());
        }
        let have = self.raw.len();
        self.raw.resize(SNIFF_LEN, 0);
        let n = read_up_to(&mut self.inner, &mut self.raw[have..])?;
        self.raw.truncate(have + n);
        if have + n < SNIFF_LEN {
            self.inner_eof = true;
        }
        Ok(())
    }

    /// Passes ASCII through until the first non-ASCII byte, then settles the
    /// encoding from the block that starts there.
    fn fill_undecided(&mut self) -> io::Result<()> {
        let pending = &self.raw[self.raw_pos..];
        let ascii = pending.iter().position(|b| !b.is_ascii());
        let take = ascii.unwrap_or(pending.len());
        self.out[..take].copy_from_slice(&pending[..take]);
        self.raw_pos += take;
        self.out_pos = 0;
        self.out_len = take;
        self.account();
        if self.failed.is_some() {
            return Ok(());
        }
        if ascii.is_none() {
            if self.inner_eof {
                self.finished = true;
            }
            return Ok(());
        }
        // Copied bytes stay in `out` while `top_up` rearranges `raw`.
        self.top_up()?;
        match classify(&self.raw, self.inner_eof) {
            Ok(enc) => {
                self.encoding = Some(enc);
                self.decoder = new_decoder(enc);
            }
            Err(e) => self.failed = Some(e.shifted(self.raw_offset, self.line)),
        }
        Ok(())
    }

    fn fill(&mut self) -> io::Result<()> {
        if self.raw_pos == self.raw.len() && !self.inner_eof {
            self.refill_raw()?;
        }
        if self.encoding.is_none() {
            return self.fill_undecided();
        }
        let last = self.inner_eof;
        let (res, read, written) = self.decoder.decode_to_utf8_without_replacement(
            &self.raw[self.raw_pos..],
            &mut self.out,
            last,
        );
        self.raw_pos += read;
        self.out_pos = 0;
        self.out_len = written;
        self.account();
        if self.failed.is_some() {
            return Ok(());
        }
        match res {
            DecoderResult::InputEmpty => {
                if last {
                    self.finished = true;
                }
            }
            DecoderResult::OutputFull => {}
            // Everything before the bad bytes was produced, so the running
            // offset points straight at them.
            DecoderResult::Malformed(..) => {
                self.failed = Some(DecodeError::Unsupported {
                    offset: self.raw_offset,
                    line: self.line,
                });
            }
        }
        Ok(())
    }

    /// Advances offset and line over the freshly produced output, stopping
    /// it short at a forbidden control byte.
    fn account(&mut self) {
        let bytes_per_char = self.encoding == Some(Encoding::Windows874);
        for i in self.out_pos..self.out_len {
            let b = self.out[i];
            if is_forbidden_control(b) {
                self.failed = Some(DecodeError::Binary {
                    offset: self.raw_offset,
                    line: self.line,
                });
                self.out_len = i;
                return;
            }
            if b == b'\r' || (b == b'\n' && !self.prev_cr) {
                self.line += 1;
            }
            self.prev_cr = b == b'\r';
            // Windows-874 maps each raw byte to one character; UTF-8 and
            // ASCII pass through byte for byte.
            if !bytes_per_char || b & 0xC0 != 0x80 {
                self.raw_offset += 1;
            }
        }
    }
}

fn new_decoder(encoding: Encoding) -> Decoder {
    match encoding {
        Encoding::Utf8 { .. } => UTF_8.new_decoder_without_bom_handling(),
        Encoding::Windows874 => WINDOWS_874.new_decoder_without_bom_handling(),
    }
}

impl<R: Read> Read for DecodingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.out_pos < self.out_len {
                let n = buf.len().min(self.out_len - self.out_pos);
                buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
                self.out_pos += n;
                return Ok(n);
            }
            if let Some(err) = &self.failed {
                return Err(err.clone().into());
            }
            if self.finished {
                return Ok(0);
            }
            self.fill()?;
        }
    }
}

/// Decodes a whole in-memory buffer, for small inputs and tests.
pub fn decode_all(bytes: &[u8]) -> Result<(Encoding, String), io::Error> {
    let mut reader = DecodingReader::new(bytes)?;
    let mut text = String::new();
    reader.read_to_string(&mut text)?;
    Ok((reader.encoding(), text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_err(bytes: &[u8]) -> DecodeError {
        let err = decode_all(bytes).expect_err("should be refused");
        DecodeError::from_io(&err).cloned().expect("a decode error")
    }

    #[test]
    fn tis620_is_decoded() {
        let (bytes, _, unmappable) = WINDOWS_874.encode("จังหวัด,นครศรีธรรมราช\n");
        assert!(!unmappable);
        let (enc, text) = decode_all(&bytes).unwrap();
        assert_eq!(enc, Encoding::Windows874);
        assert_eq!(text, "จังหวัด,นครศรีธรรมราช\n");
    }

    #[test]
    fn utf8_with_and_without_bom() {
        let plain = "ชื่อ,อำเภอ\nสมชาย,เมือง\n";
        let (enc, text) = decode_all(plain.as_bytes()).unwrap();
        assert_eq!((enc, text.as_str()), (Encoding::Utf8 { bom: false }, plain));

        let mut with_bom = UTF8_BOM.to_vec();
        with_bom.extend_from_slice(plain.as_bytes());
        let (enc, text) = decode_all(&with_bom).unwrap();
        assert_eq!((enc, text.as_str()), (Encoding::Utf8 { bom: true }, plain));
    }

    #[test]
    fn empty_inputs_are_refused() {
        assert_eq!(decode_err(b""), DecodeError::Empty);
        assert_eq!(decode_err(UTF8_BOM), DecodeError::Empty);
        assert_eq!(decode_err(b" \r\n\t\n"), DecodeError::Empty);
    }

    #[test]
    fn binary_is_refused() {
        assert_eq!(
            decode_err(b"a,b\nc\0d\n"),
            DecodeError::Binary { offset: 5, line: 2 }
        );
        assert_eq!(decode_err(b"\xFF\xFEa\0b\0"), DecodeError::Utf16);
    }

    #[test]
    fn unsupported_bytes_are_refused() {
        // 0xFC is undefined in TIS-620 and impossible in UTF-8.
        let err = decode_err(b"name\nab\xFCcd\n");
        assert_eq!(err, DecodeError::Unsupported { offset: 7, line: 2 });
        assert!(err.to_string().contains("not in a supported encoding"));
    }

    #[test]
    fn utf8_cut_at_block_end_is_fine() {
        // Put a 3-byte character across the sniff boundary.
        let mut text = "a".repeat(SNIFF_LEN - 1);
        text.push_str("ก\n");
        let (enc, out) = decode_all(text.as_bytes()).unwrap();
        assert_eq!(enc, Encoding::Utf8 { bom: false });
        assert_eq!(out, text);
    }

    #[test]
    fn late_tis620_after_ascii_block() {
        // The opening block says nothing about the encoding; the first Thai
        // byte much later has to decide it.
        let mut text = "id,code\n".to_string();
        for i in 0..20_000 {
            text.push_str(&format!("{i},x\n"));
        }
        text.push_str("1,สงขลา\n");
        let (bytes, _, _) = WINDOWS_874.encode(&text);
        assert!(bytes.len() > SNIFF_LEN);
        let (enc, out) = decode_all(&bytes).unwrap();
        assert_eq!(enc, Encoding::Windows874);
        assert_eq!(out, text);
    }

    #[test]
    fn late_invalid_byte_names_line_and_never_replaces() {
        let mut bytes = Vec::new();
        for _ in 0..30_000 {
            bytes.extend_from_slice("ก,ข\n".as_bytes());
        }
        bytes.extend_from_slice(b"x,\xC3\x28\n");
        let err = decode_err(&bytes);
        assert_eq!(
            err,
            DecodeError::Unsupported {
                offset: 30_000 * 8 + 2,
                line: 30_001
            }
        );
    }

    #[test]
    fn late_control_byte_is_binary() {
        let mut bytes = "ก\n".repeat(30_000).into_bytes();
        bytes.extend_from_slice(b"\x01\n");
        assert_eq!(
            decode_err(&bytes),
            DecodeError::Binary {
                offset: 30_000 * 4,
                line: 30_001
            }
        );
    }

    #[test]
    fn truncated_utf8_at_eof_is_an_error() {
        let err = decode_err(b"\xEF\xBB\xBFab\xE0\xB8");
        assert!(matches!(err, DecodeError::Unsupported { line: 1, .. }));
    }
}
