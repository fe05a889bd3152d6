//! In-memory checkpoints of the read model, for as-of questions.
//!
//! While the live read model folds the log, it keeps a copy of itself every `every` events. An
//! as-of question then folds at most `every` events, from the nearest usable checkpoint, instead
//! of decoding a stored snapshot (hundreds of MB at a million events) and folding up to its
//! distance. A copy is cheap: the projections' large maps are persistent (`imbl`), so a
//! checkpoint shares everything with the live read model except what later events changed.
//!
//! Memory is bounded: when more than `kept` checkpoints are held, the spacing doubles and every
//! other one is dropped, so checkpoints always cover the folded log evenly.
//!
//! Which checkpoint may answer a question follows the same rule as stored snapshots
//! ([`Mark::is_usable_for`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use engagements_projections::{AsOf, Projections};

use crate::snapshots::{lock, Mark};

/// Default distance, in events, between two checkpoints.
pub const CHECKPOINT_EVERY_DEFAULT: i64 = 1_000;
/// Environment variable overriding [`CHECKPOINT_EVERY_DEFAULT`] (0 disables checkpoints).
pub const CHECKPOINT_EVERY_ENV: &str = "ENGAGEMENTS_CHECKPOINT_EVERY";
/// Default number of checkpoints kept before their spacing doubles.
pub const CHECKPOINTS_KEPT_DEFAULT: usize = 1_024;

/// Copies of the read model at regular positions.
#[derive(Debug)]
pub struct Checkpoints {
    kept: usize,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Current spacing: a checkpoint at every multiple of it (0: none).
    every: i64,
    by_position: BTreeMap<i64, (Mark, Arc<Projections>)>,
}

impl Checkpoints {
    /// A checkpoint every `every` events (0: never), at most `kept` of them before the spacing
    /// doubles.
    pub fn new(every: i64, kept: usize) -> Checkpoints {
        Checkpoints {
            kept: kept.max(2),
            state: Mutex::new(State {
                every: every.max(0),
                by_position: BTreeMap::new(),
            }),
        }
    }

    /// [`CHECKPOINT_EVERY_DEFAULT`], or [`CHECKPOINT_EVERY_ENV`] when it holds a number ≥ 0.
    pub fn from_env() -> Checkpoints {
        let every = match std::env::var(CHECKPOINT_EVERY_ENV) {
            Ok(text) => match text.trim().parse::<i64>() {
                Ok(every) if every >= 0 => every,
                _ => {
                    tracing::warn!(
                        value = %text,
                        "{CHECKPOINT_EVERY_ENV} is not a number of events ≥ 0; default used"
                    );
                    CHECKPOINT_EVERY_DEFAULT
                }
            },
            Err(_) => CHECKPOINT_EVERY_DEFAULT,
        };
        Checkpoints::new(every, CHECKPOINTS_KEPT_DEFAULT)
    }

    /// Whether a checkpoint is due right after folding the event at `position`.
    pub fn is_due(&self, position: i64) -> bool {
        let every = lock(&self.state).every;
        every > 0 && position > 0 && position % every == 0
    }

    /// Keeps `projections` as they are at `mark`.
    pub fn keep(&self, mark: Mark, projections: Arc<Projections>) {
        let mut state = lock(&self.state);
        state.by_position.insert(mark.position, (mark, projections));
        if state.by_position.len() > self.kept {
            state.every *= 2;
            let every = state.every;
            state
                .by_position
                .retain(|position, _| position % every == 0);
        }
    }

    /// The latest checkpoint whose fold is what `as_of` folds up to it.
    pub fn nearest_usable(&self, as_of: &AsOf) -> Option<(Mark, Arc<Projections>)> {
        let state = lock(&self.state);
        let bound = as_of.position.unwrap_or(i64::MAX);
        state
            .by_position
            .range(..=bound)
            .rev()
            .map(|(_, checkpoint)| checkpoint)
            .find(|(mark, _)| mark.is_usable_for(as_of))
            .map(|(mark, projections)| (*mark, projections.clone()))
    }

    /// How many checkpoints are kept, and their current spacing in events.
    pub fn extent(&self) -> (usize, i64) {
        let state = lock(&self.state);
        (state.by_position.len(), state.every)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(position: i64) -> Mark {
        Mark {
            position,
            ..Mark::default()
        }
    }

    fn at(position: i64) -> AsOf {
        AsOf {
            position: Some(position),
            ..AsOf::default()
        }
    }

    #[test]
    fn the_nearest_checkpoint_at_or_before_the_bound_answers() {
        let checkpoints = Checkpoints::new(10, 100);
        for position in (10..=50).step_by(10) {
            assert!(checkpoints.is_due(position));
            checkpoints.keep(mark(position), Arc::default());
        }
        assert!(!checkpoints.is_due(15));
        assert_eq!(checkpoints.nearest_usable(&at(35)).unwrap().0.position, 30);
        assert_eq!(checkpoints.nearest_usable(&at(30)).unwrap().0.position, 30);
        assert!(checkpoints.nearest_usable(&at(9)).is_none());
        assert_eq!(
            checkpoints.nearest_usable(&AsOf::now()).unwrap().0.position,
            50
        );
    }

    #[test]
    fn past_the_limit_the_spacing_doubles_and_coverage_stays_even() {
        let checkpoints = Checkpoints::new(10, 4);
        for position in (10..=50).step_by(10) {
            checkpoints.keep(mark(position), Arc::default());
        }
        assert_eq!(checkpoints.extent(), (2, 20));
        assert!(!checkpoints.is_due(30));
        assert!(checkpoints.is_due(60));
        assert_eq!(checkpoints.nearest_usable(&at(39)).unwrap().0.position, 20);
    }

    #[test]
    fn a_checkpoint_past_the_record_time_bound_is_not_used() {
        let checkpoints = Checkpoints::new(10, 100);
        let late = chrono::Utc::now();
        let early = late - chrono::Duration::days(1);
        let mut first = mark(10);
        first.recorded_at_max = Some(early);
        let mut second = mark(20);
        second.recorded_at_max = Some(late);
        checkpoints.keep(first, Arc::default());
        checkpoints.keep(second, Arc::default());
        let as_of = AsOf {
            recorded_at: Some(early),
            ..AsOf::default()
        };
        assert_eq!(checkpoints.nearest_usable(&as_of).unwrap().0.position, 10);
    }

    #[test]
    fn zero_disables_checkpoints() {
        let checkpoints = Checkpoints::new(0, 100);
        assert!(!checkpoints.is_due(2_000));
    }
}
