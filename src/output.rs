//! Writing an output directory atomically, for `compile` and
//! `boot-artifacts`: the files go to a fresh sibling directory that is
//! renamed into place only when complete, so an error leaves no partial
//! directory; an existing directory is replaced only when it is a previous
//! output of the same command (it holds the command's marker file) or empty.

use std::fs;
use std::path::{Path, PathBuf};

/// Why an output directory could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The directory exists and holds something else.
    #[error("Output {path} exists and is not a vtopo output directory (no {marker}); refusing to replace it")]
    NotOurs {
        /// The directory.
        path: String,
        /// The file a previous output would hold.
        marker: &'static str,
    },
    /// A file system operation failed.
    #[error("Cannot write {path}")]
    Write {
        /// What was being written.
        path: String,
        #[source]
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Writes `files` (name, contents) to `dir` atomically; `marker` is the file
/// every output of this command holds.
///
/// # Errors
/// `dir` holds something else, or the file system refused.
pub fn write_dir_atomically(
    dir: &Path,
    marker: &'static str,
    files: &[(String, Vec<u8>)],
) -> Result<(), OutputError> {
    let err = |path: &Path| {
        let path = path.display().to_string();
        move |source| OutputError::Write { path, source }
    };
    let replacing = dir.exists();
    if replacing && !dir.join(marker).is_file() {
        let empty = fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty {
            return Err(OutputError::NotOurs {
                path: dir.display().to_string(),
                marker,
            });
        }
    }
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = dir
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let staging = parent.join(format!(".{name}.vtopo-tmp-{}", std::process::id()));
    let result = (|| {
        fs::create_dir_all(parent).map_err(err(parent))?;
        fs::create_dir(&staging).map_err(err(&staging))?;
        for (file, bytes) in files {
            let path = staging.join(file);
            fs::write(&path, bytes).map_err(err(&path))?;
        }
        if replacing {
            let old: PathBuf = parent.join(format!(".{name}.vtopo-old-{}", std::process::id()));
            fs::rename(dir, &old).map_err(err(dir))?;
            if let Err(e) = fs::rename(&staging, dir) {
                let _ = fs::rename(&old, dir);
                return Err(err(dir)(e));
            }
            fs::remove_dir_all(&old).map_err(err(&old))?;
        } else {
            fs::rename(&staging, dir).map_err(err(dir))?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result
}
