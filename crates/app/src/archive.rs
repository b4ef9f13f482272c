//! Batch flows (issue #13): a flow may be a `.zip` or a `.tar.gz` of invoice files. Archives come
//! from outside, so they are read entry by entry through a metered reader that stops at the first
//! byte beyond a limit: no header size is trusted, no entry list is built for an archive declaring
//! more entries than allowed, and the whole uncompressed content is never in memory.
//!
//! [`walk`] checks every entry (safe name, plain file, not itself an archive, sizes, compression
//! ratio) and hands each file's bytes to a visitor in archive order, its rank counting from 1.

use std::io::{self, Read, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Most invoice files in a batch (spec §5: an E1 flow holds 500 invoices at most).
pub const MAX_ENTRIES: u32 = 500;

/// What a batch archive may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Invoice files (folders are not counted, but at most as many folders as files are read).
    pub max_entries: u32,
    /// Bytes of one file, uncompressed: the single-file flow limit.
    pub max_entry_bytes: u64,
    /// Bytes of the whole content, uncompressed.
    pub max_total_bytes: u64,
    /// Uncompressed bytes per compressed byte, for the archive and for each entry.
    pub max_ratio: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_entries: MAX_ENTRIES,
            max_entry_bytes: 10 * 1024 * 1024,
            max_total_bytes: 1024 * 1024 * 1024,
            max_ratio: 1000,
        }
    }
}

/// The packaging of a batch flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchiveKind {
    Zip,
    TarGz,
}

impl ArchiveKind {
    /// The archive kind of a file from its first bytes (the magic decides; the name is only a
    /// hint, see [`named_as_archive`]). `None` for anything else (an XML or PDF invoice).
    pub fn sniff(head: &[u8]) -> Option<ArchiveKind> {
        if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
            Some(ArchiveKind::Zip)
        } else if head.starts_with(&[0x1f, 0x8b]) {
            Some(ArchiveKind::TarGz)
        } else {
            None
        }
    }

    /// The media type the deposit is recorded with.
    pub fn media_type(self) -> &'static str {
        match self {
            ArchiveKind::Zip => "application/zip",
            ArchiveKind::TarGz => "application/gzip",
        }
    }
}

/// Whether a file name announces an archive (a `.zip` whose bytes are no archive is refused as
/// unreadable rather than read as an invoice).
pub fn named_as_archive(file_name: &str) -> bool {
    let lower = file_name.trim().to_ascii_lowercase();
    [".zip", ".tar.gz", ".tgz"].iter().any(|ext| lower.ends_with(ext))
}

/// Why an archive is refused as a whole. The entry named is the first one at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveError {
    #[error("entry name {0:?} is absolute, climbs out, is empty or holds control characters")]
    UnsafeName(String),
    #[error("entry {0:?} is a link, a device or another special file")]
    NotAFile(String),
    #[error("more than {0} files")]
    TooManyEntries(u32),
    #[error("entry {0:?} is itself an archive")]
    Nested(String),
    #[error("uncompressed content beyond {0} bytes")]
    TooLarge(u64),
    #[error("compression ratio above {0}:1")]
    Ratio(u64),
    #[error("entry {0:?} is beyond {1} bytes")]
    EntryTooLarge(String, u64),
    #[error("unreadable archive: {0}")]
    Unreadable(String),
    #[error("the archive holds no file")]
    Empty,
}

impl ArchiveError {
    /// The entry at fault, when one is.
    pub fn entry(&self) -> Option<&str> {
        match self {
            Self::UnsafeName(n) | Self::NotAFile(n) | Self::Nested(n) | Self::EntryTooLarge(n, _) => Some(n),
            _ => None,
        }
    }
}

/// Carries an [`ArchiveError`] through `io::Read` (the metered readers fail with it).
fn io_err(e: ArchiveError) -> io::Error {
    io::Error::other(e)
}

