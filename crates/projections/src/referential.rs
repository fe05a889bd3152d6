//! The contract's referential as the log tells it: published, then amended by avenants, with
//! every version kept by effective date so that reports can use it as it stood on any date.

use chrono::NaiveDate;
use engagements_domain::referential::{
    Ambition, Commune, ContractEvent, ContractInfo, Dispositif, Enjeu, ObjectifPath, Organisation,
    Quartier, Referential, Representative, TfpbAxis,
};
use engagements_domain::{ActRef, RecordedEvent};

use crate::table::{Cell, Table};

/// One change recorded on the contract stream after its publication.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Amendment {
    pub position: i64,
    /// When the avenant takes effect.
    pub effective_date: NaiveDate,
    pub avenant: ActRef,
    pub event: ContractEvent,
}

/// A meeting of a governance body, as recorded.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GovernanceMeeting {
    pub position: i64,
    pub body: String,
    pub body_name: String,
    pub date: NaiveDate,
    pub act_reference: String,
    pub decisions: Vec<String>,
    pub attendees: Option<Vec<String>>,
}

/// The referential: as published, as amended (current), and the avenants in between.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ReferentialView {
    /// Every avenant recorded so far applied, whatever its effective date.
    current: Option<Referential>,
    /// As published, before any avenant.
    published: Option<Referential>,
    pub content_hash: Option<String>,
    /// Effective date of the publication (the contract's approval, as `init` records it).
    pub published_on: Option<NaiveDate>,
    pub published_at_position: Option<i64>,
    pub amendments: Vec<Amendment>,
    /// Meetings of the governance bodies, in log order.
    #[serde(default)]
    pub meetings: Vec<GovernanceMeeting>,
}

impl ReferentialView {
    /// A referential read outside any log, as published without avenant (a contract's files
    /// checked before `init`, tests).
    pub fn of(referential: Referential) -> Self {
        ReferentialView {
            current: Some(referential.clone()),
            published: Some(referential),
            ..ReferentialView::default()
        }
    }

    /// Folds one event of the contract stream.
    pub fn apply(&mut self, recorded: &RecordedEvent, event: &ContractEvent) {
        if let ContractEvent::ContractPublished { content_hash, .. } = event {
            self.content_hash = Some(content_hash.clone());
            self.published_on = Some(recorded.metadata.effective_date);
            self.published_at_position = Some(recorded.position);
            self.amendments.clear();
        }
        if let ContractEvent::ReferentialSupplemented { content_hash, .. } = event {
            self.content_hash = Some(content_hash.clone());
        }
        if let ContractEvent::GovernanceMeetingRecorded {
            body,
            body_name,
            date,
            act_reference,
            decisions,
            attendees,
        } = event
        {
            self.meetings.push(GovernanceMeeting {
                position: recorded.position,
                body: body.clone(),
                body_name: body_name.clone(),
                date: *date,
                act_reference: act_reference.clone(),
                decisions: decisions.clone(),
                attendees: attendees.clone(),
            });
        }
        event.apply_to(&mut self.current);
        match event.avenant() {
            Some(avenant) => self.amendments.push(Amendment {
                position: recorded.position,
                effective_date: recorded.metadata.effective_date,
                avenant: avenant.clone(),
                event: event.clone(),
            }),
            // Publication events: the published referential follows them.
            None => event.apply_to(&mut self.published),
        }
    }

    /// The referential with every avenant recorded so far (None before `init`).
    pub fn current(&self) -> Option<&Referential> {
        self.current.as_ref()
    }

    /// The referential in force on `date`: as published, plus the avenants effective on or
    /// before that date. None before the contract took effect.
    pub fn as_of(&self, date: NaiveDate) -> Option<Referential> {
        if self.published_on.is_none_or(|published| published > date) {
            return None;
        }
        let mut referential = self.published.clone();
        for amendment in self.amendments.iter().filter(|a| a.effective_date <= date) {
            amendment.event.apply_to(&mut referential);
        }
        referential
    }

    /// The contract (id, name, period…), once published.
    pub fn contract(&self) -> Option<&ContractInfo> {
        self.current.as_ref().map(|r| &r.contract)
    }

    pub fn quartier(&self, id_or_code: &str) -> Option<&Quartier> {
        self.current.as_ref()?.quartier(id_or_code)
    }

    pub fn commune(&self, id: &str) -> Option<&Commune> {
        self.current.as_ref()?.commune(id)
    }

