//! `torvyn-sim`'s compiled-component cache: where it lives
//! ([`CacheChoice`], from `--cache-dir` and `--no-cache`), and the
//! `torvyn-sim cache stats` and `cache clear` commands.
//!
//! Cold path: resolved once per command. Every command that compiles on
//! Wasmtime (run, pipeline, inspect, check, demo, bench) passes the
//! directory to the backend as
//! [`crate::backend::EngineSettings::cache_dir`], so a component compiled
//! by one command is loaded, verified, by the next instead of compiled
//! again. The library entry points never set it.

use std::path::{Path, PathBuf};

use serde::Serialize;
use torvyn_engine::cache::{DiskUsage, clear_disk, disk_usage};

use super::error::CliError;
use super::{CacheAction, CacheArgs, Format, Report};

/// Where `torvyn-sim` keeps compiled components, as the global options
/// say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CacheChoice {
    /// `--cache-dir DIR`.
    pub dir: Option<PathBuf>,
    /// `--no-cache`.
    pub off: bool,
}

impl CacheChoice {
    /// No cache: every component compiled afresh, nothing written.
    pub fn off() -> Self {
        Self {
            dir: None,
            off: true,
        }
    }

    /// The cache directory in effect: `None` with `--no-cache`, else
    /// `--cache-dir`, else [`default_dir`].
    ///
    /// # Errors
    ///
    /// A usage error when no directory is given and neither
    /// `XDG_CACHE_HOME` nor `HOME` names one.
    pub fn resolve(&self) -> Result<Option<PathBuf>, CliError> {
        if self.off {
            return Ok(None);
        }
        match &self.dir {
            Some(dir) => Ok(Some(dir.clone())),
            None => default_dir(
                std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from),
                std::env::var_os("HOME").map(PathBuf::from),
            )
            .map(Some),
        }
    }
}

/// The user's cache directory for `torvyn-sim`: `$XDG_CACHE_HOME/torvyn`
/// when `xdg_cache_home` is an absolute path (the XDG rule: a relative
/// one is ignored), else `$HOME/.cache/torvyn`.
///
/// # Errors
///
/// A usage error naming the variables and options when neither gives a
/// directory.
pub fn default_dir(
    xdg_cache_home: Option<PathBuf>,
    home: Option<PathBuf>,
) -> Result<PathBuf, CliError> {
    if let Some(xdg) = xdg_cache_home.filter(|p| p.is_absolute()) {
        return Ok(xdg.join("torvyn"));
    }
    if let Some(home) = home.filter(|p| !p.as_os_str().is_empty()) {
        return Ok(home.join(".cache").join("torvyn"));
    }
    Err(CliError::usage(
        "no cache directory: neither XDG_CACHE_HOME (an absolute path) nor HOME is set; pass \
         --cache-dir DIR, or --no-cache to compile every component afresh",
    ))
}

/// What `torvyn-sim cache stats` reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CacheReport {
    /// The cache directory.
    pub directory: PathBuf,
    /// Whether it exists (it is created by the first command that
    /// compiles).
    pub exists: bool,
    /// Entry files in it.
    pub entries: u64,
    /// Their size on disk, in bytes.
    pub bytes: u64,
}

/// The entries in `dir`.
///
/// # Errors
///
/// An engine-class error naming `dir` when it cannot be read.
pub fn stats(dir: &Path) -> Result<CacheReport, CliError> {
    let DiskUsage { entries, bytes } = disk_usage(dir).map_err(|e| read_error(dir, &e))?;
    Ok(CacheReport {
        directory: dir.to_path_buf(),
        exists: dir.exists(),
        entries,
        bytes,
    })
}

fn read_error(dir: &Path, e: &std::io::Error) -> CliError {
    CliError::engine(format!(
        "cannot read the cache directory {}: {e}; check its permissions, or pass --cache-dir \
         DIR to use another",
        dir.display()
    ))
}

/// `1.5 MiB (1572864 bytes)`.
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {} ({bytes} bytes)", UNITS[unit])
}

/// Runs `torvyn-sim cache stats` or `cache clear`.
pub fn run(args: &CacheArgs, choice: &CacheChoice) -> Result<Report, CliError> {
    let Some(dir) = choice.resolve()? else {
        return Err(CliError::usage(
            "`torvyn-sim cache` acts on the cache directory, but --no-cache says there is none; \
             drop --no-cache (and pass --cache-dir DIR for another directory than the default)",
        ));
    };
    match &args.action {
        CacheAction::Stats { format } => {
            let r = stats(&dir)?;
            let stdout = match format {
                Format::Table => format!(
                    "directory  {}{}\nentries    {}\nsize       {}\n\nEach command's hits and \
                     misses: torvyn-sim -v COMMAND (the torvyn.cache lines name the tier).\n",
                    r.directory.display(),
                    if r.exists { "" } else { " (not created yet)" },
                    r.entries,
                    human_bytes(r.bytes),
                ),
                Format::Yaml => crate::transcript::to_yaml(&r)?,
                Format::Json => format!("{}\n", crate::transcript::to_json(&r)?),
            };
            Ok(Report::ok(stdout))
        }
        CacheAction::Clear => {
            let removed = clear_disk(&dir).map_err(|e| {
                CliError::engine(format!(
                    "cannot clear the cache directory {}: {e}; check its permissions, or \
                     remove the *.twcc files in it yourself",
                    dir.display()
                ))
            })?;
            Ok(Report::ok(format!(
                "removed {} entries ({}) from {}\n",
                removed.entries,
                human_bytes(removed.bytes),
                dir.display()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_directory_follows_xdg_then_home() {
        let p = PathBuf::from;
        assert_eq!(
            default_dir(Some(p("/x/cache")), Some(p("/home/u"))).unwrap(),
            p("/x/cache/torvyn")
        );
        // A relative XDG_CACHE_HOME is ignored, as the XDG spec says.
        assert_eq!(
            default_dir(Some(p("rel")), Some(p("/home/u"))).unwrap(),
            p("/home/u/.cache/torvyn")
        );
        assert_eq!(
            default_dir(None, Some(p("/home/u"))).unwrap(),
            p("/home/u/.cache/torvyn")
        );
        let e = default_dir(None, Some(p(""))).unwrap_err();
        assert!(e.to_string().contains("--cache-dir"), "{e}");
        assert_eq!(e.code(), super::super::EXIT_USAGE);
    }

    #[test]
    fn no_cache_resolves_to_none_and_a_dir_to_itself() {
        assert_eq!(CacheChoice::off().resolve().unwrap(), None);
        let c = CacheChoice {
            dir: Some("/tmp/c".into()),
            off: false,
        };
        assert_eq!(c.resolve().unwrap(), Some(PathBuf::from("/tmp/c")));
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(0), "0 bytes");
        assert_eq!(human_bytes(1536), "1.5 KiB (1536 bytes)");
        assert_eq!(human_bytes(3 << 20), "3.0 MiB (3145728 bytes)");
    }
}
