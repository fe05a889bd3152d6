//! Identifiers of TFPB facts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

crate::ids::uuid_id!(
    /// A convention d'utilisation de l'abattement de TFPB.
    TfpbConventionId,
    "tfpb-convention"
);
crate::ids::uuid_id!(
    /// One action of a bailleur's TFPB programme.
    TfpbActionId,
    "tfpb-action"
);
crate::ids::uuid_id!(
    /// One spending reported on a TFPB action (a correction names it).
    TfpbSpendingId,
    "tfpb-spending"
);
