//! Where a run's component comes from: a fixture, a WAT or binary file,
//! or a scripted mock.

use std::path::{Path, PathBuf};

use torvyn_engine::mock::MockSpec;

use crate::error::HarnessError;
use crate::spec::BackendKind;

/// Where a scenario's component comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ComponentSource {
    /// `fixtures/components/NAME.wat`.
    Fixture(String),
    /// A WAT file (component, or core module to componentize).
    Wat(PathBuf),
    /// A binary component.
    Wasm(PathBuf),
    /// A scripted mock component (mock backend only).
    Scripted(Box<MockSpec>),
}

impl ComponentSource {
    /// The component's binary bytes (a fixture or core-module WAT is
    /// componentized) and its origin for messages (the file it came from);
    /// errors name `label`.
    pub fn load(&self, label: &str) -> Result<(Vec<u8>, String), HarnessError> {
        let fixture_err = |source| HarnessError::Fixture {
            component: label.to_string(),
            source,
        };
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| HarnessError::Io {
                action: "read the component",
                path: path.to_path_buf(),
                source,
            })
        };
        Ok(match self {
            Self::Fixture(name) => (
                crate::fixtures::load_fixture(name).map_err(fixture_err)?,
                crate::fixtures::fixture_path(name).display().to_string(),
            ),
            Self::Wat(path) => {
                let origin = path.display().to_string();
                let text = String::from_utf8(read(path)?).map_err(|e| {
                    fixture_err(crate::fixtures::FixtureError::Wat {
                        origin: origin.clone(),
                        message: format!("the file is not UTF-8: {e}"),
                    })
                })?;
                (
                    crate::fixtures::component_from_wat(&text, &origin).map_err(fixture_err)?,
                    origin,
                )
            }
            Self::Wasm(path) => (read(path)?, path.display().to_string()),
            Self::Scripted(_) => {
                return Err(HarnessError::Unsupported {
                    component: label.to_string(),
                    problem: "a scripted mock component has no WebAssembly bytes; run it on \
                              the mock backend"
                        .into(),
                });
            }
        })
    }

    /// Like [`ComponentSource::load`], with DWARF line tables of the text
    /// in a fixture's or `.wat` file's core modules (see
    /// [`crate::fixtures::component_from_wat_with_lines`]); a `.wasm`
    /// component as it is.
    #[cfg(feature = "coverage")]
    pub fn load_with_lines(&self, label: &str) -> Result<(Vec<u8>, String), HarnessError> {
        let path = match self {
            Self::Fixture(name) => crate::fixtures::fixture_path(name),
            Self::Wat(path) => path.clone(),
            Self::Wasm(_) | Self::Scripted(_) => return self.load(label),
        };
        if !path.is_file() {
            // The plain loader's error says what is missing and what exists.
            return self.load(label);
        }
        let origin = path.display().to_string();
        let fixture_err = |source| HarnessError::Fixture {
            component: label.to_string(),
            source,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            fixture_err(crate::fixtures::FixtureError::Wat {
                origin: origin.clone(),
                message: format!("cannot read the file as UTF-8 text: {e}"),
            })
        })?;
        let bytes =
            crate::fixtures::component_from_wat_with_lines(&text, &origin).map_err(fixture_err)?;
        Ok((bytes, origin))
    }

    /// The source of a scenario's or stage's component: its `mock:` spec
    /// when it has one, else the reference [parsed](ComponentSource::parse).
    pub fn of(reference: &str, mock: Option<&MockSpec>, base_dir: Option<&Path>) -> Self {
        match mock {
            Some(spec) => Self::Scripted(Box::new(spec.clone())),
            None => Self::parse(reference, base_dir),
        }
    }

    /// Reads a component reference: a name ending in `.wat` or `.wasm` is a
    /// path (relative ones resolved against `base_dir`), anything else a
    /// fixture name.
    pub fn parse(reference: &str, base_dir: Option<&Path>) -> Self {
        let resolve = |p: &str| {
            let path = PathBuf::from(p);
            match base_dir {
                Some(dir) if path.is_relative() => dir.join(path),
                _ => path,
            }
        };
        if reference.ends_with(".wat") {
            Self::Wat(resolve(reference))
        } else if reference.ends_with(".wasm") {
            Self::Wasm(resolve(reference))
        } else {
            Self::Fixture(reference.to_string())
        }
    }
}

/// A scripted component's spec written in YAML (the body of a `mock:`
/// section), read as scenario and pipeline files read it (enums as one-key
/// maps) and checked ([`MockSpec::validate`]); `origin` names it in errors.
pub fn mock_spec_from_yaml(text: &str, origin: &str) -> Result<MockSpec, HarnessError> {
    let spec: MockSpec = serde_yaml_ng::with::singleton_map_recursive::deserialize(
        serde_yaml_ng::Deserializer::from_str(text),
    )
    .map_err(|e| HarnessError::yaml(origin, &e))?;
    spec.validate()
        .map_err(|problem| HarnessError::InvalidScenario {
            scenario: origin.to_string(),
            problem: format!("`mock:` {problem}"),
        })?;
    Ok(spec)
}

/// [`MockSpec::validate`], and that the file's `backend` lets it run: a
/// scripted component runs only on the mock.
pub fn check_scripted(spec: &MockSpec, backend: Option<BackendKind>) -> Result<(), String> {
    spec.validate()?;
    if backend == Some(BackendKind::Wasmtime) {
        return Err(
            "is a scripted component, which runs only on the mock backend; set \
             `backend: mock` (or leave `backend` out)"
                .into(),
        );
    }
    Ok(())
}
