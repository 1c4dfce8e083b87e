//! The byte layout of a snapshot (FORMAT.md is the prose version of this file): header,
//! section table, section kinds, and the little-endian primitives both sides use.
//!
//! Everything is little-endian. Fixed records (header, table entries) are encoded and decoded
//! field by field; only arrays of plain values (kinds, payloads, arena, row table, twin block
//! table) are viewed in place, through `bytemuck`'s checked casts.

use std::fmt;

/// PNG-style: a high-bit byte (catches 7-bit transfers), the name, CR LF (catches newline
/// conversion), ^Z (stops `type` on Windows), LF. Never the first bytes of JSON or gzip.
pub const MAGIC: [u8; 8] = *b"\x89TWX\r\n\x1a\n";

/// The format version this build writes and reads. A reader refuses any other version.
/// Version 1 kept twin blocks of 32 without a dictionary; version 2 added the twin dictionary;
/// version 3 payloads of 8 and 16 bits (`data8`, `data16`).
pub const VERSION: u32 = 3;

/// Bytes of the header (the same in versions 1 to 3).
pub const HEADER_LEN: usize = 128;

/// Every section starts at a multiple of this (so any typed array in it is aligned, and each
/// section starts on its own cache line).
pub const ALIGN: u64 = 64;

/// Bytes of one section table entry.
pub const ENTRY_LEN: usize = 32;

/// Room for the build string in the header (UTF-8, NUL-padded).
const BUILD_LEN: usize = 48;

/// The header: everything needed to find and check the rest of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub version: u32,
    pub file_len: u64,
    pub rows: u64,
    pub columns: u32,
    pub sections: u32,
    pub table_offset: u64,
    pub table_len: u64,
    pub table_crc: u32,
    /// Twins per compressed block (the last block may hold fewer).
    pub block_rows: u32,
    /// Seconds since the Unix epoch when the snapshot was written.
    pub created: u64,
    /// The writer: `twindex <version>`.
    pub build: String,
}

impl Header {
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..8].copy_from_slice(&MAGIC);
        put_u32(&mut b, 8, self.version);
        put_u32(&mut b, 12, HEADER_LEN as u32);
        put_u64(&mut b, 16, self.file_len);
        put_u64(&mut b, 24, self.rows);
        put_u32(&mut b, 32, self.columns);
        put_u32(&mut b, 36, self.sections);
        put_u64(&mut b, 40, self.table_offset);
        put_u64(&mut b, 48, self.table_len);
        put_u32(&mut b, 56, self.table_crc);
        put_u32(&mut b, 60, self.block_rows);
        put_u64(&mut b, 64, self.created);
        let build = self.build.as_bytes();
        let n = build.len().min(BUILD_LEN);
        b[72..72 + n].copy_from_slice(&build[..n]);
        // 120..124 reserved, zero.
        let crc = crc32fast::hash(&b[..HEADER_LEN - 4]);
        put_u32(&mut b, HEADER_LEN - 4, crc);
        b
    }

    /// Checks magic, length, checksum and version, in that order: a flipped byte anywhere in
    /// the header is reported as corruption, and only a header whose checksum holds is
    /// believed when it says it is from a newer version.
    pub fn decode(file: &[u8]) -> Result<Header, String> {
        if file.is_empty() {
            return Err("empty file (0 bytes), not a twindex snapshot".into());
        }
        if !file.starts_with(&MAGIC) {
            return Err("not a twindex snapshot (wrong magic bytes)".into());
        }
        if file.len() < 16 {
            return Err(format!(
                "truncated: {} bytes, shorter than a snapshot header",
                file.len()
            ));
        }
        let version = get_u32(file, 8);
        let header_len = get_u32(file, 12) as usize;
        if !(16..=4096).contains(&header_len) {
            return Err(format!(
                "corrupt header: header length {header_len} is not plausible"
            ));
        }
        let Some(h) = file.get(..header_len) else {
            return Err(format!(
                "truncated: {} bytes, shorter than its {header_len}-byte header",
                file.len()
            ));
        };
        if crc32fast::hash(&h[..header_len - 4]) != get_u32(h, header_len - 4) {
            return Err("corrupt header: checksum mismatch".into());
        }
        if version != VERSION {
            return Err(if version > VERSION {
                format!(
                    "format version {version} is newer than this twindex reads (version \
                     {VERSION}); open it with a newer twindex, or index the JSON again"
                )
            } else {
                format!(
                    "format version {version} is older than this twindex reads (version \
                     {VERSION}); index the JSON again"
                )
            });
        }
        if header_len != HEADER_LEN {
            return Err(format!(
                "corrupt header: length {header_len}, version {VERSION} headers are \
                 {HEADER_LEN} bytes"
            ));
        }
        let build = &h[72..72 + BUILD_LEN];
        let build_end = build.iter().position(|&b| b == 0).unwrap_or(BUILD_LEN);
        Ok(Header {
            version,
            file_len: get_u64(h, 16),
            rows: get_u64(h, 24),
            columns: get_u32(h, 32),
            sections: get_u32(h, 36),
            table_offset: get_u64(h, 40),
            table_len: get_u64(h, 48),
            table_crc: get_u32(h, 56),
            block_rows: get_u32(h, 60),
            created: get_u64(h, 64),
            build: String::from_utf8_lossy(&build[..build_end]).into_owned(),
        })
    }
}

