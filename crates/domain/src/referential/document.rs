//! A contract's whole referential: its parts (one per data file) and the lookups every command
//! uses to check its references.

use serde::{Deserialize, Serialize};

use super::model::*;

/// `quartiers.json`: the quartiers and the totals the source states.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuartiersPart {
    pub quartiers: Vec<Quartier>,
    pub totals: QuartierTotals,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `communes.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommunesPart {
    pub communes: Vec<Commune>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `organisations.json`: organisations and the people who sign for them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationsPart {
    pub organisations: Vec<Organisation>,
    pub representatives: Vec<Representative>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `strategy.json`: enjeux, ambitions, objectifs, enjeux transversaux, GAT.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StrategyPart {
    pub enjeux: Vec<Enjeu>,
    pub ambitions: Vec<Ambition>,
    pub objectifs: Vec<Objectif>,
    pub enjeux_transversaux: Vec<EnjeuTransversal>,
    pub groupes_appui_thematiques: Vec<GroupeAppui>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `dispositifs.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DispositifsPart {
    pub dispositifs: Vec<Dispositif>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `tfpb_axes.json`: the national framework and its axes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TfpbPart {
    pub framework: TfpbFramework,
    pub axes: Vec<TfpbAxis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The SHA-256 of one data file, as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileDigest {
    pub file: String,
    pub sha256: String,
}

/// A contract's referential: everything the ledger's facts refer to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Referential {
    pub contract: ContractInfo,
    pub quartiers: QuartiersPart,
    pub communes: CommunesPart,
    pub organisations: OrganisationsPart,
    pub strategy: StrategyPart,
    pub dispositifs: DispositifsPart,
    pub tfpb: Option<TfpbPart>,
}

/// An objectif with the ambition and the enjeu above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectifPath<'a> {
    pub objectif: &'a Objectif,
    pub ambition: &'a Ambition,
    pub enjeu: &'a Enjeu,
}

impl Referential {
    /// A referential with the contract only; parts are filled by later publication events.
    pub fn new(contract: ContractInfo) -> Self {
        Referential {
            contract,
            quartiers: QuartiersPart::default(),
            communes: CommunesPart::default(),
            organisations: OrganisationsPart::default(),
            strategy: StrategyPart::default(),
            dispositifs: DispositifsPart::default(),
            tfpb: None,
        }
    }

    /// A quartier by id; a QPV is also found by its national code.
    pub fn quartier(&self, id_or_code: &str) -> Option<&Quartier> {
        self.quartiers
            .quartiers
            .iter()
            .find(|q| q.id == id_or_code || q.code.as_deref() == Some(id_or_code))
    }

    pub fn commune(&self, id: &str) -> Option<&Commune> {
        self.communes.communes.iter().find(|c| c.id == id)
    }

    pub fn organisation(&self, id: &str) -> Option<&Organisation> {
        self.organisations.organisations.iter().find(|o| o.id == id)
    }

    pub fn representative(&self, id: &str) -> Option<&Representative> {
        self.organisations
            .representatives
            .iter()
            .find(|r| r.id == id)
    }

    pub fn enjeu(&self, id: &str) -> Option<&Enjeu> {
        self.strategy.enjeux.iter().find(|e| e.id == id)
    }

    pub fn ambition(&self, id: &str) -> Option<&Ambition> {
        self.strategy.ambitions.iter().find(|a| a.id == id)
    }

