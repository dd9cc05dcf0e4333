//! What a game declares: its tunable params ([`Param`]) and its own
//! methods ([`Method`], with their [`Arg`]s), checked when made.

use advkit_ipc::api::{MethodSpec, ParamSpec, ParamType};
use advkit_params::Spec;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde_json::Value as Json;

/// One tunable parameter of a game: what the inspector shows as a slider,
/// toggle or choice, and what `params.set` checks values against.
#[pyclass(module = "advkit._advkit", frozen)]
#[derive(Clone)]
pub struct Param {
    pub spec: Spec,
}

fn finish_spec(mut spec: Spec, description: &str, reboot: bool) -> Param {
    if !description.is_empty() {
        spec = spec.describe(description);
    }
    if reboot {
        spec = spec.on_reboot();
    }
    Param { spec }
}

fn check_name(name: &str) -> PyResult<()> {
    if name.is_empty() || name.chars().any(char::is_whitespace) {
        return Err(PyValueError::new_err(format!(
            "param name {name:?} must be a word (no spaces): clients set it by name"
        )));
    }
    Ok(())
}

#[pymethods]
impl Param {
    /// An integer from `min` to `max`.
    #[staticmethod]
    #[pyo3(signature = (name, min, max, default, *, unit="", description="", reboot=false))]
    fn int(
        name: &str,
        min: i64,
        max: i64,
        default: i64,
        unit: &str,
        description: &str,
        reboot: bool,
    ) -> PyResult<Param> {
        check_name(name)?;
        check_range(name, min as f64, max as f64, default as f64)?;
        Ok(finish_spec(
            Spec::int(name, min, max, unit, default),
            description,
            reboot,
        ))
    }

    /// A number from `min` to `max`, in steps of `step`.
    #[staticmethod]
    #[pyo3(signature = (name, min, max, default, *, step=0.1, unit="", description="", reboot=false))]
    #[allow(clippy::too_many_arguments)]
    fn float(
        name: &str,
        min: f64,
        max: f64,
        default: f64,
        step: f64,
        unit: &str,
        description: &str,
        reboot: bool,
    ) -> PyResult<Param> {
        check_name(name)?;
        check_range(name, min, max, default)?;
        if step.is_nan() || step <= 0.0 {
            return Err(PyValueError::new_err(format!(
                "{name}: step must be above 0, not {step}"
            )));
        }
        Ok(finish_spec(
            Spec::float(name, min, max, step, unit, default),
            description,
            reboot,
        ))
    }

    /// On or off.
    #[staticmethod]
    #[pyo3(signature = (name, default, *, description="", reboot=false))]
    fn bool(name: &str, default: bool, description: &str, reboot: bool) -> PyResult<Param> {
        check_name(name)?;
        Ok(finish_spec(
            Spec::boolean(name, default),
            description,
            reboot,
        ))
    }

    /// One of `choices`.
    #[staticmethod]
    #[pyo3(signature = (name, choices, default, *, description="", reboot=false))]
    fn choice(
        name: &str,
        choices: Vec<String>,
        default: &str,
        description: &str,
        reboot: bool,
    ) -> PyResult<Param> {
        check_name(name)?;
        if !choices.iter().any(|c| c == default) {
            return Err(PyValueError::new_err(format!(
                "{name}: default {default:?} is not one of {choices:?}"
            )));
        }
        let refs: Vec<&str> = choices.iter().map(String::as_str).collect();
        Ok(finish_spec(
            Spec::choice(name, &refs, default),
            description,
            reboot,
        ))
    }

    /// The param's name, as clients set it.
    #[getter]
    fn name(&self) -> String {
        self.spec.name.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "Param({} = {})",
            self.spec.name,
            serde_json::to_value(&self.spec.default).unwrap_or(Json::Null)
        )
    }
}

fn check_range(name: &str, min: f64, max: f64, default: f64) -> PyResult<()> {
    if !(min <= max && (min..=max).contains(&default)) {
        return Err(PyValueError::new_err(format!(
            "{name}: need min <= default <= max, got {min}, {default}, {max}"
        )));
    }
    Ok(())
}

/// One param of a game method, checked by the server before the game sees
/// the request. `type` is one of string, integer, number, boolean, object,
/// array, any.
#[pyclass(module = "advkit._advkit", frozen)]
#[derive(Clone)]
pub struct Arg {
    spec: ParamSpec,
}

#[pymethods]
impl Arg {
    #[new]
    #[pyo3(signature = (name, r#type, description="", *, required=false, min=None, max=None))]
    fn new(
        name: &str,
        r#type: &str,
        description: &str,
        required: bool,
        min: Option<f64>,
        max: Option<f64>,
    ) -> PyResult<Arg> {
        let kind: ParamType =
            serde_json::from_value(Json::String(r#type.to_owned())).map_err(|_| {
                PyValueError::new_err(format!(
                    "{name}: type {type:?} is not one of string, integer, number, boolean, \
                     object, array, any"
                ))
            })?;
        let mut spec = ParamSpec::new(name, kind, description);
        if required {
            spec = spec.required();
        }
        match (min, max) {
            (Some(lo), Some(hi)) if lo.is_nan() || hi.is_nan() || lo > hi => {
                return Err(PyValueError::new_err(format!(
                    "{name}: min ({lo}) must be at most max ({hi})"
                )));
            }
            (Some(lo), Some(hi)) => spec = spec.range(lo, hi),
            (None, None) => {}
            _ => {
                return Err(PyValueError::new_err(format!(
                    "{name}: give both min and max, or neither"
                )));
            }
        }
        Ok(Arg { spec })
    }
}

/// A method of the game's own: its name, what it does, its params.
#[pyclass(module = "advkit._advkit", frozen)]
#[derive(Clone)]
pub struct Method {
    pub spec: MethodSpec,
}

#[pymethods]
impl Method {
    #[new]
    #[pyo3(signature = (name, summary, params=Vec::new(), *, read_only=false, tier=None))]
    fn new(
        name: &str,
        summary: &str,
        params: Vec<Arg>,
        read_only: bool,
        tier: Option<&str>,
    ) -> PyResult<Method> {
        if let Some(twice) = repeated(params.iter().map(|a| a.spec.name.as_str())) {
            return Err(PyValueError::new_err(format!(
                "{name}: param {twice:?} is declared twice"
            )));
        }
        let mut spec = MethodSpec::new(name, summary);
        for a in params {
            spec = spec.param(a.spec);
        }
        if read_only {
            spec = spec.read_only();
        }
        if let Some(tier) = tier {
            let tier: advkit_ipc::api::Tier = tier
                .parse()
                .map_err(|e: String| PyValueError::new_err(format!("{name}: tier: {e}")))?;
            spec = spec.tier(tier);
        }
        Ok(Method { spec })
    }
}

/// The first name that comes twice, if one does.
pub(crate) fn repeated<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut seen = std::collections::BTreeSet::new();
    names.into_iter().find(|n| !seen.insert(*n))
}
