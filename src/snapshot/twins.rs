//! Full twins in a snapshot, for `SELECT *` (and irregular rows, and object values) without
//! the input files: each row's normalised twin as compact JSON, `block_rows` twins per block,
//! each block the JSON Lines of its twins deflated on its own, so that reading one twin costs
//! inflating a few of them. A block table (`TwinIndex`) gives every block's offset, lengths,
//! twin count and CRC-32.
//!
//! Small blocks alone compress poorly (a block has little history to refer back to), so every
//! block is compressed with the deflate window primed by a shared dictionary (`TwinDict`: up
//! to 32 KB of twins sampled across the fleet), as zlib's `deflateSetDictionary` does; the
//! reader puts the dictionary in front of the output before inflating. Blocks of 8 primed this
//! way are smaller than unprimed blocks of 32, and a twin read alone inflates 4 twins on
//! average instead of 16 (FORMAT.md has the measurements).
//!
//! Each thread keeps the block it inflated last, inflated only as far as the twins read from
//! it so far, so a scan inflates each block once.

use std::cell::RefCell;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use miniz_oxide::deflate::core::{
    compress_to_output, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus,
};
use miniz_oxide::inflate::core::inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
use miniz_oxide::inflate::core::{decompress, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;
use rayon::prelude::*;
use roaring::RoaringBitmap;

use super::format::{BlockEntry, Section};
use crate::store::{Backing, Buf, SnapshotTwins, Store};

/// Identifies an opened snapshot in the per-thread block cache.
static NEXT_UID: AtomicU64 = AtomicU64::new(1);

/// Largest dictionary: the deflate window.
pub const DICT_MAX: usize = 32 * 1024;

/// Bytes inflated per step while looking for the end of a twin (a few twins' worth).
const STEP: usize = 4096;

/// The block a thread inflated last, inflated only as far as the twins read from it so far:
/// a query that reads one twin of a block inflates half a block on average, and reading on
/// resumes where it stopped.
#[derive(Default)]
struct Cache {
    /// Whose (snapshot uid, block) this is.
    key: Option<(u64, usize)>,
    /// Whose dictionary is at the start of `buf`.
    dict_of: Option<u64>,
    dict_len: usize,
    inflater: Box<DecompressorOxide>,
    /// Compressed bytes consumed so far.
    consumed: usize,
    /// The dictionary, then the block's text inflated up to `filled` (at most `rlen` bytes).
    buf: Vec<u8>,
    filled: usize,
    rlen: usize,
    ended: bool,
    /// Offsets in the text of every line start seen so far, then of each complete line's end.
    lines: Vec<usize>,
}

impl Cache {
    fn start(&mut self, key: (u64, usize), dict: &[u8], rlen: usize) {
        if self.dict_of != Some(key.0) {
            self.buf.clear();
            self.buf.extend_from_slice(dict);
            self.dict_len = dict.len();
            self.dict_of = Some(key.0);
        }
        self.key = Some(key);
        self.inflater.init();
        self.consumed = 0;
        self.filled = 0;
        self.rlen = rlen;
        self.ended = false;
        self.lines.clear();
        self.lines.push(0);
    }

    /// Inflates until twin `at` is complete (its line end is known) or the block ends.
    fn inflate_to(&mut self, at: usize, input: &[u8], entry: &BlockEntry) -> Result<(), String> {
        while self.lines.len() <= at + 1 && !self.ended {
            // Grown as inflated, so what a block makes us allocate is what it holds. The
            // dictionary stays in front: the stream refers back into it.
            let end = self.dict_len + (self.filled + STEP).min(self.rlen);
            if self.buf.len() < end {
                self.buf.resize(end, 0);
            }
            let from = self.dict_len + self.filled;
            let (status, read, wrote) = decompress(
                &mut self.inflater,
                input.get(self.consumed..).unwrap_or_default(),
                &mut self.buf[..end],
                from,
                TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
            );
            self.consumed += read;
            let text_from = self.filled;
            self.lines.extend(
                memchr::memchr_iter(b'\n', self.buf.get(from..from + wrote).unwrap_or_default())
                    .map(|i| text_from + i + 1),
            );
            self.filled += wrote;
            match status {
                TINFLStatus::Done => {
                    self.ended = true;
                    if self.filled != entry.rlen as usize
                        || self.lines.len() != entry.rows as usize + 1
                        || self.lines.last() != Some(&self.filled)
                    {
                        return Err(format!(
                            "inflates to {} bytes and {} lines, expected {} and {}",
                            self.filled,
                            self.lines.len() - 1,
                            entry.rlen,
                            entry.rows
                        ));
                    }
                }
                TINFLStatus::HasMoreOutput if self.filled < self.rlen => {}
                TINFLStatus::HasMoreOutput => {
                    return Err(format!("inflates past its length, {}", entry.rlen))
                }
                other => return Err(format!("does not inflate ({other:?})")),
            }
        }
        Ok(())
    }

    /// The block's text inflated so far.
    fn text(&self) -> &[u8] {
        self.buf
            .get(self.dict_len..self.dict_len + self.filled)
            .unwrap_or_default()
    }
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
    dict: Section,
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
    pub dict: Section,
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
            dict: l.dict,
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

    /// The block table and the dictionary, verified once.
    fn check_index(&self) -> Result<(), String> {
        self.index_ok
            .get_or_init(|| {
                self.check(&self.index)
                    .and_then(|()| self.check(&self.dict))
            })
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
                let dict = self.backing.bytes().get(self.dict.range());
                cache.start((self.uid, b), dict.unwrap_or_default(), entry.rlen as usize);
            }
            if let Err(e) = cache.inflate_to(at, bytes, &entry) {
                cache.key = None;
                return Err(format!("twin block {b}: {e}"));
            }
            let (start, end) = match (cache.lines.get(at), cache.lines.get(at + 1)) {
                (Some(&s), Some(&e)) => (s, e - 1),
                _ => return Err(format!("twin block {b} has no twin {at}")),
            };
            f(cache.text().get(start..end).unwrap_or_default());
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

/// One block for the writer: compressed bytes, inflated length, CRC-32 of the compressed
/// bytes, and twin count.
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub rlen: u32,
    pub crc: u32,
    pub rows: u32,
}

/// The JSON Lines of the twins of `rows`.
fn twin_text(store: &Store, rows: Range<u32>) -> Result<Vec<u8>, String> {
    let mut text = Vec::with_capacity(rows.len() * 1600);
    for row in rows {
        let twin = store.twin(row).map_err(|e| e.to_string())?;
        serde_json::to_writer(&mut text, &twin).map_err(|e| format!("twin of row {row}: {e}"))?;
        text.push(b'\n');
    }
    Ok(text)
}

/// The shared dictionary: whole twins sampled evenly across the fleet, up to [`DICT_MAX`]
/// bytes. Keys, structure and common values repeat from twin to twin, so any fair sample
/// teaches the compressor most of what it can learn.
pub fn dictionary(store: &Store) -> Result<Vec<u8>, String> {
    const SAMPLES: u64 = 64;
    let rows = u64::from(store.len());
    let samples = SAMPLES.min(rows);
    let mut dict = Vec::with_capacity(DICT_MAX + 4096);
    for k in 0..samples {
        let row = (k * rows / samples) as u32;
        dict.extend(twin_text(store, row..row + 1)?);
        if dict.len() >= DICT_MAX {
            break;
        }
    }
    // Keep the end: the most recent bytes are the cheapest to refer back to.
    let cut = dict.len().saturating_sub(DICT_MAX);
    dict.drain(..cut);
    Ok(dict)
}

/// Compresses blocks with the window primed by the dictionary: the primed compressor is made
/// once and cloned for each block.
pub struct Encoder {
    primed: CompressorOxide,
}

impl Encoder {
    pub fn new(dict: &[u8], level: u32) -> Result<Encoder, String> {
        // Negative window bits: raw deflate, no zlib header.
        let flags = create_comp_flags_from_zip_params(level.min(9) as i32, -15, 0);
        let mut primed = CompressorOxide::new(flags);
        if !dict.is_empty() {
            // A sync flush ends the dictionary's (discarded) output on a byte boundary and
            // keeps its window: what follows is each block's own stream.
            let (status, _) = compress_to_output(&mut primed, dict, TDEFLFlush::Sync, |_| true);
            if status != TDEFLStatus::Okay {
                return Err(format!("priming the compressor: {status:?}"));
            }
        }
        Ok(Encoder { primed })
    }

    /// Encodes the twins of `rows` as one block.
    pub fn block(&self, store: &Store, rows: Range<u32>) -> Result<Encoded, String> {
        let text = twin_text(store, rows.clone())?;
        let rlen = u32::try_from(text.len())
            .map_err(|_| format!("twins of rows {}..{} exceed 4 GiB", rows.start, rows.end))?;
        let mut c = self.primed.clone();
        let mut bytes = Vec::with_capacity(text.len() / 4);
        let (status, _) = compress_to_output(&mut c, &text, TDEFLFlush::Finish, |out| {
            bytes.extend_from_slice(out);
            true
        });
        if status != TDEFLStatus::Done {
            return Err(format!("compressing twins: {status:?}"));
        }
        Ok(Encoded {
            crc: crc32fast::hash(&bytes),
            rlen,
            rows: rows.len() as u32,
            bytes,
        })
    }
}