    /// An objectif by number (1, 2, 3…), with its ambition and enjeu.
    pub fn objectif(&self, number: u32) -> Option<ObjectifPath<'_>> {
        let objectif = self
            .strategy
            .objectifs
            .iter()
            .find(|o| o.number == number)?;
        self.path_of(objectif)
    }

    /// An objectif by id (`O6`), with its ambition and enjeu.
    pub fn objectif_by_id(&self, id: &str) -> Option<ObjectifPath<'_>> {
        let objectif = self.strategy.objectifs.iter().find(|o| o.id == id)?;
        self.path_of(objectif)
    }

    fn path_of<'a>(&'a self, objectif: &'a Objectif) -> Option<ObjectifPath<'a>> {
        let ambition = self.ambition(&objectif.ambition)?;
        let enjeu = self.enjeu(&ambition.enjeu)?;
        Some(ObjectifPath {
            objectif,
            ambition,
            enjeu,
        })
    }

    pub fn dispositif(&self, id: &str) -> Option<&Dispositif> {
        self.dispositifs.dispositifs.iter().find(|d| d.id == id)
    }

    pub fn tfpb_axis(&self, id: &str) -> Option<&TfpbAxis> {
        self.tfpb.as_ref()?.axes.iter().find(|a| a.id == id)
    }

    pub fn enjeu_transversal(&self, id: &str) -> Option<&EnjeuTransversal> {
        self.strategy
            .enjeux_transversaux
            .iter()
            .find(|t| t.id == id)
    }

    /// A governance body by id (`copil-intercommunal`).
    pub fn governance_body(&self, id: &str) -> Option<&GovernanceBody> {
        self.contract.governance_bodies.iter().find(|b| b.id == id)
    }

    pub fn governance_bodies(&self) -> impl Iterator<Item = &GovernanceBody> {
        self.contract.governance_bodies.iter()
    }

    pub fn enjeux_transversaux(&self) -> impl Iterator<Item = &EnjeuTransversal> {
        self.strategy.enjeux_transversaux.iter()
    }

    /// The referential without the parts encoded after the first publications (orientations and
    /// constats of the enjeux transversaux, governance bodies): what a ledger published before
    /// them holds. Used to tell a supplement (same data, more of it) from other data.
    pub fn without_supplements(&self) -> Referential {
        let mut base = self.clone();
        base.contract.governance_bodies.clear();
        for t in base.strategy.enjeux_transversaux.iter_mut() {
            t.orientations.clear();
            t.constats.clear();
        }
        base
    }

    /// Whether this referential has any of the supplementary parts.
    pub fn has_supplements(&self) -> bool {
        *self != self.without_supplements()
    }

    pub fn groupe_appui(&self, id: &str) -> Option<&GroupeAppui> {
        self.strategy
            .groupes_appui_thematiques
            .iter()
            .find(|g| g.id == id)
    }

    pub fn quartiers(&self) -> impl Iterator<Item = &Quartier> {
        self.quartiers.quartiers.iter()
    }

    pub fn communes(&self) -> impl Iterator<Item = &Commune> {
        self.communes.communes.iter()
    }

    pub fn organisations(&self) -> impl Iterator<Item = &Organisation> {
        self.organisations.organisations.iter()
    }

    pub fn representatives(&self) -> impl Iterator<Item = &Representative> {
        self.organisations.representatives.iter()
    }

    pub fn enjeux(&self) -> impl Iterator<Item = &Enjeu> {
        self.strategy.enjeux.iter()
    }

    pub fn ambitions(&self) -> impl Iterator<Item = &Ambition> {
        self.strategy.ambitions.iter()
    }

    /// Objectifs in their published order, each with its ambition and enjeu.
    pub fn objectifs(&self) -> impl Iterator<Item = ObjectifPath<'_>> {
        self.strategy
            .objectifs
            .iter()
            .filter_map(|o| self.path_of(o))
    }

    pub fn dispositifs(&self) -> impl Iterator<Item = &Dispositif> {
        self.dispositifs.dispositifs.iter()
    }

    pub fn tfpb_axes(&self) -> impl Iterator<Item = &TfpbAxis> {
        self.tfpb.iter().flat_map(|t| t.axes.iter())
    }

    /// Population of the quartiers of one kind.
    pub fn population_of(&self, kind: QuartierKind) -> u64 {
        self.quartiers()
            .filter(|q| q.kind == kind)
            .map(|q| u64::from(q.population))
            .sum()
    }
}
