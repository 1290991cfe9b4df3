//! One directory walker for everything that reads a folder of files: snapshots, policy
//! folders, policy test suites. Sorted output (deterministic reports), symlinks not followed
//! (a dump must not lead the reader out of itself).

use std::path::{Path, PathBuf};

/// Every regular file below `dir`, sorted, descending into the directories `enter` accepts
/// (it gets the directory's name).
pub fn files(dir: &Path, enter: &dyn Fn(&str) -> bool) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)?.flatten() {
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_symlink() {
                continue;
            }
            let path = entry.path();
            if ft.is_dir() {
                if enter(&entry.file_name().to_string_lossy()) {
                    stack.push(path);
                }
            } else if ft.is_file() {
                // FIFOs, sockets and devices are never read: one could block forever.
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_filtered() {
        let d = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(d.path().join("b/.hidden")).expect("mkdir");
        std::fs::write(d.path().join("b/2.yaml"), "").expect("w");
        std::fs::write(d.path().join("b/.hidden/x.yaml"), "").expect("w");
        std::fs::write(d.path().join("1.yaml"), "").expect("w");
        let all = files(d.path(), &|_| true).expect("walk");
        assert_eq!(all.len(), 3);
        assert!(all.windows(2).all(|w| w[0] <= w[1]));
        let visible = files(d.path(), &|n| !n.starts_with('.')).expect("walk");
        assert_eq!(visible.len(), 2);
    }
}
