//! The live read model: every projection, kept up to date by folding the log in order.

use engagements_projections::{ProjectionError, Projections};
use engagements_store::{Store, StoreError};
use tokio::sync::{RwLock, RwLockReadGuard};

/// Events read from the store per page while catching up.
const CATCH_UP_PAGE: i64 = 10_000;

/// Errors while catching up.
#[derive(Debug, thiserror::Error)]
pub enum ReadModelError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Projection(#[from] ProjectionError),
}

/// Projections in memory, following the store.
pub struct ReadModel {
    store: Store,
    projections: RwLock<Projections>,
}

impl ReadModel {
    pub fn new(store: Store) -> Self {
        ReadModel {
            store,
            projections: RwLock::new(Projections::default()),
        }
    }

    /// Folds every event not yet seen. Whoever holds the lock catches up for everyone.
    pub async fn catch_up(&self) -> Result<i64, ReadModelError> {
        let mut projections = self.projections.write().await;
        loop {
            let events = self
                .store
                .read_all(projections.position + 1, CATCH_UP_PAGE)
                .await?;
            if events.is_empty() {
                return Ok(projections.position);
            }
            for event in &events {
                projections.apply(event)?;
            }
        }
    }

    /// Makes sure events up to `position` are folded in (read-your-writes).
    pub async fn catch_up_to(&self, position: i64) -> Result<(), ReadModelError> {
        if self.projections.read().await.position < position {
            self.catch_up().await?;
        }
        Ok(())
    }

    /// The projections as they are now (call [`ReadModel::catch_up`] first for the latest).
    pub async fn read(&self) -> RwLockReadGuard<'_, Projections> {
        self.projections.read().await
    }
}
