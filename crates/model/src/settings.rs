//! Community settings kept in the community document beside the charter: today the
//! thresholds that sort members into participation levels.
//!
//! The community document is written by coordinators only ([`crate::verify`] refuses anyone
//! else's change), so only coordinators adjust the thresholds, and every member computes the
//! same levels from them.

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjType, ROOT};
use serde::{Deserialize, Serialize};

use crate::SchemaError;
use crate::read::View;

/// Contributions within the last `window_days` that place a member at each level: at least
/// `core` → core, at least `active` → active, at least `peripheral` → peripheral, fewer →
/// inactive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LevelThresholds {
    /// How far back activity counts, in days.
    pub window_days: u32,
    /// Contributions needed for the core.
    pub core: u32,
    /// Contributions needed to be active.
    pub active: u32,
    /// Contributions needed to be peripheral (rather than inactive).
    pub peripheral: u32,
}

impl Default for LevelThresholds {
    fn default() -> Self {
        LevelThresholds {
            window_days: 90,
            core: 20,
            active: 5,
            peripheral: 1,
        }
    }
}

impl LevelThresholds {
    /// Checks that the thresholds make sense: a window of 1 to 3,660 days and
    /// `core > active > peripheral >= 1`... or equal, which merges two levels.
    pub fn check(&self) -> Result<(), SchemaError> {
        let bad = |problem: &str| SchemaError::Input {
            field: "thresholds",
            problem: problem.into(),
        };
        if !(1..=3_660).contains(&self.window_days) {
            return Err(bad("need a window of 1 to 3660 days"));
        }
        if self.peripheral == 0 {
            return Err(bad(
                "need at least one contribution for the peripheral level",
            ));
        }
        if !(self.core >= self.active && self.active >= self.peripheral) {
            return Err(bad("must satisfy core >= active >= peripheral"));
        }
        Ok(())
    }
}

/// Writes the participation thresholds (coordinators only).
pub fn write_thresholds<T: Transactable>(
    tx: &mut T,
    t: &LevelThresholds,
) -> Result<(), SchemaError> {
    t.check()?;
    let settings = match tx.get(ROOT, "settings")? {
        Some((automerge::Value::Object(ObjType::Map), id)) => id,
        _ => tx.put_object(ROOT, "settings", ObjType::Map)?,
    };
    let obj = match tx.get(&settings, "participation")? {
        Some((automerge::Value::Object(ObjType::Map), id)) => id,
        _ => tx.put_object(&settings, "participation", ObjType::Map)?,
    };
    tx.put(&obj, "window_days", i64::from(t.window_days))?;
    tx.put(&obj, "core", i64::from(t.core))?;
    tx.put(&obj, "active", i64::from(t.active))?;
    tx.put(&obj, "peripheral", i64::from(t.peripheral))?;
    Ok(())
}

/// The participation thresholds, or the defaults where none (or nonsense) were set.
pub fn read_thresholds(doc: &Automerge) -> LevelThresholds {
    let v = View::now(doc);
    let d = LevelThresholds::default();
    let Some(settings) = v.obj(&ROOT, "settings", ObjType::Map) else {
        return d;
    };
    let Some(obj) = v.obj(&settings, "participation", ObjType::Map) else {
        return d;
    };
    let get = |k: &str, default: u32| {
        v.opt_i64(&obj, k)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(default)
    };
    let t = LevelThresholds {
        window_days: get("window_days", d.window_days),
        core: get("core", d.core),
        active: get("active", d.active),
        peripheral: get("peripheral", d.peripheral),
    };
    if t.check().is_ok() { t } else { d }
}
