//! `torvyn-sim`'s compiled-component cache: where it lives and how large
//! it may grow ([`CacheChoice`], from `--cache-dir`, `--no-cache` and
//! `--cache-max-size`), and the `torvyn-sim cache stats` and `cache clear`
//! commands.
//!
//! Cold path: resolved once per command. Every command that compiles on
//! Wasmtime (run, pipeline, inspect, check, demo, bench, replay) passes the
//! directory to the backend as [`crate::backend::EngineSettings::cache_dir`],
//! so a component compiled by one command is loaded, verified, by the next
//! instead of compiled again, and (with Cranelift) a rebuilt component finds
//! its unchanged functions in the incremental compilation cache beside it.
//! The library entry points never set it.

use std::path::{Path, PathBuf};

use serde::Serialize;
use torvyn_engine::cache::{
    DEFAULT_MAX_DISK_BYTES, DirCounters, DiskUsage, IncrementalUsage, clear_disk,
    clear_incremental, disk_usage, incremental_usage, read_counters, reset_counters,
};

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
    /// `--cache-max-size`: the directory's bound in bytes (`None` for the
    /// default, [`DEFAULT_MAX_DISK_BYTES`]).
    pub max_bytes: Option<u64>,
}

impl CacheChoice {
    /// No cache: every component compiled afresh, nothing written.
    pub fn off() -> Self {
        Self {
            dir: None,
            off: true,
            max_bytes: None,
        }
    }

    /// The bound in effect: `--cache-max-size`, else the default.
    pub fn limit(&self) -> u64 {
        self.max_bytes.unwrap_or(DEFAULT_MAX_DISK_BYTES)
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
    /// The bound in bytes (`--cache-max-size`, else the default): compiled
    /// components and incremental packs together.
    pub limit: u64,
    /// Compiled components and incremental packs on disk, in bytes.
    pub total_bytes: u64,
    /// Compiled-component entry files.
    pub entries: u64,
    /// Their size on disk, in bytes.
    pub bytes: u64,
    /// The incremental compilation cache (`incremental/`).
    pub incremental: IncrementalReport,
    /// What the commands that used the directory did with it, since it was
    /// created or last cleared.
    pub counters: DirCounters,
}

/// The incremental compilation cache's part of [`CacheReport`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct IncrementalReport {
    /// Pack files.
    pub packs: u64,
    /// Compiled functions in them.
    pub functions: u64,
    /// Their size on disk, in bytes.
    pub bytes: u64,
}

/// The state of `dir`, with `limit` as its bound.
///
/// # Errors
///
/// An engine-class error naming `dir` when it cannot be read.
pub fn stats(dir: &Path, limit: u64) -> Result<CacheReport, CliError> {
    let DiskUsage { entries, bytes } = disk_usage(dir).map_err(|e| read_error(dir, &e))?;
    let IncrementalUsage {
        packs,
        entries: functions,
        bytes: pack_bytes,
    } = incremental_usage(dir).map_err(|e| read_error(dir, &e))?;
    let counters = read_counters(dir).map_err(|e| read_error(dir, &e))?;
    Ok(CacheReport {
        directory: dir.to_path_buf(),
        exists: dir.exists(),
        limit,
        total_bytes: bytes + pack_bytes,
        entries,
        bytes,
        incremental: IncrementalReport {
            packs,
            functions,
            bytes: pack_bytes,
        },
        counters,
    })
}

