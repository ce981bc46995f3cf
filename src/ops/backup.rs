//! `provider-registry backup DEST` and `restore SRC` for a SQLite deployment.
//!
//! Documents live in the database, so a backup is the database file — taken online with
//! `VACUUM INTO` (a consistent snapshot while the service keeps running) — plus the data
//! directory's top-level files (a generated signing secret), and a `backup.json` naming the
//! database file's SHA-256. A restore goes into an empty data directory only and checks that
//! hash first. PostgreSQL deployments use `pg_dump -Fc` / `pg_restore` (README, Operations).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use diesel::connection::SimpleConnection;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::{self, DatabaseUrl};

const MANIFEST: &str = "backup.json";
const DATABASE_FILE: &str = "registry.db";

/// What a backup directory holds.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The database file, relative to the backup directory.
    pub database: String,
    pub database_sha256: String,
    /// Other files of the data directory (secrets), relative to the backup directory.
    pub files: Vec<String>,
}

/// Writes a backup of the SQLite database at `url` and of `data_dir`'s top-level files into
/// `dest`, which must not exist or be empty.
pub fn backup(url: &DatabaseUrl, data_dir: &Path, dest: &Path) -> anyhow::Result<Manifest> {
    let DatabaseUrl::Sqlite(db_path) = url else {
        bail!("backup covers SQLite; for PostgreSQL use pg_dump -Fc (see the README, Operations)");
    };
    if !db_path.is_file() {
        bail!("no database at {}", db_path.display());
    }
    ensure_empty(dest)?;
    std::fs::create_dir_all(dest).with_context(|| format!("cannot create {}", dest.display()))?;
    let target = dest.join(DATABASE_FILE);
    let pool = db::build_pool(url, 1)?;
    let mut conn = pool.get().context("cannot open the database")?;
    // An online, consistent copy: readers and the writer go on while it is taken.
    conn.batch_execute(&format!("VACUUM INTO {}", sql_string(&target)?))
        .context("VACUUM INTO failed")?;
    let mut files = Vec::new();
    for (name, path) in data_files(data_dir, db_path)? {
        std::fs::copy(&path, dest.join(&name))
            .with_context(|| format!("cannot copy {}", path.display()))?;
        files.push(name);
    }
    let manifest = Manifest {
        format: 1,
        created_at: chrono::Utc::now(),
        database: DATABASE_FILE.to_owned(),
        database_sha256: sha256_of(&target)?,
        files,
    };
    std::fs::write(dest.join(MANIFEST), serde_json::to_vec_pretty(&manifest)?)?;
    Ok(manifest)
}

/// Restores the backup in `src` into the empty data directory `data_dir` (its database at
/// `url`): refuses a non-empty target and a database file that does not match its hash.
pub fn restore(url: &DatabaseUrl, data_dir: &Path, src: &Path) -> anyhow::Result<Manifest> {
    let DatabaseUrl::Sqlite(db_path) = url else {
        bail!("restore covers SQLite; for PostgreSQL use pg_restore (see the README, Operations)");
    };
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(src.join(MANIFEST))
            .with_context(|| format!("{} is not a backup: no {MANIFEST}", src.display()))?,
    )?;
    let source = src.join(&manifest.database);
    let actual = sha256_of(&source)?;
    if actual != manifest.database_sha256 {
        bail!(
            "{} does not match its backup.json (SHA-256 {actual}, expected {})",
            source.display(),
            manifest.database_sha256
        );
    }
    ensure_empty(data_dir)?;
    if db_path.exists() {
        bail!(
            "{} exists already; restore only into an empty place",
            db_path.display()
        );
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    if let Some(dir) = db_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::copy(&source, db_path)
        .with_context(|| format!("cannot write {}", db_path.display()))?;
    for name in &manifest.files {
        if name.contains(['/', '\\']) || name == ".." {
            bail!("backup.json names a file outside the backup: {name}");
        }
        std::fs::copy(src.join(name), data_dir.join(name))
            .with_context(|| format!("cannot restore {name}"))?;
    }
    Ok(manifest)
}

/// Refuses a directory that exists and holds anything.
fn ensure_empty(dir: &Path) -> anyhow::Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                bail!("{} is not empty", dir.display());
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", dir.display())),
    }
}

/// The data directory's top-level regular files other than the database and its journals:
/// generated secrets. (Spooled uploads, mail files and subdirectories are not state.)
fn data_files(data_dir: &Path, db_path: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let db_name = db_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return Ok(out);
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_db = db_name.as_deref().is_some_and(|db| name.starts_with(db));
        if entry.file_type()?.is_file() && !is_db && name != MANIFEST {
            out.push((name, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// A path as an SQL string literal.
fn sql_string(path: &Path) -> anyhow::Result<String> {
    let text = path
        .to_str()
        .with_context(|| format!("{} is not UTF-8", path.display()))?;
    Ok(format!("'{}'", text.replace('\'', "''")))
}

fn sha256_of(path: &Path) -> anyhow::Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_as_sql_strings() {
        assert_eq!(
            sql_string(Path::new("/b/it's.db")).unwrap(),
            "'/b/it''s.db'"
        );
    }
}
