//! Report tables already built for the projections' current position.
//!
//! A table depends only on the projections, so between two events every request for the same
//! view and filters gets the same table: the first builds it, the others share it. Folding an
//! event empties the cache (tables of the new position are built again on demand).

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::table::Table;

/// A view's name and exercice filter.
type Key = (String, Option<i32>);

/// Tables by view name and exercice filter, for one position.
#[derive(Default)]
pub struct TableCache {
    tables: Mutex<HashMap<Key, Arc<Table>>>,
    /// Other values derived from the projections at this position (a page's to-do list, a
    /// chart's series), by a key of the caller's choosing.
    derived: Mutex<HashMap<String, Arc<dyn Any + Send + Sync>>>,
}

impl TableCache {
    /// The table of `view` for `year`, built by `build` unless already built at this position.
    /// The lock is not held while building: two first requests may both build (the same table).
    pub fn get_or_build(
        &self,
        view: &str,
        year: Option<i32>,
        build: impl FnOnce() -> Table,
    ) -> Arc<Table> {
        let key = (view.to_string(), year);
        if let Some(table) = self.lock().get(&key) {
            return table.clone();
        }
        let table = Arc::new(build());
        self.lock().insert(key, table.clone());
        table
    }

    /// The value derived under `key`, built by `build` unless already built at this position.
    /// The key names what is derived and from what (e.g. `to-do/2025/2026-06-30`); a key built
    /// before with another type is built again.
    pub fn get_or_derive<T: Any + Send + Sync>(
        &self,
        key: &str,
        build: impl FnOnce() -> T,
    ) -> Arc<T> {
        let kept = self.lock_derived().get(key).cloned();
        if let Some(value) = kept.and_then(|v| v.downcast::<T>().ok()) {
            return value;
        }
        let value = Arc::new(build());
        self.lock_derived()
            .insert(key.to_string(), value.clone() as Arc<dyn Any + Send + Sync>);
        value
    }

    /// Forgets every table and derived value (the projections moved on).
    pub fn clear(&mut self) {
        let tables = self.tables.get_mut().unwrap_or_else(|p| p.into_inner());
        if !tables.is_empty() {
            tables.clear();
        }
        let derived = self.derived.get_mut().unwrap_or_else(|p| p.into_inner());
        if !derived.is_empty() {
            derived.clear();
        }
    }

    /// How many tables are kept.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no table is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock_derived(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, Arc<dyn Any + Send + Sync>>> {
        self.derived.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Arc<Table>>> {
        // A panic while holding the lock leaves a map of whole tables: still usable.
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A copy of the projections (e.g. as of a past position) starts with an empty cache.
impl Clone for TableCache {
    fn clone(&self) -> Self {
        TableCache::default()
    }
}

impl std::fmt::Debug for TableCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableCache")
            .field("tables", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_derived_value_is_built_once_per_position() {
        let mut cache = TableCache::default();
        let builds = std::cell::Cell::new(0);
        let build = || {
            builds.set(builds.get() + 1);
            vec![1, 2, 3]
        };
        let first = cache.get_or_derive("to-do/2025", build);
        let again = cache.get_or_derive("to-do/2025", || -> Vec<i32> { unreachable!() });
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(builds.get(), 1);
        // Another type under the same key is built, not mistaken for the first.
        assert_eq!(*cache.get_or_derive("to-do/2025", || "texte"), "texte");
        cache.clear();
        let after = cache.get_or_derive("to-do/2025", build);
        assert!(!Arc::ptr_eq(&first, &after));
        assert_eq!(builds.get(), 2);
    }

    #[test]
    fn a_table_is_built_once_per_position_and_view() {
        let mut cache = TableCache::default();
        let mut builds = 0;
        let mut build = |name: &str| {
            builds += 1;
            Table::new(name, &["a"])
        };
        let first = cache.get_or_build("signataires", Some(2025), || build("signataires"));
        let again = cache.get_or_build("signataires", Some(2025), || build("signataires"));
        assert!(Arc::ptr_eq(&first, &again));
        cache.get_or_build("signataires", Some(2026), || build("signataires"));
        assert_eq!(cache.len(), 2);
        cache.clear();
        assert!(cache.is_empty());
        let rebuilt = cache.get_or_build("signataires", Some(2025), || build("signataires"));
        assert!(!Arc::ptr_eq(&first, &rebuilt));
        assert_eq!(builds, 3);
    }
}