    pub fn organisation(&self, id: &str) -> Option<&Organisation> {
        self.current.as_ref()?.organisation(id)
    }

    pub fn representative(&self, id: &str) -> Option<&Representative> {
        self.current.as_ref()?.representative(id)
    }

    /// An objectif by number, with its ambition and enjeu.
    pub fn objectif(&self, number: u32) -> Option<ObjectifPath<'_>> {
        self.current.as_ref()?.objectif(number)
    }

    pub fn ambition(&self, id: &str) -> Option<&Ambition> {
        self.current.as_ref()?.ambition(id)
    }

    pub fn enjeu(&self, id: &str) -> Option<&Enjeu> {
        self.current.as_ref()?.enjeu(id)
    }

    pub fn dispositif(&self, id: &str) -> Option<&Dispositif> {
        self.current.as_ref()?.dispositif(id)
    }

    /// An organisation as people name it: its name, else its id (one the referential does not
    /// know, an external auditor's for instance).
    pub fn organisation_name(&self, id: &str) -> String {
        self.organisation(id)
            .map_or_else(|| id.to_string(), |o| o.name.clone())
    }

    /// A dispositif's name as tables and trails show it: up to its abbreviation when it has one
    /// ("Crédits du Budget Opérationnel du Programme n°147 (BOP 147)"), else whole; else its id.
    pub fn dispositif_short_name(&self, id: &str) -> String {
        let Some(dispositif) = self.dispositif(id) else {
            return id.to_string();
        };
        let name = &dispositif.name;
        match (name.find('('), name.find(')')) {
            (Some(open), Some(close)) if open < close => name[..=close].to_string(),
            _ => name.clone(),
        }
    }

    /// A quartier as the TFPB pages and trails show it: `CENTRE VILLE (QN06204)`; else its id.
    pub fn quartier_label(&self, id: &str) -> String {
        self.quartier(id)
            .map_or_else(|| id.to_string(), |q| format!("{} ({})", q.name, q.id))
    }

    /// An axis of the national TFPB framework: `2. Formation/soutien des personnels de
    /// proximité`; else its id.
    pub fn tfpb_axis_label(&self, id: &str) -> String {
        self.tfpb_axis(id)
            .map_or_else(|| id.to_string(), |a| format!("{}. {}", a.number, a.title))
    }

    pub fn tfpb_axis(&self, id: &str) -> Option<&TfpbAxis> {
        self.current.as_ref()?.tfpb_axis(id)
    }

    pub fn quartiers(&self) -> impl Iterator<Item = &Quartier> {
        self.current.iter().flat_map(|r| r.quartiers())
    }

    pub fn communes(&self) -> impl Iterator<Item = &Commune> {
        self.current.iter().flat_map(|r| r.communes())
    }

    pub fn organisations(&self) -> impl Iterator<Item = &Organisation> {
        self.current.iter().flat_map(|r| r.organisations())
    }

    pub fn representatives(&self) -> impl Iterator<Item = &Representative> {
        self.current.iter().flat_map(|r| r.representatives())
    }

    pub fn objectifs(&self) -> impl Iterator<Item = ObjectifPath<'_>> {
        self.current.iter().flat_map(|r| r.objectifs())
    }

    pub fn ambitions(&self) -> impl Iterator<Item = &Ambition> {
        self.current.iter().flat_map(|r| r.ambitions())
    }

    pub fn enjeux(&self) -> impl Iterator<Item = &Enjeu> {
        self.current.iter().flat_map(|r| r.enjeux())
    }

    pub fn dispositifs(&self) -> impl Iterator<Item = &Dispositif> {
        self.current.iter().flat_map(|r| r.dispositifs())
    }

    pub fn tfpb_axes(&self) -> impl Iterator<Item = &TfpbAxis> {
        self.current.iter().flat_map(|r| r.tfpb_axes())
    }

    /// The governance meetings recorded, in order.
    pub fn meetings_table(&self) -> Table {
        let mut table = Table::new(
            "governance_meetings",
            &[
                "position",
                "date",
                "body",
                "body_name",
                "act_reference",
                "decisions",
                "attendees",
            ],
        );
        for m in &self.meetings {
            table.push(vec![
                m.position.into(),
                m.date.into(),
                m.body.clone().into(),
                m.body_name.clone().into(),
                m.act_reference.clone().into(),
                m.decisions.join(" ; ").into(),
                m.attendees.as_ref().map(|a| a.join(", ")).into(),
            ]);
        }
        table
    }

    /// The avenants recorded, in order.
    pub fn amendments_table(&self) -> Table {
        let mut table = Table::new(
            "avenants",
            &[
                "position",
                "effective_date",
                "act_kind",
                "act_reference",
                "change",
            ],
        );
        for amendment in &self.amendments {
            table.push(vec![
                amendment.position.into(),
                amendment.effective_date.into(),
                serde_json::to_value(amendment.avenant.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .into(),
                amendment.avenant.reference.clone().into(),
                amendment.event.describe().into(),
            ]);
        }
        table
    }
}

