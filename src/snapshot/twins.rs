//! Full twins in a snapshot, for `SELECT *` (and irregular rows, and object values) without
//! the input files: each row's normalised twin as compact JSON, `block_rows` twins per block,
//! each block the JSON Lines of its twins deflated on its own, so that reading one twin costs
//! one small block's inflation. A block table (`TwinIndex`) gives every block's offset,
//! lengths, twin count and CRC-32.
//!
//! Scans read many twins of a block in a row, so each thread keeps the last block it inflated.

use std::cell::RefCell;
use std::io::{Read as _, Write as _};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;
use roaring::RoaringBitmap;

use super::format::{BlockEntry, Section};
use crate::store::{Backing, Buf, SnapshotTwins, Store};

/// Identifies an opened snapshot in the per-thread block cache.
static NEXT_UID: AtomicU64 = AtomicU64::new(1);

/// The last block a thread inflated: whose (snapshot uid, block), its text and line starts.
#[derive(Default)]
struct Cache {
    key: Option<(u64, usize)>,
    text: Vec<u8>,
    /// Start of every line, then the end of the text.
    lines: Vec<usize>,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// The twin blocks, row table and input names of an opened snapshot.
pub struct TwinBlocks {
    uid: u64,
    file: String,
    inputs: Vec<String>,
    backing: Arc<Backing>,
    rows: u32,
    block_rows: u32,
    index: Section,
    data: Section,
    row_table: Section,
    blocks: Buf<BlockEntry>,
    index_ok: OnceLock<Result<(), String>>,
    rows_ok: OnceLock<Result<(), String>>,
    all_ok: OnceLock<Result<(), String>>,
    /// One bit per block whose checksum held.
    verified: Vec<AtomicU64>,
}

/// Where the twins of an opened snapshot are, as checked at open.
pub struct Layout {
    pub file: String,
    pub inputs: Vec<String>,
    pub rows: u32,
    pub block_rows: u32,
    pub index: Section,
    pub data: Section,
    pub row_table: Section,
}

impl TwinBlocks {
    /// Views the block table; its length was checked against `rows / block_rows` by the caller.
    pub fn new(backing: Arc<Backing>, l: Layout) -> Result<TwinBlocks, String> {
        let blocks: Buf<BlockEntry> = Buf::view(Arc::clone(&backing), l.index.range())?;
        let verified = (0..blocks.len().div_ceil(64))
            .map(|_| AtomicU64::new(0))
            .collect();
        Ok(TwinBlocks {
            uid: NEXT_UID.fetch_add(1, Ordering::Relaxed),
            file: l.file,
            inputs: l.inputs,
            backing,
            rows: l.rows,
            block_rows: l.block_rows,
            index: l.index,
            data: l.data,
            row_table: l.row_table,
            blocks,
            index_ok: OnceLock::new(),
            rows_ok: OnceLock::new(),
            all_ok: OnceLock::new(),
            verified,
        })
    }

    fn check(&self, s: &Section) -> Result<(), String> {
        super::read::verify(&self.backing, s).map(|_| ())
    }

    fn check_index(&self) -> Result<(), String> {
        self.index_ok
            .get_or_init(|| self.check(&self.index))
            .clone()
    }

    fn is_verified(&self, b: usize) -> bool {
        self.verified
            .get(b / 64)
            .is_some_and(|w| w.load(Ordering::Relaxed) & (1 << (b % 64)) != 0)
    }

    fn mark_verified(&self, b: usize) {
        if let Some(w) = self.verified.get(b / 64) {
            w.fetch_or(1 << (b % 64), Ordering::Relaxed);
        }
    }

    /// Rows of block `b`.
    fn block_span(&self, b: usize) -> Range<u32> {
        let start = (b as u64 * u64::from(self.block_rows)).min(u64::from(self.rows)) as u32;
        let end = (u64::from(start) + u64::from(self.block_rows)).min(u64::from(self.rows)) as u32;
        start..end
    }

    /// Block `b`'s entry and compressed bytes, its checksum verified (once).
    fn block(&self, b: usize) -> Result<(BlockEntry, &[u8]), String> {
        self.check_index()?;
        let e = *self
            .blocks
            .get(b)
            .ok_or_else(|| format!("twin block {b} is missing from the block table"))?;
        let span = self.block_span(b);
        let data = self
            .backing
            .bytes()
            .get(self.data.range())
            .unwrap_or_default();
        let bytes = usize::try_from(e.offset)
            .ok()
            .and_then(|start| data.get(start..start.checked_add(e.clen as usize)?))
            .ok_or_else(|| format!("twin block {b} lies outside the twin-data section"))?;
        if e.rows as usize != span.len() {
            return Err(format!(
                "twin block {b} holds {} twins, expected {}",
                e.rows,
                span.len()
            ));
        }
        if !self.is_verified(b) {
            if crc32fast::hash(bytes) != e.crc {
                return Err(format!(
                    "twin block {b} (rows {}..{}) fails its checksum: the file is corrupt",
                    span.start, span.end
                ));
            }
            self.mark_verified(b);
        }
        Ok((e, bytes))
    }

