//! Checkpoints: the complete dynamic state of a simulation in one file, written
//! atomically, so that a run killed at any moment (even during a write) can continue
//! from its last checkpoint and produce exactly the output of an uninterrupted run.
//!
//! What a checkpoint holds, and why that is everything:
//! - the step, and the spike counts since t = 0;
//! - the backend's state in global neuron order (`Backend::save_state`): LIF `u`,
//!   synaptic currents or conductances and refractory counters, the delay ring of
//!   pending synaptic input, the stimulus current; HV `y`, `w`, the spike detector and
//!   the coupling of the next step;
//! - every model parameter column, so that values changed with `Simulation::set` come
//!   back;
//! - what the caller adds (`galvani run` adds the CSV byte offsets, its ISI statistics
//!   and how it was started).
//!
//! Nothing else changes while a network runs: its synapses are static and rebuilt from
//! the config and seed (the build is deterministic; a fingerprint of the network is
//! checked on load), and every random draw (Poisson input) comes from a counter-based
//! generator keyed by (seed, stream, step), whose only counter is the step.
//!
//! File format (little-endian): the magic `GALVCKPT`, a `u32` format version, a `u32`
//! length and that many bytes of JSON metadata, a `u32` section count, then per section a
//! `u16` name length, the name, a `u64` length and the bytes; last a CRC-32 of everything
//! before it. f32 state has one layout on the CPU and the GPU backend, so a checkpoint of
//! one loads into the other.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::real::Real;

/// The file's first bytes.
pub const MAGIC: &[u8; 8] = b"GALVCKPT";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;
/// The largest JSON metadata a checkpoint may hold (64 MiB): what `galvani run` writes
/// there is a few kilobytes.
pub const MAX_META_BYTES: u64 = 64 << 20;
/// Room, beyond the sections whose sizes follow from the network, for the metadata and
/// the `net.inputs` section (spike times and current schedules, which a script may set
/// to any length): 1 GiB.
pub const INPUTS_ALLOWANCE: u64 = 1 << 30;
/// The checkpoint file of an output folder (`galvani run --checkpoint-every-ms`).
pub const FILE_NAME: &str = "checkpoint.galvani";

/// A checkpoint in memory: JSON metadata plus named binary sections.
#[derive(Debug, Clone, Default)]
pub struct Checkpoint {
    /// Metadata (the simulation's under `"simulation"`, the caller's beside it).
    pub meta: serde_json::Map<String, serde_json::Value>,
    sections: Vec<(String, Vec<u8>)>,
    /// Where it was read from (for messages).
    source: Option<PathBuf>,
}

impl Checkpoint {
    /// An empty checkpoint.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a section.
    pub fn put(&mut self, name: &str, bytes: Vec<u8>) {
        match self.sections.iter_mut().find(|(n, _)| n == name) {
            Some(s) => s.1 = bytes,
            None => self.sections.push((name.to_string(), bytes)),
        }
    }

