//! Where input bytes come from: plain files are memory-mapped, `.gz` files and standard input
//! are read into memory. Everything above this module sees one `&[u8]` per input.
//!
//! The memory map is the one `unsafe` place of this module.

use std::fs::File;
use std::io::Read;
use std::ops::Deref;
use std::path::Path;

use memmap2::Mmap;

use crate::error::LoadError;

/// A `.gz` input may decompress to at most this many bytes by default
/// (`LoadOptions::max_decompressed_bytes`): a decompressed input is held in memory, and gzip
/// expands up to about 1,000:1, so a few MB of compressed zeros could otherwise claim the
/// machine's memory. 16 GiB is about ten million devices of a typical export; larger exports
/// are better decompressed to a file first, which is then mapped rather than copied.
pub const MAX_DECOMPRESSED_BYTES: u64 = 16 << 30;

/// One input, fully available as bytes.
pub struct SourceFile {
    /// The name the user gave (`-` for standard input).
    pub name: String,
    data: SourceData,
}

enum SourceData {
    Mapped(Mmap),
    Owned(Vec<u8>),
}

impl SourceFile {
    /// Opens a path given on the command line: `-` is standard input, a file starting with the
    /// gzip magic bytes is decompressed (to at most `max_decompressed` bytes), any other
    /// regular file is memory-mapped.
    pub fn open(name: &str, max_decompressed: u64) -> Result<SourceFile, LoadError> {
        if name == "-" {
            // Standard input cannot be mapped: it is held in memory, under the same cap as a
            // decompressed input.
            let buf = read_capped(name, std::io::stdin().lock(), max_decompressed).map_err(
                |e| match e {
                    LoadError::Decompressed { file, limit } => {
                        LoadError::InMemoryLimit { file, limit }
                    }
                    other => other,
                },
            )?;
            return SourceFile::from_bytes(name, buf, max_decompressed);
        }
        let path = Path::new(name);
        let meta = std::fs::metadata(path).map_err(|e| LoadError::io(name, e))?;
        if meta.is_dir() {
            return Err(LoadError::NotAFile {
                file: name.to_string(),
                what: "a directory",
            });
        }
        let file = File::open(path).map_err(|e| LoadError::io(name, e))?;
        if meta.len() == 0 {
            return Ok(SourceFile {
                name: name.to_string(),
                data: SourceData::Owned(Vec::new()),
            });
        }
        // SAFETY: the map is read-only and twindex never writes to the file. Another process
        // truncating or rewriting the file while it is mapped can make reads fault or see
        // changed bytes; this is the usual contract of tools that map their input (ripgrep
        // documents the same). Every read of the mapping goes through bounds-checked slices,
        // so changed bytes can give wrong answers or parse errors but not out-of-bounds reads.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| LoadError::io(name, e))?;
        if is_gzip(&map) {
            return Ok(SourceFile {
                name: name.to_string(),
                data: SourceData::Owned(gunzip(name, &map, max_decompressed)?),
            });
        }
        Ok(SourceFile {
            name: name.to_string(),
            data: SourceData::Mapped(map),
        })
    }

    /// An input already in memory (tests, standard input); gzip is detected here too.
    pub fn from_bytes(
        name: &str,
        bytes: Vec<u8>,
        max_decompressed: u64,
    ) -> Result<SourceFile, LoadError> {
        let data = if is_gzip(&bytes) {
            gunzip(name, &bytes, max_decompressed)?
        } else {
            bytes
        };
        Ok(SourceFile {
            name: name.to_string(),
            data: SourceData::Owned(data),
        })
    }

    /// True when the bytes are a memory map (not counted as the store's own memory).
    pub fn is_mapped(&self) -> bool {
        matches!(self.data, SourceData::Mapped(_))
    }
}

impl Deref for SourceFile {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.data {
            SourceData::Mapped(m) => m,
            SourceData::Owned(v) => v,
        }
    }
}

/// Decompresses a gzip input (every member) into memory, failing as soon as it passes
/// `limit` bytes. The buffer grows by doubling but never past `limit + 1` bytes (the one byte
/// that tells an input over the limit from one exactly at it), so a bomb costs at most the
/// limit in memory, not twice it as `read_to_end`'s growth could.
fn gunzip(name: &str, compressed: &[u8], limit: u64) -> Result<Vec<u8>, LoadError> {
    read_capped(name, flate2::read::MultiGzDecoder::new(compressed), limit)
}

/// Reads `reader` to its end into memory, failing with [`LoadError::Decompressed`] as soon
/// as it passes `limit` bytes (see [`gunzip`]).
fn read_capped(name: &str, mut decoder: impl Read, limit: u64) -> Result<Vec<u8>, LoadError> {
    let hard = usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX);
    let mut buf: Vec<u8> = Vec::new();
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            if filled >= hard {
                return Err(LoadError::Decompressed {
                    file: name.to_string(),
                    limit,
                });
            }
            let grow = buf.len().max(1 << 16).min(hard - filled);
            buf.resize(filled + grow, 0);
        }
        match decoder.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(LoadError::io(name, e)),
        }
    }
    buf.truncate(filled);
    buf.shrink_to_fit();
    Ok(buf)
}

fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// The bytes after a UTF-8 byte-order mark, if there is one.
pub fn strip_bom(bytes: &[u8]) -> (&[u8], usize) {
    match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest, 3),
        None => (bytes, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_capped_at_the_limit() {
        let bytes = vec![b' '; 1000];
        assert_eq!(read_capped("x", &bytes[..], 1000).unwrap().len(), 1000);
        assert_eq!(read_capped("x", &bytes[..], 5000).unwrap().len(), 1000);
        let err = read_capped("x", &bytes[..], 999).unwrap_err();
        assert!(
            matches!(err, LoadError::Decompressed { limit: 999, .. }),
            "{err}"
        );
    }
}