/// What a section holds. Global sections have no column; column sections belong to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Catalog,
    Report,
    Rows,
    Modules,
    Irregular,
    TwinIndex,
    TwinData,
    TwinDict,
    Presence,
    Kinds,
    Data8,
    Data16,
    Data32,
    Data64,
    Arena,
    Dict,
    Index,
}

impl Kind {
    pub const ALL: [Kind; 17] = [
        Kind::Catalog,
        Kind::Report,
        Kind::Rows,
        Kind::Modules,
        Kind::Irregular,
        Kind::TwinIndex,
        Kind::TwinData,
        Kind::TwinDict,
        Kind::Presence,
        Kind::Kinds,
        Kind::Data8,
        Kind::Data16,
        Kind::Data32,
        Kind::Data64,
        Kind::Arena,
        Kind::Dict,
        Kind::Index,
    ];

    pub fn code(self) -> u16 {
        match self {
            Kind::Catalog => 1,
            Kind::Report => 2,
            Kind::Rows => 3,
            Kind::Modules => 4,
            Kind::Irregular => 5,
            Kind::TwinIndex => 6,
            Kind::TwinData => 7,
            Kind::TwinDict => 8,
            Kind::Presence => 16,
            Kind::Kinds => 17,
            Kind::Data32 => 18,
            Kind::Data64 => 19,
            Kind::Arena => 20,
            Kind::Dict => 21,
            Kind::Index => 22,
            Kind::Data8 => 23,
            Kind::Data16 => 24,
        }
    }

    pub fn from_code(code: u16) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == code)
    }

    pub fn is_column(self) -> bool {
        self.code() >= 16
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Catalog => "catalog",
            Kind::Report => "report",
            Kind::Rows => "rows",
            Kind::Modules => "modules",
            Kind::Irregular => "irregular",
            Kind::TwinIndex => "twin-index",
            Kind::TwinData => "twin-data",
            Kind::TwinDict => "twin-dict",
            Kind::Presence => "presence",
            Kind::Kinds => "kinds",
            Kind::Data8 => "data8",
            Kind::Data16 => "data16",
            Kind::Data32 => "data32",
            Kind::Data64 => "data64",
            Kind::Arena => "arena",
            Kind::Dict => "dict",
            Kind::Index => "index",
        }
    }
}

/// `column` of global sections.
pub const NO_COLUMN: u32 = u32::MAX;

/// One entry of the section table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    pub kind: Kind,
    pub column: u32,
    pub offset: u64,
    pub len: u64,
    pub crc: u32,
}

impl Section {
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut b = [0u8; ENTRY_LEN];
        b[0..2].copy_from_slice(&self.kind.code().to_le_bytes());
        put_u32(&mut b, 4, self.column);
        put_u64(&mut b, 8, self.offset);
        put_u64(&mut b, 16, self.len);
        put_u32(&mut b, 24, self.crc);
        out.extend_from_slice(&b);
    }

    /// Decodes entry `i` of a table whose checksum already held.
    pub fn decode(b: &[u8], i: usize) -> Result<Section, String> {
        let code = u16::from_le_bytes([b[0], b[1]]);
        let kind =
            Kind::from_code(code).ok_or_else(|| format!("section {i} has unknown kind {code}"))?;
        if u16::from_le_bytes([b[2], b[3]]) != 0 || get_u32(b, 28) != 0 {
            return Err(format!("section {i}: reserved bytes are not zero"));
        }
        Ok(Section {
            kind,
            column: get_u32(b, 4),
            offset: get_u64(b, 8),
            len: get_u64(b, 16),
            crc: get_u32(b, 24),
        })
    }

    pub fn range(&self) -> std::ops::Range<usize> {
        // Bounds were checked against the file length (a `usize`) at open.
        self.offset as usize..(self.offset + self.len) as usize
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} section", self.kind.name())?;
        if self.column != NO_COLUMN {
            write!(f, " of column {}", self.column)?;
        }
        write!(f, " (bytes {}..{})", self.offset, self.offset + self.len)
    }
}