/// The archive error an I/O error carries, or "unreadable".
fn from_io(e: io::Error) -> ArchiveError {
    if e.get_ref().is_some_and(|inner| inner.is::<ArchiveError>()) {
        if let Some(inner) = e.into_inner()
            && let Ok(found) = inner.downcast::<ArchiveError>()
        {
            return *found;
        }
        return ArchiveError::Unreadable("I/O".to_owned());
    }
    ArchiveError::Unreadable(e.to_string())
}

fn unreadable(e: impl std::fmt::Display) -> ArchiveError {
    ArchiveError::Unreadable(e.to_string())
}

/// Rejects names that could escape a folder or fool a reader: absolute (`/x`, `\x`, `C:x`),
/// climbing (`..` as a component, with either separator), empty, too long or with control
/// characters.
fn check_name(name: &str) -> Result<(), ArchiveError> {
    let bad = name.is_empty()
        || name.chars().count() > crate::flows::MAX_FILE_NAME_CHARS
        || name.chars().any(char::is_control)
        || name.starts_with('/')
        || name.starts_with('\\')
        || name.as_bytes().get(1) == Some(&b':')
        || name.split(['/', '\\']).any(|part| part == "..");
    if bad {
        Err(ArchiveError::UnsafeName(name.to_owned()))
    } else {
        Ok(())
    }
}

