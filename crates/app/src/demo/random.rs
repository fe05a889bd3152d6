//! A small deterministic random source (SplitMix64) and ids derived from the demo's seed, so that
//! the same seed always gives the same commands, ids and command ids on every machine.

use uuid::Uuid;

/// SplitMix64: tiny, fast, and good enough to pick fictitious data.
#[derive(Debug, Clone)]
pub(crate) struct Random {
    state: u64,
}

impl Random {
    pub(crate) fn new(seed: u64) -> Self {
        Random { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// A number in `low..=high`.
    pub(crate) fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low + 1)
    }

    /// True with probability `percent` %.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// One element of a non-empty slice.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stable id for the `index`-th thing of kind `label` under `seed`.
pub(crate) fn derived_uuid(seed: u64, label: &str, index: u64) -> Uuid {
    let mut h = seed ^ 0xD1B5_4A32_D192_ED03;
    for byte in label.bytes() {
        h = mix(h ^ u64::from(byte));
    }
    let high = mix(h ^ index);
    let low = mix(high ^ index.rotate_left(17) ^ 0x2545_F491_4F6C_DD1D);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&high.to_be_bytes());
    bytes[8..].copy_from_slice(&low.to_be_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_draws_and_ids() {
        let mut a = Random::new(7);
        let mut b = Random::new(7);
        assert_eq!(a.next_u64(), b.next_u64());
        assert_eq!(derived_uuid(7, "dossier", 3), derived_uuid(7, "dossier", 3));
        assert_ne!(derived_uuid(7, "dossier", 3), derived_uuid(7, "dossier", 4));
        assert_ne!(derived_uuid(7, "dossier", 3), derived_uuid(8, "dossier", 3));
    }
}
