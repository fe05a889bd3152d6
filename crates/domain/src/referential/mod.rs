//! A contract's referential: quartiers, communes, organisations and their representatives, the
//! strategy tree (enjeux, ambitions, objectifs), dispositifs and TFPB axes.
//!
//! Nothing here is specific to one contract: the data comes from a contract's directory
//! (`schemas/contracts/<contract>/`), is published as events by the [`Contract`] aggregate, and is
//! amended by avenants.

pub mod check;
pub mod contract;
pub mod document;
pub mod model;

pub use check::ReferentialError;
pub use contract::{contract_stream_id, Contract, ContractCommand, ContractError, ContractEvent};
pub use document::{
    CommunesPart, DispositifsPart, FileDigest, ObjectifPath, OrganisationsPart, QuartiersPart,
    Referential, StrategyPart, TfpbPart,
};
pub use model::*;