/// Report tables of one referential (current, or as of a date).
pub mod tables {
    use super::*;

    fn joined(values: &[String]) -> Cell {
        Cell::Text(values.join(", "))
    }

    fn lines(source_lines: &[[u32; 2]]) -> Cell {
        let ranges: Vec<String> = source_lines
            .iter()
            .map(|[from, to]| {
                if from == to {
                    format!("l.{from}")
                } else {
                    format!("l.{from}-{to}")
                }
            })
            .collect();
        joined(&ranges)
    }

    /// The enjeux transversaux: one row per orientation and per constat (baseline figure).
    pub fn transversaux(r: &Referential) -> Table {
        let mut table = Table::new(
            "enjeux_transversaux",
            &[
                "enjeu",
                "title",
                "item",
                "theme",
                "text",
                "value",
                "unit",
                "reference_value",
                "reference_scope",
                "year",
                "source_lines",
            ],
        );
        for t in r.enjeux_transversaux() {
            for o in &t.orientations {
                table.push(vec![
                    t.id.clone().into(),
                    t.title.clone().into(),
                    "orientation".into(),
                    o.theme.clone().into(),
                    o.text.clone().into(),
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    lines(&o.source_lines),
                ]);
            }
            for c in &t.constats {
                table.push(vec![
                    t.id.clone().into(),
                    t.title.clone().into(),
                    "constat".into(),
                    Cell::Empty,
                    c.label.clone().into(),
                    c.value.to_string().into(),
                    c.unit.clone().into(),
                    c.reference_value.map(|v| v.to_string()).into(),
                    c.reference_scope.clone().into(),
                    c.year.map(i64::from).into(),
                    lines(&c.source_lines),
                ]);
            }
        }
        table
    }

    /// The governance bodies the contract sets up.
    pub fn governance(r: &Referential) -> Table {
        let mut table = Table::new(
            "governance_bodies",
            &[
                "id",
                "name",
                "level",
                "role",
                "chaired_by",
                "composition",
                "meets",
                "min_meetings_per_year",
                "source_lines",
            ],
        );
        for b in r.governance_bodies() {
            let level = serde_json::to_value(b.level)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            table.push(vec![
                b.id.clone().into(),
                b.name.clone().into(),
                level.into(),
                b.role.clone().into(),
                b.chaired_by.clone().into(),
                b.composition.clone().into(),
                b.meets.clone().into(),
                b.min_meetings_per_year.map(i64::from).into(),
                lines(&b.source_lines),
            ]);
        }
        table
    }

    /// The contract and the counts of each part.
    pub fn summary(r: &Referential, content_hash: Option<&str>) -> Table {
        let mut table = Table::new("referential", &["key", "value"]);
        let c = &r.contract;
        let period = format!("{}-{}", c.period.start_year, c.period.end_year);
        let rows: Vec<(&str, Cell)> = vec![
            ("contract", c.id.clone().into()),
            ("name", c.name.clone().into()),
            ("epci", c.epci.name.clone().into()),
            ("period", period.into()),
            ("approved_by", c.approval.body.clone().into()),
            ("approved_on", c.approval.date.into()),
            ("executory_on", c.approval.executory_date.into()),
            ("content_hash", content_hash.map(str::to_string).into()),
            ("quartiers", (r.quartiers().count() as i64).into()),
            (
                "qpv_population",
                (r.population_of(engagements_domain::referential::QuartierKind::Qpv) as i64).into(),
            ),
            (
                "qic_population",
                (r.population_of(engagements_domain::referential::QuartierKind::Qic) as i64).into(),
            ),
            ("communes", (r.communes().count() as i64).into()),
            ("organisations", (r.organisations().count() as i64).into()),
            (
                "representatives",
                (r.representatives().count() as i64).into(),
            ),
            ("enjeux", (r.enjeux().count() as i64).into()),
            ("ambitions", (r.ambitions().count() as i64).into()),
            ("objectifs", (r.strategy.objectifs.len() as i64).into()),
            (
                "enjeux_transversaux",
                (r.strategy.enjeux_transversaux.len() as i64).into(),
            ),
            (
                "orientations_transversales",
                (r.enjeux_transversaux()
                    .map(|t| t.orientations.len())
                    .sum::<usize>() as i64)
                    .into(),
            ),
            (
                "governance_bodies",
                (r.governance_bodies().count() as i64).into(),
            ),
            (
                "groupes_appui_thematiques",
                (r.strategy.groupes_appui_thematiques.len() as i64).into(),
            ),
            ("dispositifs", (r.dispositifs().count() as i64).into()),
            ("tfpb_axes", (r.tfpb_axes().count() as i64).into()),
        ];
        for (key, value) in rows {
            table.push(vec![key.into(), value]);
        }
        table
    }

