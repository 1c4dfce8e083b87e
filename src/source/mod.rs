//! Where input bytes come from: plain files are memory-mapped, `.gz` files and standard input
//! are read into memory. Everything above this module sees one `&[u8]` per input.
//!
//! The memory map is the one `unsafe` place in twindex.

use std::fs::File;
use std::io::Read;
use std::ops::Deref;
use std::path::Path;

use memmap2::Mmap;

use crate::error::LoadError;

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
    /// gzip magic bytes is decompressed, any other regular file is memory-mapped.
    pub fn open(name: &str) -> Result<SourceFile, LoadError> {
        if name == "-" {
            let mut buf = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut buf)
                .map_err(|e| LoadError::io(name, e))?;
            return SourceFile::from_bytes(name, buf);
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
            let mut buf = Vec::new();
            flate2::read::MultiGzDecoder::new(&map[..])
                .read_to_end(&mut buf)
                .map_err(|e| LoadError::io(name, e))?;
            return Ok(SourceFile {
                name: name.to_string(),
                data: SourceData::Owned(buf),
            });
        }
        Ok(SourceFile {
            name: name.to_string(),
            data: SourceData::Mapped(map),
        })
    }

    /// An input already in memory (tests, standard input); gzip is detected here too.
    pub fn from_bytes(name: &str, bytes: Vec<u8>) -> Result<SourceFile, LoadError> {
        let data = if is_gzip(&bytes) {
            let mut buf = Vec::new();
            flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_end(&mut buf)
                .map_err(|e| LoadError::io(name, e))?;
            buf
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
