//! Helpers shared by the integration tests that read the shared corpus.

use std::path::PathBuf;

/// `FACTEUR_CORPUS` (the corpus folder) or `FACTEUR_SHARED` (its parent), else `../shared` next
/// to the repository root.
pub fn corpus_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("FACTEUR_CORPUS") {
        return PathBuf::from(dir);
    }
    if let Ok(dir) = std::env::var("FACTEUR_SHARED") {
        return PathBuf::from(dir).join("corpus");
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}