    pub fn quartiers(r: &Referential) -> Table {
        let mut table = Table::new(
            "quartiers",
            &[
                "id",
                "kind",
                "code",
                "name",
                "communes",
                "population",
                "population_change_since_2014",
                "source_lines",
            ],
        );
        for q in r.quartiers() {
            table.push(vec![
                q.id.clone().into(),
                q.kind.as_str().into(),
                q.code.clone().into(),
                q.name.clone().into(),
                joined(&q.communes),
                i64::from(q.population).into(),
                q.population_change_since_2014.clone().into(),
                lines(&q.source_lines),
            ]);
        }
        table
    }

    pub fn communes(r: &Referential) -> Table {
        let mut table = Table::new(
            "communes",
            &["id", "name", "organisation", "quartiers", "source_lines"],
        );
        for c in r.communes() {
            table.push(vec![
                c.id.clone().into(),
                c.name.clone().into(),
                c.organisation.clone().into(),
                joined(&c.quartiers),
                lines(&c.source_lines),
            ]);
        }
        table
    }

    pub fn organisations(r: &Referential) -> Table {
        let mut table = Table::new(
            "organisations",
            &[
                "id",
                "name",
                "kind",
                "signatory_group",
                "representatives",
                "source_lines",
            ],
        );
        for o in r.organisations() {
            let people: Vec<String> = r
                .representatives()
                .filter(|p| p.organisations.contains(&o.id))
                .map(|p| p.name.clone())
                .collect();
            table.push(vec![
                o.id.clone().into(),
                o.name.clone().into(),
                enum_text(&o.kind).into(),
                o.signatory_group.as_ref().map(enum_text).into(),
                joined(&people),
                lines(&o.source_lines),
            ]);
        }
        table
    }

    pub fn objectifs(r: &Referential) -> Table {
        let mut table = Table::new(
            "objectifs",
            &[
                "number",
                "title",
                "ambition",
                "ambition_title",
                "enjeu",
                "enjeu_title",
                "source_lines",
            ],
        );
        for path in r.objectifs() {
            table.push(vec![
                i64::from(path.objectif.number).into(),
                path.objectif.title.clone().into(),
                path.ambition.id.clone().into(),
                path.ambition.title.clone().into(),
                path.enjeu.id.clone().into(),
                path.enjeu.title.clone().into(),
                lines(&path.objectif.source_lines),
            ]);
        }
        table
    }

    pub fn dispositifs(r: &Referential) -> Table {
        let mut table = Table::new(
            "dispositifs",
            &[
                "id",
                "name",
                "financeurs",
                "decided_by",
                "duration",
                "source_lines",
            ],
        );
        for d in r.dispositifs() {
            table.push(vec![
                d.id.clone().into(),
                d.name.clone().into(),
                joined(&d.financeurs),
                d.decided_by.clone().into(),
                d.duration.clone().into(),
                lines(&d.source_lines),
            ]);
        }
        table
    }

    pub fn tfpb_axes(r: &Referential) -> Table {
        let mut table = Table::new("tfpb_axes", &["id", "number", "title"]);
        for a in r.tfpb_axes() {
            table.push(vec![
                a.id.clone().into(),
                i64::from(a.number).into(),
                a.title.clone().into(),
            ]);
        }
        table
    }

    /// A serde enum's wire name (`institutional_partner`).
    fn enum_text<T: serde::Serialize>(value: &T) -> String {
        serde_json::to_value(value)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}