    /// The bytes of section `name`, or an error naming the file and the section.
    pub fn section(&self, name: &str) -> Result<&[u8]> {
        self.sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_slice())
            .ok_or_else(|| self.error(format!("it has no section '{name}'")))
    }

    /// The file it was read from, if any.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// Whether section `name` exists.
    pub fn has(&self, name: &str) -> bool {
        self.sections.iter().any(|(n, _)| n == name)
    }

    /// The names of the sections, in order.
    pub fn section_names(&self) -> impl Iterator<Item = &str> {
        self.sections.iter().map(|(n, _)| n.as_str())
    }

    /// A decoder over section `name`, which must hold `count` records of `record` bytes.
    pub fn reader(&self, name: &str, count: usize, record: usize) -> Result<Dec<'_>> {
        let b = self.section(name)?;
        if b.len() != count * record {
            return Err(self.error(format!(
                "section '{name}' holds {} bytes where this network needs {} ({count} × {record}): it was saved from a different network",
                b.len(),
                count * record
            )));
        }
        Ok(Dec { b, at: 0 })
    }

    /// An error about this checkpoint (naming its file when it was read from one).
    pub fn error(&self, msg: impl std::fmt::Display) -> Error {
        match &self.source {
            Some(p) => Error::Usage(format!("checkpoint {}: {msg}", p.display())),
            None => Error::Usage(format!("checkpoint: {msg}")),
        }
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let meta = serde_json::to_vec(&self.meta).expect("JSON metadata serialises");
        let total: usize = self
            .sections
            .iter()
            .map(|(n, b)| 2 + n.len() + 8 + b.len())
            .sum();
        let mut out = Vec::with_capacity(24 + meta.len() + total);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
        out.extend_from_slice(&meta);
        out.extend_from_slice(&(self.sections.len() as u32).to_le_bytes());
        for (name, bytes) in &self.sections {
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            out.extend_from_slice(bytes);
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Parses a file's bytes; `source` names it in errors.
    pub fn from_bytes(data: &[u8], source: &Path) -> Result<Self> {
        let bad = |msg: &str| {
            Error::Usage(format!(
                "checkpoint {}: {msg}; it cannot be resumed from",
                source.display()
            ))
        };
        if data.len() < MAGIC.len() + 4 || &data[..MAGIC.len()] != MAGIC {
            return Err(bad("not a galvani checkpoint (bad magic)"));
        }
        let (body, crc) = data.split_at(data.len() - 4);
        if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
            return Err(bad("checksum mismatch (truncated or damaged file)"));
        }
        let mut d = Dec {
            b: &body[MAGIC.len()..],
            at: 0,
        };
        let short = |_| bad("truncated");
        let version = d.u32().map_err(short)?;
        let len = d.u32().map_err(short)? as usize;
        check_head(version, len as u64).map_err(|m| bad(&m))?;
        let meta: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(d.bytes(len).map_err(short)?)
                .map_err(|e| bad(&format!("unreadable metadata ({e})")))?;
        let count = d.u32().map_err(short)?;
        let mut sections = Vec::with_capacity(count.min(1024) as usize);
        for _ in 0..count {
            let n = u16::from_le_bytes(d.bytes(2).map_err(short)?.try_into().expect("2"));
            let name = std::str::from_utf8(d.bytes(n as usize).map_err(short)?)
                .map_err(|_| bad("a section name is not UTF-8"))?
                .to_string();
            let len = d.u64().map_err(short)?;
            let len = usize::try_from(len).map_err(|_| bad("a section is too large"))?;
            if sections.iter().any(|(n, _)| *n == name) {
                return Err(bad(&format!("section '{name}' appears twice")));
            }
            sections.push((name, d.bytes(len).map_err(short)?.to_vec()));
        }
        if d.at != d.b.len() {
            return Err(bad("trailing bytes after the last section"));
        }
        Ok(Checkpoint {
            meta,
            sections,
            source: Some(source.to_path_buf()),
        })
    }

    /// Reads and checks a checkpoint file of at most `limit` bytes (a checkpoint of the
    /// network it is for cannot be larger: see [`crate::backend::state_check::max_checkpoint_bytes`]).
    /// Only a regular file is opened ([`read_regular`]).
    pub fn read(path: &Path, limit: u64) -> Result<Self> {
        let data = read_regular(path, limit, "a checkpoint")?;
        Self::from_bytes(&data, path)
    }

    /// The metadata of a checkpoint file, read from its head without the rest (and so
    /// without the checksum, which [`Checkpoint::read`] checks later): what `galvani
    /// resume` needs to rebuild the network before it knows how large the file may be.
    pub fn read_meta(path: &Path) -> Result<serde_json::Map<String, serde_json::Value>> {
        use std::io::Read;
        let bad = |msg: String| {
            Error::Usage(format!(
                "checkpoint {}: {msg}; it cannot be resumed from",
                path.display()
            ))
        };
        let mut f = open_regular(path, u64::MAX, "a checkpoint")?;
        let mut head = [0u8; 16];
        f.read_exact(&mut head)
            .map_err(|_| bad("not a galvani checkpoint (shorter than its header)".into()))?;
        if &head[..8] != MAGIC {
            return Err(bad("not a galvani checkpoint (bad magic)".into()));
        }
        let version = u32::from_le_bytes(head[8..12].try_into().expect("4 bytes"));
        let len = u32::from_le_bytes(head[12..16].try_into().expect("4 bytes")) as u64;
        check_head(version, len).map_err(bad)?;
        let mut meta = Vec::with_capacity(len as usize);
        (&mut f)
            .take(len)
            .read_to_end(&mut meta)
            .map_err(|e| Error::io(path, e))?;
        if meta.len() as u64 != len {
            return Err(bad("truncated".into()));
        }
        serde_json::from_slice(&meta).map_err(|e| bad(format!("unreadable metadata ({e})")))
    }

    /// Writes the checkpoint to `path` atomically: into `path.tmp` in the same folder,
    /// synced to disk, then renamed over `path` (and the folder synced), so that a crash
    /// at any moment leaves either the previous checkpoint or the new one, never a mix.
    pub fn write_atomic(&self, path: &Path) -> Result<()> {
        let tmp = tmp_path(path);
        let bytes = self.to_bytes();
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()
        };
        write().map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
        sync_dir(path);
        Ok(())
    }
}

