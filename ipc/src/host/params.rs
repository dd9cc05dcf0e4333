//! `params.set`, `params.reset`, `params.save` and `params.load`, answered
//! by the host against the registry it owns, and the params file.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use advkit_params::{Applied, Params, Value};
use serde_json::Value as Json;

use super::Host;
use crate::api::event::ParamsHow;
use crate::api::{
    ConflictData, Event, ParamsChange, ParamsResetParams, ParamsSaved, ParamsSetParams, RpcError,
    codes,
};
use crate::system;

impl Host {
    pub(super) fn params_set(
        &mut self,
        p: ParamsSetParams,
        client: u64,
    ) -> Result<ParamsChange, RpcError> {
        if let Some(want) = p.if_revision
            && want != self.params.revision()
        {
            let now = self.params.revision();
            return Err(RpcError::new(
                codes::CONFLICT,
                format!(
                    "params changed since revision {want} (now {now}); re-read them and try again"
                ),
            )
            .with_data(ConflictData { revision: now }));
        }
        let typed = p.typed(&self.params).map_err(RpcError::invalid_params)?;
        let applied = self
            .params
            .set_many(&typed)
            .map_err(|e| RpcError::invalid_params(e.to_string()))?;
        Ok(self.after_change(&typed, &applied, client, ParamsHow::Changed))
    }

    pub(super) fn params_reset(
        &mut self,
        p: ParamsResetParams,
        client: u64,
    ) -> Result<ParamsChange, RpcError> {
        let reset = self
            .params
            .reset(p.name.as_deref())
            .map_err(|e| RpcError::invalid_params(e.to_string()))?;
        let typed: Vec<(String, Value)> = reset
            .iter()
            .filter_map(|(n, _)| {
                let v = self.params.pending(n).or(self.params.get(n))?;
                Some((n.clone(), v.clone()))
            })
            .collect();
        let applied: Vec<Applied> = reset.iter().map(|(_, a)| *a).collect();
        Ok(self.after_change(&typed, &applied, client, ParamsHow::Reset))
    }

    pub(super) fn params_save(&self) -> Result<ParamsSaved, RpcError> {
        let path = self.params_file.as_deref().ok_or_else(no_params_file)?;
        let values: BTreeMap<&str, &Value> = self
            .params
            .iter()
            .map(|(spec, value, pending)| (spec.name.as_str(), pending.unwrap_or(value)))
            .collect();
        let text = serde_json::to_string_pretty(&values).unwrap_or_default() + "\n";
        write_atomically(path, text.as_bytes())
            .map_err(|e| RpcError::failed(format!("could not write {}: {e}", path.display())))?;
        self.log(&format!("params saved to {}", path.display()));
        Ok(ParamsSaved {
            path: path.to_owned(),
            saved: values.len(),
        })
    }

    pub(super) fn params_load(&mut self, client: u64) -> Result<ParamsChange, RpcError> {
        let path = self.params_file.clone().ok_or_else(no_params_file)?;
        let typed = read_params_file(&path, &self.params).map_err(RpcError::failed)?;
        let applied = self
            .params
            .set_many(&typed)
            .map_err(|e| RpcError::failed(format!("{}: {e}", path.display())))?;
        Ok(self.after_change(&typed, &applied, client, ParamsHow::Loaded))
    }

    /// Publishes the new registry to the server and tells subscribers.
    fn after_change(
        &mut self,
        typed: &[(String, Value)],
        applied: &[Applied],
        client: u64,
        how: ParamsHow,
    ) -> ParamsChange {
        let mut change = ParamsChange {
            revision: self.params.revision(),
            results: BTreeMap::new(),
            values: BTreeMap::new(),
            by: Some(client),
        };
        for ((name, value), how) in typed.iter().zip(applied) {
            change.results.insert(name.clone(), *how);
            change.values.insert(name.clone(), value.clone());
        }
        self.sync_params();
        self.emit(&Event::Params {
            how,
            change: change.clone(),
        });
        change.by = None;
        change
    }
}

fn no_params_file() -> RpcError {
    RpcError::failed(
        "this engine has no params file; start it with --params FILE to save and load params",
    )
}

/// Reads a params file (`{"name": value, ...}`) into typed values, checking
/// every one; nothing is applied here.
pub fn read_params_file(path: &Path, params: &Params) -> Result<Vec<(String, Value)>, String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("could not read {}: {e}", path.display()))?;
    let json: Json = serde_json::from_str(&text)
        .map_err(|e| format!("{}: invalid JSON: {e}", path.display()))?;
    let Json::Object(map) = json else {
        return Err(format!(
            "{}: expected an object of name: value",
            path.display()
        ));
    };
    map.iter()
        .map(|(k, v)| {
            params
                .from_json(k, v)
                .map(|t| (k.clone(), t))
                .map_err(|e| format!("{}: {e}", path.display()))
        })
        .collect()
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("params");
    let tmp = dir.join(format!(".{name}.{}.tmp", system::current_pid()));
    let _ = fs::remove_file(&tmp); // left by a crash, perhaps with other permissions
    let result = (|| {
        // Owner-only, like the socket, token and frame files: tuned values
        // are nobody else's business.
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        io::Write::write_all(&mut f, bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