    /// Every block: tiling of the data section, each block's checksum, and the section's.
    fn verify_all(&self) -> Result<(), String> {
        self.check_index()?;
        let mut next = 0u64;
        let mut rows = 0u64;
        for (b, e) in self.blocks.iter().enumerate() {
            if e.offset != next {
                return Err(format!(
                    "twin block {b} starts at {}, expected {next}",
                    e.offset
                ));
            }
            next += u64::from(e.clen);
            rows += u64::from(e.rows);
        }
        if next != self.data.len || rows != u64::from(self.rows) {
            return Err(format!(
                "twin blocks cover {next} bytes and {rows} twins; the section has {} bytes and \
                 the snapshot {} twins",
                self.data.len, self.rows
            ));
        }
        let hashers = (0..self.blocks.len())
            .into_par_iter()
            .map(|b| {
                let (_, bytes) = self.block(b)?;
                let mut h = crc32fast::Hasher::new();
                h.update(bytes);
                Ok(h)
            })
            .collect::<Result<Vec<_>, String>>()?;
        let mut whole = crc32fast::Hasher::new();
        for h in &hashers {
            whole.combine(h);
        }
        if whole.finalize() != self.data.crc {
            return Err(format!(
                "{} fails its checksum: the file is corrupt",
                self.data
            ));
        }
        Ok(())
    }
}

impl SnapshotTwins for TwinBlocks {
    fn file(&self) -> &str {
        &self.file
    }

    fn input_names(&self) -> &[String] {
        &self.inputs
    }

    fn with_twin_text(&self, row: u32, f: &mut dyn FnMut(&[u8])) -> Result<(), String> {
        if row >= self.rows {
            return Err(format!(
                "no row {row}: the snapshot has {} twins",
                self.rows
            ));
        }
        let b = (row / self.block_rows) as usize;
        let at = (row % self.block_rows) as usize;
        let (entry, bytes) = self.block(b)?;
        CACHE.with(|cell| {
            let mut cache = cell
                .try_borrow_mut()
                .map_err(|_| "twin block cache is busy".to_string())?;
            if cache.key != Some((self.uid, b)) {
                cache.key = None;
                let c = &mut *cache;
                inflate(bytes, entry.rlen as usize, &mut c.text)
                    .map_err(|e| format!("twin block {b}: {e}"))?;
                c.lines.clear();
                c.lines.push(0);
                c.lines
                    .extend(memchr::memchr_iter(b'\n', &c.text).map(|i| i + 1));
                if c.lines.len() != entry.rows as usize + 1 || c.lines.last() != Some(&c.text.len())
                {
                    return Err(format!(
                        "twin block {b}: {} lines for {} twins",
                        c.lines.len() - 1,
                        entry.rows
                    ));
                }
                cache.key = Some((self.uid, b));
            }
            let (start, end) = match (cache.lines.get(at), cache.lines.get(at + 1)) {
                (Some(&s), Some(&e)) => (s, e - 1),
                _ => return Err(format!("twin block {b} has no twin {at}")),
            };
            f(cache.text.get(start..end).unwrap_or_default());
            Ok(())
        })
    }

    fn verify_twins(&self, rows: Option<&RoaringBitmap>) -> Result<(), String> {
        let Some(rows) = rows else {
            if let Some(done) = self.all_ok.get() {
                return done.clone();
            }
            // Not `get_or_init`: `verify_all` runs on rayon, and a worker waiting for it could
            // steal a job that comes back here, re-entering the lock's initialisation. Two
            // threads racing both verify; the first result is kept (they agree).
            let result = self.verify_all();
            return self.all_ok.get_or_init(|| result).clone();
        };
        let mut last = None;
        for row in rows.iter().take_while(|&r| r < self.rows) {
            let b = (row / self.block_rows) as usize;
            if last != Some(b) {
                self.block(b)?;
                last = Some(b);
            }
        }
        Ok(())
    }

    fn verify_rows(&self) -> Result<(), String> {
        self.rows_ok
            .get_or_init(|| self.check(&self.row_table))
            .clone()
    }

    fn owned_bytes(&self) -> usize {
        if self.backing.is_mapped() {
            0
        } else {
            self.backing.bytes().len()
        }
    }
}

/// Inflates a raw deflate stream that must come to exactly `len` bytes.
fn inflate(input: &[u8], len: usize, out: &mut Vec<u8>) -> Result<(), String> {
    out.clear();
    // The length comes from the file: don't let a corrupt one reserve without limit.
    out.reserve(len.min(16 << 20));
    flate2::read::DeflateDecoder::new(input)
        .take(len as u64 + 1)
        .read_to_end(out)
        .map_err(|e| format!("does not inflate: {e}"))?;
    if out.len() != len {
        return Err(format!("inflates to {} bytes, expected {len}", out.len()));
    }
    Ok(())
}

/// One block for the writer: compressed bytes, inflated length, CRC-32 of the compressed
/// bytes, and twin count.
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub rlen: u32,
    pub crc: u32,
    pub rows: u32,
}

/// Encodes the twins of `rows` as one block.
pub fn encode_block(store: &Store, rows: Range<u32>, level: u32) -> Result<Encoded, String> {
    let mut text = Vec::with_capacity(rows.len() * 1600);
    for row in rows.clone() {
        let twin = store.twin(row).map_err(|e| e.to_string())?;
        serde_json::to_writer(&mut text, &twin).map_err(|e| format!("twin of row {row}: {e}"))?;
        text.push(b'\n');
    }
    let rlen = u32::try_from(text.len())
        .map_err(|_| format!("twins of rows {}..{} exceed 4 GiB", rows.start, rows.end))?;
    let mut enc = flate2::write::DeflateEncoder::new(
        Vec::with_capacity(text.len() / 4),
        flate2::Compression::new(level.min(9)),
    );
    enc.write_all(&text)
        .map_err(|e| format!("compressing twins: {e}"))?;
    let bytes = enc
        .finish()
        .map_err(|e| format!("compressing twins: {e}"))?;
    Ok(Encoded {
        crc: crc32fast::hash(&bytes),
        rlen,
        rows: rows.len() as u32,
        bytes,
    })
}