/// One compressed block of twins, as the twin index (`TwinIndex` section) stores it: viewed
/// in place, 24 bytes, no padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct BlockEntry {
    /// Offset of the compressed bytes within the `TwinData` section.
    pub offset: u64,
    /// Compressed length.
    pub clen: u32,
    /// Inflated length: the JSON Lines of the block's twins.
    pub rlen: u32,
    /// CRC-32 of the compressed bytes.
    pub crc: u32,
    /// Twins in the block.
    pub rows: u32,
}

/// Catalog flag bits.
pub const FLAG_DENSE: u8 = 1;
pub const FLAG_DICT: u8 = 2;
pub const FLAG_INDEX: u8 = 4;
/// `uniform` of a column with a kind byte per value.
pub const KINDS_EACH: u8 = 0xFF;

/// Index key tags.
pub const KEY_NULL: u8 = 0;
pub const KEY_FALSE: u8 = 1;
pub const KEY_TRUE: u8 = 2;
pub const KEY_NUMBER: u8 = 3;
pub const KEY_STRING: u8 = 4;

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// Reads at a fixed offset of a record whose length was checked by the caller.
fn get_u32(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

fn get_u64(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// Appends little-endian values (the writer's side of [`Cursor`]).
#[derive(Default)]
pub struct Out {
    pub buf: Vec<u8>,
}

impl Out {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    /// A `u32` byte length, then the bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        self.u32(b.len() as u32);
        self.buf.extend_from_slice(b);
    }
    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
}

/// Reads little-endian values from untrusted bytes: every read is bounds-checked and fails
/// with what was being read.
pub struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(bytes: &'a [u8]) -> Cursor<'a> {
        Cursor { bytes, pos: 0 }
    }

    pub fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(format!(
                "{what}: needs {n} bytes at offset {}, only {} left",
                self.pos,
                self.bytes.len() - self.pos
            ));
        };
        let b = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(b)
    }

    pub fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.take(1, what)?[0])
    }
    pub fn u16(&mut self, what: &str) -> Result<u16, String> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    pub fn u32(&mut self, what: &str) -> Result<u32, String> {
        Ok(get_u32(self.take(4, what)?, 0))
    }
    pub fn u64(&mut self, what: &str) -> Result<u64, String> {
        Ok(get_u64(self.take(8, what)?, 0))
    }
    pub fn bytes(&mut self, what: &str) -> Result<&'a [u8], String> {
        let n = self.u32(what)? as usize;
        self.take(n, what)
    }
    pub fn str(&mut self, what: &str) -> Result<&'a str, String> {
        std::str::from_utf8(self.bytes(what)?).map_err(|e| format!("{what}: not UTF-8: {e}"))
    }

    /// A count of items each at least `min_size` bytes long: bounded by what is left, so that
    /// a corrupt count cannot make the reader allocate without limit.
    pub fn count(&mut self, min_size: usize, what: &str) -> Result<usize, String> {
        let n = self.u32(what)? as usize;
        if n.saturating_mul(min_size.max(1)) > self.remaining() {
            return Err(format!(
                "{what}: count {n} does not fit in the {} bytes left",
                self.remaining()
            ));
        }
        Ok(n)
    }

    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    pub fn finish(&self, what: &str) -> Result<(), String> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(format!(
                "{what}: {} unexpected bytes at the end",
                self.remaining()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            version: VERSION,
            file_len: 4096,
            rows: 10,
            columns: 3,
            sections: 7,
            table_offset: 2048,
            table_len: 224,
            table_crc: 0xdead_beef,
            block_rows: 32,
            created: 1_700_000_000,
            build: "twindex 0.1.0".into(),
        }
    }

    #[test]
    fn header_round_trips() {
        let h = header();
        assert_eq!(Header::decode(&h.encode()).unwrap(), h);
    }

    #[test]
    fn every_flipped_header_byte_is_caught() {
        let bytes = header().encode();
        for i in 0..HEADER_LEN {
            let mut b = bytes;
            b[i] ^= 0x10;
            assert!(Header::decode(&b).is_err(), "flip at {i}");
        }
    }

    #[test]
    fn a_newer_version_with_a_valid_checksum_says_so() {
        let mut h = header();
        h.version = VERSION + 1;
        let e = Header::decode(&h.encode()).unwrap_err();
        assert!(e.contains("newer"), "{e}");
    }

    #[test]
    fn an_older_version_says_so() {
        let mut h = header();
        h.version = VERSION - 1;
        let e = Header::decode(&h.encode()).unwrap_err();
        assert!(
            e.contains("older") && e.contains("index the JSON again"),
            "{e}"
        );
    }

    #[test]
    fn section_kinds_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_code(k.code()), Some(k));
        }
        assert_eq!(Kind::from_code(0), None);
    }

    #[test]
    fn cursor_counts_cannot_exceed_the_bytes_left() {
        let mut c = Cursor::new(&[0xff, 0xff, 0xff, 0x7f, 1, 2]);
        assert!(c.count(1, "things").is_err());
    }
}
