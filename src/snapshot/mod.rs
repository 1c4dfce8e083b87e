//! The persisted, memory-mapped form of a store: parse the JSON once, then open the snapshot in
//! near-constant time and query it in place.
//!
//! A snapshot holds the columns (kind bytes, payloads and string arenas, viewed in place from
//! the map as typed slices), dictionaries and roaring bitmaps (in their portable serialized
//! form, decoded on first use), the full normalised twins (JSON Lines, deflated in blocks of a
//! few dozen, for `SELECT *` without the inputs), the row table and the load report. Every
//! section has a CRC-32. `FORMAT.md` at the root of the repository describes the bytes.
//!
//! What is checked when:
//!
//! - at open, always: magic, header checksum and version, file length, the section table
//!   (checksum, kinds, bounds, alignment, no overlaps, which sections each column needs and
//!   their sizes), and the small sections (catalog, report, module and irregular bitmaps),
//!   which are verified and decoded. Nothing else is read, so opening costs the same for a
//!   thousand twins or a million.
//! - on first use of a column: its sections' checksums, then decoding of its presence bitmap,
//!   dictionary and index, with range checks (dictionary codes, bitmap rows, kind bytes). The
//!   planner prepares every column a query binds (and the twin blocks it may read), so a
//!   corrupt section fails that query with an error instead of answering it.
//! - on first use of a twin block: its own checksum (a `SELECT *` verifies every block).
//! - with [`OpenOptions::verify`] (`--verify`): everything, at open.
//!
//! Lazy is the default because verifying costs what reading costs: page-faulting the map
//! (about 0.14 ms per MB here) dominates CRC-32 (over 20 GB/s), so checking a 650 MB snapshot
//! at open would take ~100 ms where a query that reads one indexed column touches a few MB.

mod format;
mod read;
mod report;
mod twins;
mod write;

use std::io::Read as _;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use memmap2::Mmap;

pub use format::{MAGIC, VERSION};
pub(crate) use read::open;
pub(crate) use write::write;

use crate::error::LoadError;
use crate::store::Backing;

/// How to open a snapshot.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Verify every section's checksum at open instead of on first use (costs a read of the
    /// whole file).
    pub verify: bool,
}

/// How to write a snapshot.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// Twins per compressed block: larger blocks compress better, and cost more to read one
    /// twin from (the whole block is inflated).
    pub block_rows: u32,
    /// Deflate level of the twin blocks (0–9).
    pub level: u32,
    /// Twins written so far, added to as blocks are written (for a progress bar).
    pub progress: Option<Arc<AtomicU64>>,
}

impl Default for WriteOptions {
    /// Blocks of 8 twins at level 6: see FORMAT.md for the measurements behind this.
    fn default() -> WriteOptions {
        WriteOptions {
            block_rows: 8,
            level: 6,
            progress: None,
        }
    }
}

/// What writing a snapshot produced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WriteSummary {
    /// Bytes of the whole file.
    pub bytes: u64,
    /// Bytes of the compressed twins (with their block table and dictionary).
    pub twin_bytes: u64,
    /// Bytes of columns, dictionaries and indexes.
    pub column_bytes: u64,
    pub sections: usize,
    pub elapsed_ms: f64,
}

/// Where a fleet opened from a snapshot came from (in [`crate::LoadReport::snapshot`]).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SnapshotInfo {
    pub file: String,
    pub bytes: u64,
    pub format_version: u32,
    /// The twindex that wrote it (`twindex 0.1.0`).
    pub build: String,
    /// When it was written, in seconds since the Unix epoch.
    pub created: u64,
    /// Time to open it (excluding any later first-use verification).
    pub open_ms: f64,
    /// Whether every checksum was verified at open.
    pub verified: bool,
}

/// Whether `bytes` start like a snapshot: the magic bytes, or eight bytes at most two bytes
/// away from them, so that a snapshot whose magic was damaged is reported as a damaged
/// snapshot instead of being read as (lenient, mostly skipped) JSON Lines. No JSON input can
/// come that close: the magic holds 0x89 and 0x1A, neither of which starts UTF-8 text.
pub fn is_snapshot(bytes: &[u8]) -> bool {
    bytes
        .get(..MAGIC.len())
        .is_some_and(|head| head.iter().zip(&MAGIC).filter(|(a, b)| a != b).count() <= 2)
}

/// Whether the file at `path` starts like a snapshot (see [`is_snapshot`]; false when it
/// cannot be read: opening it as an input then reports why).
pub fn sniff(path: &Path) -> bool {
    let mut head = [0u8; MAGIC.len()];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| is_snapshot(&head))
}

/// Maps a snapshot file read-only.
///
/// # Safety
///
/// The file must not be modified or truncated, by this process or another, while the map, or
/// any store opened from it, is alive. Reads of a file changed in place may see bytes that
/// differ from the ones verified; a file truncated under the map makes reads fault (SIGBUS).
/// twindex itself never writes a file in place: [`write`] writes a temporary file and renames
/// it over the target, which leaves a mapped old file intact.
pub(crate) unsafe fn map(name: &str, path: &Path) -> Result<Arc<Backing>, LoadError> {
    let file = std::fs::File::open(path).map_err(|e| LoadError::io(name, e))?;
    let meta = file.metadata().map_err(|e| LoadError::io(name, e))?;
    if meta.is_dir() {
        return Err(LoadError::NotAFile {
            file: name.to_string(),
            what: "a directory",
        });
    }
    if meta.len() == 0 {
        // Mapping zero bytes fails on some systems; the header check reports it properly.
        return Ok(Arc::new(Backing::copy_of(&[])));
    }
    // SAFETY: the caller guarantees the file is not changed while mapped (this function's
    // contract); the map is read-only and every read of it is bounds-checked.
    let map = unsafe { Mmap::map(&file) }.map_err(|e| LoadError::io(name, e))?;
    Ok(Arc::new(Backing::Mapped(map)))
}

/// Wraps a reason as the snapshot error of `file`.
fn error(file: &str) -> impl Fn(String) -> LoadError + '_ {
    move |reason| LoadError::Snapshot {
        file: file.to_string(),
        reason,
    }
}