/// Checks a file's format version and metadata length, the head both a whole read and a
/// metadata-only read take.
fn check_head(version: u32, meta_len: u64) -> std::result::Result<(), String> {
    if version != VERSION {
        return Err(format!(
            "format version {version}, this galvani reads version {VERSION}"
        ));
    }
    if meta_len > MAX_META_BYTES {
        return Err(format!(
            "{meta_len} bytes of metadata, more than the {MAX_META_BYTES} this galvani reads"
        ));
    }
    Ok(())
}

/// What a path that is not a regular file is, for messages.
fn kind_of(md: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = md.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if md.is_dir() {
        "a folder"
    } else {
        "not a regular file"
    }
}

/// Opens `path` for reading if it is a regular file (links followed) of at most `limit`
/// bytes; `what` names it in errors ("a checkpoint"). FIFOs, devices, sockets and
/// folders are refused before they are opened: opening a FIFO blocks until a writer
/// comes, and a device can be read without end. On Unix the file is opened without
/// blocking and checked again through the open handle, so that a path swapped for a
/// FIFO between the two looks cannot block either.
pub fn open_regular(path: &Path, limit: u64, what: &str) -> Result<std::fs::File> {
    let check = |md: &std::fs::Metadata| -> Result<()> {
        if !md.is_file() {
            return Err(Error::Usage(format!(
                "{}: {}; {what} must be a regular file",
                path.display(),
                kind_of(md)
            )));
        }
        if md.len() > limit {
            return Err(Error::Usage(format!(
                "{}: {} bytes, more than the {limit} bytes {what} of this network can hold",
                path.display(),
                md.len()
            )));
        }
        Ok(())
    };
    check(&std::fs::metadata(path).map_err(|e| Error::io(path, e))?)?;
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let f = opts.open(path).map_err(|e| Error::io(path, e))?;
    check(&f.metadata().map_err(|e| Error::io(path, e))?)?;
    Ok(f)
}

/// The bytes of `path`, opened as [`open_regular`] opens it; at most `limit` bytes are
/// read even if the file grows meanwhile.
pub fn read_regular(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    use std::io::Read;
    let f = open_regular(path, limit, what)?;
    let len = f.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut data = Vec::with_capacity(len as usize);
    f.take(limit.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|e| Error::io(path, e))?;
    if data.len() as u64 > limit {
        return Err(Error::Usage(format!(
            "{}: grew past the {limit} bytes {what} of this network can hold while it was read",
            path.display()
        )));
    }
    Ok(data)
}

/// `path` with `.tmp` appended: where [`Checkpoint::write_atomic`] writes first.
pub fn tmp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(".tmp");
    PathBuf::from(s)
}