/// Rejects an entry that is itself an archive, by its name or by its first bytes.
fn check_not_nested(name: &str, data: &[u8]) -> Result<(), ArchiveError> {
    let lower = name.to_ascii_lowercase();
    let by_name = [".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".zst"]
        .iter()
        .any(|ext| lower.ends_with(ext));
    let magics: [&[u8]; 6] = [
        b"PK\x03\x04",
        b"PK\x05\x06",
        &[0x1f, 0x8b],
        b"BZh",
        &[0xfd, b'7', b'z', b'X', b'Z', 0],
        &[b'7', b'z', 0xbc, 0xaf, 0x27, 0x1c],
    ];
    let by_magic = magics.iter().any(|m| data.starts_with(m)) || data.get(257..262) == Some(b"ustar".as_slice());
    if by_name || by_magic {
        Err(ArchiveError::Nested(name.to_owned()))
    } else {
        Ok(())
    }
}

/// Counts the uncompressed bytes of the whole archive against its limits.
struct Meter {
    limits: ArchiveLimits,
    /// Uncompressed bytes read so far.
    total: u64,
}

impl Meter {
    /// Reads one entry whole, failing as soon as it passes the entry limit, the archive's total
    /// or `max_ratio` times its `compressed` size (bounded by the archive's length, so a lying
    /// header cannot raise it).
    fn read_entry(&mut self, name: &str, entry: &mut dyn Read, compressed: u64) -> Result<Vec<u8>, ArchiveError> {
        let l = self.limits;
        let mut data = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        let entry_ratio_cap = l.max_ratio.saturating_mul(compressed.max(1));
        loop {
            let n = match entry.read(&mut chunk) {
                Ok(0) => return Ok(data),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(from_io(e)),
            };
            let len = u64::try_from(data.len() + n).unwrap_or(u64::MAX);
            self.total = self.total.saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
            if self.total > l.max_total_bytes {
                return Err(ArchiveError::TooLarge(l.max_total_bytes));
            }
            if len > l.max_entry_bytes {
                return Err(ArchiveError::EntryTooLarge(name.to_owned(), l.max_entry_bytes));
            }
            if len > entry_ratio_cap {
                return Err(ArchiveError::Ratio(l.max_ratio));
            }
            data.extend_from_slice(chunk.get(..n).unwrap_or_default());
        }
    }
}

/// Walks an archive of `len` bytes, checking each entry and giving each file to `visit` with its
/// rank (from 1) and name; `visit` may stop the walk. Returns how many files were visited. The
/// whole archive is checked only if the walk is not stopped: check first with a visitor that
/// keeps nothing, then walk again to use the files.
pub fn walk<R: Read + Seek>(
    kind: ArchiveKind,
    reader: R,
    len: u64,
    limits: ArchiveLimits,
    visit: impl FnMut(u32, &str, Vec<u8>) -> ControlFlow<()>,
) -> Result<u32, ArchiveError> {
    match kind {
        ArchiveKind::Zip => walk_zip(reader, len, limits, visit),
        ArchiveKind::TarGz => walk_tar_gz(reader, len, limits, visit),
    }
}

/// The number of entries a zip's end-of-central-directory record declares (ZIP64 included), read
/// before the central directory is: the `zip` crate would otherwise list a million entries.
fn zip_declared_entries<R: Read + Seek>(r: &mut R, len: u64) -> Result<u64, ArchiveError> {
    const EOCD: &[u8] = b"PK\x05\x06";
    let tail_len = len.min(22 + 65_535);
    r.seek(SeekFrom::Start(len - tail_len)).map_err(unreadable)?;
    let mut tail = vec![0u8; usize::try_from(tail_len).map_err(unreadable)?];
    r.read_exact(&mut tail).map_err(unreadable)?;
    let at = tail
        .windows(4)
        .rposition(|w| w == EOCD)
        .ok_or_else(|| unreadable("no end of central directory"))?;
    let u16_at = |o: usize| tail.get(at + o..at + o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let count = u16_at(10).ok_or_else(|| unreadable("truncated end of central directory"))?;
    if count != u16::MAX {
        return Ok(u64::from(count));
    }
    // ZIP64: the locator (20 bytes) just before the record gives the ZIP64 record's offset.
    let locator_at = (len - tail_len + u64::try_from(at).map_err(unreadable)?)
        .checked_sub(20)
        .ok_or_else(|| unreadable("no ZIP64 locator"))?;
    let mut locator = [0u8; 20];
    r.seek(SeekFrom::Start(locator_at)).map_err(unreadable)?;
    r.read_exact(&mut locator).map_err(unreadable)?;
    if &locator[..4] != b"PK\x06\x07" {
        return Err(unreadable("no ZIP64 locator"));
    }
    let mut offset = [0u8; 8];
    offset.copy_from_slice(&locator[8..16]);
    let mut record = [0u8; 40];
    r.seek(SeekFrom::Start(u64::from_le_bytes(offset)))
        .map_err(unreadable)?;
    r.read_exact(&mut record).map_err(unreadable)?;
    if &record[..4] != b"PK\x06\x06" {
        return Err(unreadable("no ZIP64 end of central directory"));
    }
    let mut total = [0u8; 8];
    total.copy_from_slice(&record[32..40]);
    Ok(u64::from_le_bytes(total))
}

/// Unix file-type bits of an entry: a plain file (or none given) is fine.
fn plain_file_mode(mode: Option<u32>) -> bool {
    const S_IFMT: u32 = 0o170_000;
    const S_IFREG: u32 = 0o100_000;
    mode.is_none_or(|m| m & S_IFMT == 0 || m & S_IFMT == S_IFREG)
}

fn walk_zip<R: Read + Seek>(
    mut reader: R,
    len: u64,
    limits: ArchiveLimits,
    mut visit: impl FnMut(u32, &str, Vec<u8>) -> ControlFlow<()>,
) -> Result<u32, ArchiveError> {
    let declared = zip_declared_entries(&mut reader, len)?;
    if declared > u64::from(limits.max_entries) * 2 {
        return Err(ArchiveError::TooManyEntries(limits.max_entries));
    }
    reader.seek(SeekFrom::Start(0)).map_err(unreadable)?;
    let mut zip = zip::ZipArchive::new(reader).map_err(unreadable)?;
    if u64::try_from(zip.len()).unwrap_or(u64::MAX) > u64::from(limits.max_entries) * 2 {
        return Err(ArchiveError::TooManyEntries(limits.max_entries));
    }
    let mut meter = Meter { limits, total: 0 };
    let mut rank = 0u32;
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).map_err(unreadable)?;
        let name = String::from_utf8_lossy(file.name_raw()).into_owned();
        check_name(&name)?;
        if file.is_symlink() || (!file.is_dir() && !plain_file_mode(file.unix_mode())) {
            return Err(ArchiveError::NotAFile(name));
        }
        if file.is_dir() {
            continue;
        }
        if file.encrypted() {
            return Err(unreadable(format!("{name}: encrypted")));
        }
        rank += 1;
        if rank > limits.max_entries {
            return Err(ArchiveError::TooManyEntries(limits.max_entries));
        }
        let compressed = file.compressed_size().min(len);
        let data = meter.read_entry(&name, &mut file, compressed)?;
        if meter.total > limits.max_ratio.saturating_mul(len.max(1)) {
            return Err(ArchiveError::Ratio(limits.max_ratio));
        }
        check_not_nested(&name, &data)?;
        if visit(rank, &name, data).is_break() {
            return Ok(rank);
        }
    }
    if rank == 0 {
        return Err(ArchiveError::Empty);
    }
    Ok(rank)
}

