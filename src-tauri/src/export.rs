//! Saving an export (the manager console's CSV files) under a safe, free file name.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `contents` to `dir/<name>`, keeping only the name's last component and safe
/// characters; when the name is taken, `name (1).csv`, `name (2).csv`, ... Never
/// overwrites a file.
pub fn save(dir: &Path, name: &str, contents: &[u8]) -> std::io::Result<PathBuf> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String =
        base.chars().map(|c| if c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ') { c } else { '_' }).collect();
    let clean = clean.trim_matches(['.', ' ']);
    let clean = if clean.is_empty() { "export.csv" } else { clean };
    let (stem, ext) = match clean.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_owned(), format!(".{e}")),
        _ => (clean.to_owned(), String::new()),
    };
    std::fs::create_dir_all(dir)?;
    for n in 0..1000 {
        let file = if n == 0 { format!("{stem}{ext}") } else { format!("{stem} ({n}){ext}") };
        let path = dir.join(file);
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut f) => {
                f.write_all(contents)?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("too many files with that name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_under_a_free_safe_name() {
        let dir = tempfile::tempdir().unwrap();
        let a = save(dir.path(), "breaches.csv", b"a,b\n").unwrap();
        assert_eq!(a, dir.path().join("breaches.csv"));
        let b = save(dir.path(), "breaches.csv", b"c\n").unwrap();
        assert_eq!(b, dir.path().join("breaches (1).csv"));
        assert_eq!(std::fs::read(&a).unwrap(), b"a,b\n", "never overwritten");
        let c = save(dir.path(), "../../etc/passwd", b"x").unwrap();
        assert_eq!(c, dir.path().join("passwd"), "no way out of the folder");
        let d = save(dir.path(), "..", b"x").unwrap();
        assert_eq!(d, dir.path().join("export.csv"));
        let e = save(dir.path(), "q3 report: <agents>.csv", b"x").unwrap();
        assert_eq!(e.file_name().unwrap(), "q3 report_ _agents_.csv");
    }
}