/// Syncs the folder holding `path`, so that a rename in it is durable (Unix; elsewhere a
/// no-op).
pub fn sync_dir(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Little-endian encoder of state arrays.
#[derive(Debug, Default)]
pub struct Enc(pub Vec<u8>);

impl Enc {
    /// An empty encoder with room for `bytes`.
    pub fn with_capacity(bytes: usize) -> Self {
        Enc(Vec::with_capacity(bytes))
    }
    /// A value of the working precision, in that precision (4 or 8 bytes).
    pub fn real<F: Real>(&mut self, x: F) {
        if F::NAME == "f32" {
            self.0.extend_from_slice(&(x.f64() as f32).to_le_bytes());
        } else {
            self.0.extend_from_slice(&x.f64().to_le_bytes());
        }
    }
    /// A synaptic-input accumulator (i32 fixed point for f32, f64 for f64).
    pub fn acc<F: Real>(&mut self, a: F::Acc) {
        let bits = F::acc_bits(a);
        if F::NAME == "f32" {
            self.0.extend_from_slice(&(bits as u32).to_le_bytes());
        } else {
            self.0.extend_from_slice(&bits.to_le_bytes());
        }
    }
    /// A `u32`.
    pub fn u32(&mut self, x: u32) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    /// A `u64`.
    pub fn u64(&mut self, x: u64) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    /// An `f64`.
    pub fn f64(&mut self, x: f64) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
}

/// Bytes of one value of precision `F`.
pub fn real_bytes<F: Real>() -> usize {
    if F::NAME == "f32" { 4 } else { 8 }
}

/// Little-endian decoder; its length was checked by [`Checkpoint::reader`], so reads
/// within the records asked for do not fail.
#[derive(Debug)]
pub struct Dec<'a> {
    b: &'a [u8],
    at: usize,
}

/// Ran past the end of a section.
#[derive(Debug, Clone, Copy)]
pub struct Short;

impl<'a> Dec<'a> {
    /// A decoder over raw bytes.
    pub fn new(b: &'a [u8]) -> Self {
        Dec { b, at: 0 }
    }
    fn bytes(&mut self, n: usize) -> std::result::Result<&'a [u8], Short> {
        let end = self.at.checked_add(n).ok_or(Short)?;
        let s = self.b.get(self.at..end).ok_or(Short)?;
        self.at = end;
        Ok(s)
    }
    fn arr<const N: usize>(&mut self) -> [u8; N] {
        self.bytes(N)
            .map(|s| s.try_into().expect("N bytes"))
            .unwrap_or([0; N])
    }
    /// A value of precision `F`.
    pub fn real<F: Real>(&mut self) -> F {
        if F::NAME == "f32" {
            F::of(f32::from_le_bytes(self.arr()) as f64)
        } else {
            F::of(f64::from_le_bytes(self.arr()))
        }
    }
    /// An accumulator of precision `F`.
    pub fn acc<F: Real>(&mut self) -> F::Acc {
        if F::NAME == "f32" {
            F::acc_from_bits(u32::from_le_bytes(self.arr()) as u64)
        } else {
            F::acc_from_bits(u64::from_le_bytes(self.arr()))
        }
    }
    /// A `u32`.
    pub fn u32(&mut self) -> std::result::Result<u32, Short> {
        self.bytes(4)
            .map(|s| u32::from_le_bytes(s.try_into().expect("4")))
    }
    /// A `u64`.
    pub fn u64(&mut self) -> std::result::Result<u64, Short> {
        self.bytes(8)
            .map(|s| u64::from_le_bytes(s.try_into().expect("8")))
    }
    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        &self.b[self.at..]
    }
    /// A `u32` within checked records.
    pub fn word(&mut self) -> u32 {
        u32::from_le_bytes(self.arr())
    }
    /// An `f64` within checked records.
    pub fn f64(&mut self) -> f64 {
        f64::from_le_bytes(self.arr())
    }
}