/// Counts the bytes read through it into a shared counter.
struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count
            .fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
        Ok(n)
    }
}

/// The decompressed tar stream, failing once it passes the total limit or `max_ratio` times the
/// compressed bytes consumed so far: headers, padding and skipped data are all counted.
struct Bounded<R> {
    inner: R,
    produced: u64,
    consumed: Arc<AtomicU64>,
    limits: ArchiveLimits,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.produced = self.produced.saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
        // The tar stream adds headers and padding to the content.
        let slack = 64 * 1024;
        if self.produced > self.limits.max_total_bytes.saturating_add(slack) {
            return Err(io_err(ArchiveError::TooLarge(self.limits.max_total_bytes)));
        }
        let consumed = self.consumed.load(Ordering::Relaxed).max(1);
        if self.produced > self.limits.max_ratio.saturating_mul(consumed) {
            return Err(io_err(ArchiveError::Ratio(self.limits.max_ratio)));
        }
        Ok(n)
    }
}

fn walk_tar_gz<R: Read + Seek>(
    reader: R,
    len: u64,
    limits: ArchiveLimits,
    mut visit: impl FnMut(u32, &str, Vec<u8>) -> ControlFlow<()>,
) -> Result<u32, ArchiveError> {
    let consumed = Arc::new(AtomicU64::new(0));
    let gz = flate2::read::GzDecoder::new(Counted {
        inner: reader,
        count: Arc::clone(&consumed),
    });
    let mut tar = tar::Archive::new(Bounded {
        inner: gz,
        produced: 0,
        consumed,
        limits,
    });
    let mut meter = Meter { limits, total: 0 };
    let mut rank = 0u32;
    let mut folders = 0u32;
    for entry in tar.entries().map_err(from_io)? {
        let mut entry = entry.map_err(from_io)?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        check_name(&name)?;
        match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => {}
            tar::EntryType::Directory => {
                folders += 1;
                if folders > limits.max_entries {
                    return Err(ArchiveError::TooManyEntries(limits.max_entries));
                }
                continue;
            }
            _ => return Err(ArchiveError::NotAFile(name)),
        }
        rank += 1;
        if rank > limits.max_entries {
            return Err(ArchiveError::TooManyEntries(limits.max_entries));
        }
        // The per-entry ratio is the archive's (a tar.gz compresses as one stream).
        let data = meter.read_entry(&name, &mut entry, len)?;
        check_not_nested(&name, &data)?;
        if visit(rank, &name, data).is_break() {
            return Ok(rank);
        }
    }
    if rank == 0 {
        return Err(ArchiveError::Empty);
    }
    Ok(rank)
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};

    use super::*;

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn tar_gz_of(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        build(&mut b);
        let tar = b.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&tar).unwrap();
        gz.finish().unwrap()
    }

    fn file(b: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) {
        let mut h = tar::Header::new_gnu();
        h.set_size(u64::try_from(data.len()).unwrap());
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, data).unwrap();
    }

    /// Writes a header with a raw name (the builder refuses `..` and absolute paths).
    fn raw(b: &mut tar::Builder<Vec<u8>>, name: &str, kind: tar::EntryType, data: &[u8]) {
        let mut h = tar::Header::new_old();
        {
            let bytes = &mut h.as_old_mut().name;
            bytes[..name.len()].copy_from_slice(name.as_bytes());
        }
        h.set_size(u64::try_from(data.len()).unwrap());
        h.set_mode(0o644);
        h.set_entry_type(kind);
        if kind == tar::EntryType::Symlink || kind == tar::EntryType::Link {
            h.set_link_name("/etc/passwd").unwrap();
        }
        h.set_cksum();
        b.append(&h, data).unwrap();
    }

    fn check(kind: ArchiveKind, bytes: &[u8], limits: ArchiveLimits) -> Result<Vec<(u32, String)>, ArchiveError> {
        let mut seen = Vec::new();
        walk(
            kind,
            Cursor::new(bytes),
            u64::try_from(bytes.len()).unwrap(),
            limits,
            |rank, name, _| {
                seen.push((rank, name.to_owned()));
                ControlFlow::Continue(())
            },
        )?;
        Ok(seen)
    }

    fn small() -> ArchiveLimits {
        ArchiveLimits {
            max_entries: 3,
            max_entry_bytes: 100_000,
            max_total_bytes: 250_000,
            max_ratio: 1000,
        }
    }

    #[test]
    fn archives_are_sniffed_by_their_magic() {
        assert_eq!(
            ArchiveKind::sniff(&zip_of(&[("a.xml", b"<a/>")])),
            Some(ArchiveKind::Zip)
        );
        assert_eq!(
            ArchiveKind::sniff(&tar_gz_of(|b| file(b, "a.xml", b"<a/>"))),
            Some(ArchiveKind::TarGz)
        );
        assert_eq!(ArchiveKind::sniff(b"<?xml version='1.0'?>"), None);
        assert_eq!(ArchiveKind::sniff(b"%PDF-1.7"), None);
        assert!(named_as_archive("lot.ZIP") && named_as_archive("lot.tar.gz") && named_as_archive("l.tgz"));
        assert!(!named_as_archive("f.xml"));
    }

    #[test]
    fn good_archives_give_their_files_in_order_and_skip_folders() {
        let z = zip_of(&[("b.xml", b"<b/>"), ("dir/a.xml", b"<a/>")]);
        assert_eq!(
            check(ArchiveKind::Zip, &z, small()).unwrap(),
            [(1, "b.xml".to_owned()), (2, "dir/a.xml".to_owned())]
        );
        let t = tar_gz_of(|b| {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Directory);
            h.set_size(0);
            h.set_mode(0o755);
            b.append_data(&mut h, "dir/", std::io::empty()).unwrap();
            file(b, "dir/a.xml", b"<a/>");
            file(b, "c.xml", b"<c/>");
        });
        assert_eq!(
            check(ArchiveKind::TarGz, &t, small()).unwrap(),
            [(1, "dir/a.xml".to_owned()), (2, "c.xml".to_owned())]
        );
    }

    #[test]
    fn unsafe_names_are_refused() {
        for name in [
            "../evil.xml",
            "a/../../evil.xml",
            "/etc/passwd",
            "..\\evil.xml",
            "C:evil.xml",
        ] {
            let z = zip_of(&[("ok.xml", b"<a/>"), (name, b"<a/>")]);
            assert_eq!(
                check(ArchiveKind::Zip, &z, small()),
                Err(ArchiveError::UnsafeName(name.to_owned())),
                "zip {name}"
            );
            let t = tar_gz_of(|b| raw(b, name, tar::EntryType::Regular, b"<a/>"));
            assert_eq!(
                check(ArchiveKind::TarGz, &t, small()),
                Err(ArchiveError::UnsafeName(name.to_owned())),
                "tar {name}"
            );
        }
    }

    #[test]
    fn links_and_devices_are_refused() {
        for kind in [
            tar::EntryType::Symlink,
            tar::EntryType::Link,
            tar::EntryType::Char,
            tar::EntryType::Block,
            tar::EntryType::Fifo,
        ] {
            let t = tar_gz_of(|b| raw(b, "x.xml", kind, b""));
            assert_eq!(
                check(ArchiveKind::TarGz, &t, small()),
                Err(ArchiveError::NotAFile("x.xml".to_owned())),
                "{kind:?}"
            );
        }
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        w.add_symlink("x.xml", "/etc/passwd", zip::write::SimpleFileOptions::default())
            .unwrap();
        let z = w.finish().unwrap().into_inner();
        assert_eq!(
            check(ArchiveKind::Zip, &z, small()),
            Err(ArchiveError::NotAFile("x.xml".to_owned()))
        );
        // A device by its unix mode (the writer keeps only permissions: the central directory's
        // external attributes are patched to a character device made on Unix).
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        w.start_file("dev.xml", zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(b"<a/>").unwrap();
        let mut z = w.finish().unwrap().into_inner();
        let at = z.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        z[at + 5] = 3;
        z[at + 40..at + 42].copy_from_slice(&0o020_644u16.to_le_bytes());
        assert!(!plain_file_mode(Some(0o020_644)) && plain_file_mode(Some(0o100_644)) && plain_file_mode(None));
        assert_eq!(
            check(ArchiveKind::Zip, &z, small()),
            Err(ArchiveError::NotAFile("dev.xml".to_owned()))
        );
    }

    #[test]
    fn too_many_entries_are_refused() {
        let names: Vec<String> = (0..4).map(|i| format!("f{i}.xml")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), b"<a/>".as_slice())).collect();
        assert_eq!(
            check(ArchiveKind::Zip, &zip_of(&entries), small()),
            Err(ArchiveError::TooManyEntries(3))
        );
        let t = tar_gz_of(|b| {
            for n in &names {
                file(b, n, b"<a/>");
            }
        });
        assert_eq!(
            check(ArchiveKind::TarGz, &t, small()),
            Err(ArchiveError::TooManyEntries(3))
        );
    }

    #[test]
    fn a_zip_declaring_a_million_entries_is_refused_before_its_directory_is_read() {
        // An end-of-central-directory record claiming 65,535 entries then ZIP64 with a million:
        // refused from the count alone (there is no directory to read at all).
        let mut eocd = b"PK\x05\x06".to_vec();
        eocd.extend_from_slice(&[0, 0, 0, 0]);
        eocd.extend_from_slice(&60_000u16.to_le_bytes());
        eocd.extend_from_slice(&60_000u16.to_le_bytes());
        eocd.extend_from_slice(&[0; 10]);
        assert_eq!(
            check(ArchiveKind::Zip, &eocd, ArchiveLimits::default()),
            Err(ArchiveError::TooManyEntries(MAX_ENTRIES))
        );
        let mut z64 = b"PK\x06\x06".to_vec();
        z64.extend_from_slice(&[0; 28]);
        z64.extend_from_slice(&1_000_000u64.to_le_bytes());
        let mut locator = b"PK\x06\x07".to_vec();
        locator.extend_from_slice(&[0; 4]);
        locator.extend_from_slice(&0u64.to_le_bytes());
        locator.extend_from_slice(&[1, 0, 0, 0]);
        let mut eocd = b"PK\x05\x06".to_vec();
        eocd.extend_from_slice(&[0, 0, 0, 0]);
        eocd.extend_from_slice(&u16::MAX.to_le_bytes());
        eocd.extend_from_slice(&u16::MAX.to_le_bytes());
        eocd.extend_from_slice(&[0xff; 8]);
        eocd.extend_from_slice(&[0; 2]);
        let bytes = [z64, locator, eocd].concat();
        assert_eq!(
            check(ArchiveKind::Zip, &bytes, ArchiveLimits::default()),
            Err(ArchiveError::TooManyEntries(MAX_ENTRIES))
        );
    }

    #[test]
    fn nested_archives_are_refused() {
        let inner = zip_of(&[("a.xml", b"<a/>")]);
        let z = zip_of(&[("inner.bin", &inner)]);
        assert_eq!(
            check(ArchiveKind::Zip, &z, small()),
            Err(ArchiveError::Nested("inner.bin".to_owned()))
        );
        let z = zip_of(&[("lot.zip", b"<a/>")]);
        assert_eq!(
            check(ArchiveKind::Zip, &z, small()),
            Err(ArchiveError::Nested("lot.zip".to_owned()))
        );
        let inner = tar_gz_of(|b| file(b, "a.xml", b"<a/>"));
        let t = tar_gz_of(|b| file(b, "x.xml", &inner));
        assert_eq!(
            check(ArchiveKind::TarGz, &t, small()),
            Err(ArchiveError::Nested("x.xml".to_owned()))
        );
    }

    #[test]
    fn large_entries_totals_and_bombs_are_refused_while_reading() {
        // One entry beyond the single-file limit (text that does not compress to nothing).
        let big: Vec<u8> = (0..150_000u32)
            .map(|i| b"<a>0123456789</a>"[(i % 17) as usize])
            .collect();
        assert_eq!(
            check(ArchiveKind::Zip, &zip_of(&[("big.xml", &big)]), small()),
            Err(ArchiveError::EntryTooLarge("big.xml".to_owned(), 100_000))
        );
        let t = tar_gz_of(|b| file(b, "big.xml", &big));
        assert_eq!(
            check(ArchiveKind::TarGz, &t, small()),
            Err(ArchiveError::EntryTooLarge("big.xml".to_owned(), 100_000))
        );
        // Three entries each under the entry limit, together beyond the total.
        let part = &big[..90_000];
        let z = zip_of(&[("a.xml", part), ("b.xml", part), ("c.xml", part)]);
        assert_eq!(
            check(ArchiveKind::Zip, &z, small()),
            Err(ArchiveError::TooLarge(250_000))
        );
        let t = tar_gz_of(|b| {
            for n in ["a.xml", "b.xml", "c.xml"] {
                file(b, n, part);
            }
        });
        assert_eq!(
            check(ArchiveKind::TarGz, &t, small()),
            Err(ArchiveError::TooLarge(250_000))
        );
        // Zeros: far more than 1,000:1, refused long before the limits on size.
        let zeros = vec![0u8; 50_000_000];
        let roomy = ArchiveLimits {
            max_entries: 3,
            max_entry_bytes: 100_000_000,
            max_total_bytes: 100_000_000,
            max_ratio: 1000,
        };
        let z = zip_of(&[("zeros.xml", &zeros)]);
        assert_eq!(check(ArchiveKind::Zip, &z, roomy), Err(ArchiveError::Ratio(1000)));
        let t = tar_gz_of(|b| file(b, "zeros.xml", &zeros));
        assert_eq!(check(ArchiveKind::TarGz, &t, roomy), Err(ArchiveError::Ratio(1000)));
    }

    #[test]
    fn a_zip_lying_about_sizes_is_still_bounded() {
        // The header says 10 bytes; the data inflates to 150 kB: the reader, not the header, is
        // what stops it (the zip crate may also refuse it on its own).
        let big: Vec<u8> = (0..150_000u32)
            .map(|i| b"<a>0123456789</a>"[(i % 17) as usize])
            .collect();
        let mut z = zip_of(&[("big.xml", &big)]);
        let size = u32::try_from(big.len()).unwrap().to_le_bytes();
        let lie = 10u32.to_le_bytes();
        let mut i = 0;
        while i + 4 <= z.len() {
            if z[i..i + 4] == size {
                z[i..i + 4].copy_from_slice(&lie);
            }
            i += 1;
        }
        assert!(check(ArchiveKind::Zip, &z, small()).is_err());
    }

    #[test]
    fn junk_and_empty_archives_are_unreadable() {
        assert!(matches!(
            check(ArchiveKind::Zip, b"PK\x03\x04junk", small()),
            Err(ArchiveError::Unreadable(_))
        ));
        assert!(matches!(
            check(ArchiveKind::TarGz, &[0x1f, 0x8b, 1, 2, 3], small()),
            Err(ArchiveError::Unreadable(_))
        ));
        assert_eq!(check(ArchiveKind::Zip, &zip_of(&[]), small()), Err(ArchiveError::Empty));
        assert_eq!(
            check(ArchiveKind::TarGz, &tar_gz_of(|_| {}), small()),
            Err(ArchiveError::Empty)
        );
    }
}