/// The table form of a [`CacheReport`].
fn render_table(r: &CacheReport) -> String {
    let c = &r.counters;
    let lookups = c.incremental_hits + c.incremental_misses;
    let ratio = if lookups == 0 {
        String::new()
    } else {
        format!(
            " ({:.1}% of functions)",
            c.incremental_hits as f64 * 100.0 / lookups as f64
        )
    };
    format!(
        "directory    {}{}\n\
         size         {} of {} (limit)\n\
         compiled     {} entries, {}\n\
         incremental  {} packs, {} functions, {}\n\
         \n\
         Since the directory was created or cleared:\n\
         compiled     {} disk hits, {} compiles, {} evicted, {} rejected\n\
         incremental  {} hits{ratio}, {} misses, {} read, {} written, {} packs evicted, {} \
         rejected\n\
         \n\
         Each command's hits and misses: torvyn-sim -v COMMAND (the torvyn.cache lines name \
         the tier, and the incremental cache's hits).\n",
        r.directory.display(),
        if r.exists { "" } else { " (not created yet)" },
        human_bytes(r.total_bytes),
        human_bytes(r.limit),
        r.entries,
        human_bytes(r.bytes),
        r.incremental.packs,
        r.incremental.functions,
        human_bytes(r.incremental.bytes),
        c.disk_hits,
        c.compiles,
        c.evicted_entries,
        c.rejected_entries,
        c.incremental_hits,
        c.incremental_misses,
        human_bytes(c.incremental_bytes_read),
        human_bytes(c.incremental_bytes_written),
        c.evicted_packs,
        c.rejected_incremental,
    )
}

/// Parses `--cache-max-size`: bytes, or a number (decimals allowed) with
/// a unit: KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers
/// of 1024), case-insensitive, `B` optional.
///
/// # Errors
///
/// What was wrong and the accepted forms, for clap to print.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let forms = "give bytes (e.g. 536870912) or a number with a unit: KB, MB, GB, TB (powers \
                 of 1000) or KiB, MiB, GiB, TiB (powers of 1024), e.g. 512MiB or 2GB";
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = (&t[..split], t[split..].trim());
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size: {forms}"))?;
    let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "m" | "mb" => 1000_u64.pow(2),
        "g" | "gb" => 1000_u64.pow(3),
        "t" | "tb" => 1000_u64.pow(4),
        "ki" | "kib" => 1 << 10,
        "mi" | "mib" => 1 << 20,
        "gi" | "gib" => 1 << 30,
        "ti" | "tib" => 1 << 40,
        _ => return Err(format!("`{unit}` in `{text}` is not a unit: {forms}")),
    };
    let bytes = value * multiplier as f64;
    if !(bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!(
            "`{text}` is {}: the cache needs room for at least one entry (use --no-cache for \
             none)",
            if bytes < 1.0 {
                "less than one byte"
            } else {
                "too large"
            }
        ));
    }
    Ok(bytes as u64)
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
            let r = stats(&dir, choice.limit())?;
            let stdout = match format {
                Format::Table => render_table(&r),
                Format::Yaml => crate::transcript::to_yaml(&r)?,
                Format::Json => format!("{}\n", crate::transcript::to_json(&r)?),
            };
            Ok(Report::ok(stdout))
        }
        CacheAction::Clear => {
            let clear_error = |e: std::io::Error| {
                CliError::engine(format!(
                    "cannot clear the cache directory {}: {e}; check its permissions, or \
                     remove the *.twcc files and the incremental/ directory in it yourself",
                    dir.display()
                ))
            };
            let removed = clear_disk(&dir).map_err(clear_error)?;
            let packs = clear_incremental(&dir).map_err(clear_error)?;
            reset_counters(&dir).map_err(clear_error)?;
            Ok(Report::ok(format!(
                "removed {} entries ({}) and {} incremental packs ({}) from {}; counters reset\n",
                removed.entries,
                human_bytes(removed.bytes),
                packs.entries,
                human_bytes(packs.bytes),
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
            max_bytes: None,
        };
        assert_eq!(c.limit(), DEFAULT_MAX_DISK_BYTES);
        assert_eq!(c.resolve().unwrap(), Some(PathBuf::from("/tmp/c")));
    }

    #[test]
    fn sizes_parse_with_decimal_and_binary_units() {
        assert_eq!(parse_size("536870912"), Ok(536_870_912));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("512 mib"), Ok(512 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_size("100k"), Ok(100_000));
        for bad in ["", "MiB", "12 parsecs", "0", "0.1B", "-1GiB", "1e30TiB"] {
            let e = parse_size(bad).unwrap_err();
            assert!(
                e.contains("512MiB") || e.contains("--no-cache"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(0), "0 bytes");
        assert_eq!(human_bytes(1536), "1.5 KiB (1536 bytes)");
        assert_eq!(human_bytes(3 << 20), "3.0 MiB (3145728 bytes)");
    }
}
