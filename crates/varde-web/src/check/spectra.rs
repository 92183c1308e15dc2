//! Spectra in the product: files attached to analyses, the reference library admins keep, and the
//! engine that proposes components for the technician to confirm.
//!
//! The engine (an infrared library for FTIR/Raman-style absorbance spectra and an EI library for GC-MS)
//! is built from the stored reference spectra on first use and rebuilt after an admin adds one.

use crate::AppState;
use crate::config::check::SPECTRUM_MATCHES as MATCHES;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::Auth;
use crate::http::extract::{ApiPath, ApiQuery};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use varde_domain::ErrorCode;
use varde_domain::auth::Principal;
use varde_domain::method::Method;
use varde_spectra::ir::{self, Grid, IrLibrary, MixtureOptions, Ordinate, SearchMethod};
use varde_spectra::ms;
use varde_store::{NewAnalysisSpectrum, NewReferenceSpectrum, ReferenceSpectrum, Technique};

/// The libraries, built from the stored reference spectra.
pub struct Engine {
    infrared: IrLibrary,
    infrared_substances: Vec<String>,
    mass: ms::Library,
    mass_substances: Vec<String>,
}

impl Engine {
    pub fn build(references: &[ReferenceSpectrum]) -> Engine {
        let grid = Grid::STANDARD;
        let mut infrared = IrLibrary::new(grid);
        let mut infrared_substances = Vec::new();
        let mut mass_spectra = Vec::new();
        let mut mass_substances = Vec::new();
        for r in references {
            let s = &r.spectrum;
            match s.technique {
                Technique::Infrared => {
                    let reference = ir::Reference { name: s.name.clone(), group: s.substance.clone() };
                    infrared.add(reference, &ir::resample(&s.x, &s.y, &grid, 0.0));
                    infrared_substances.push(s.substance.clone());
                }
                Technique::Mass => {
                    let entry = ms::Entry { id: r.id.to_string(), name: s.name.clone(), inchikey: None };
                    mass_spectra.push((entry, s.x.iter().copied().zip(s.y.iter().copied()).collect()));
                    mass_substances.push(s.substance.clone());
                }
            }
        }
        Engine {
            infrared,
            infrared_substances,
            mass: ms::Library::build(mass_spectra, ms::Settings::default()),
            mass_substances,
        }
    }

    /// What the engine proposes for a spectrum (x, y already in absorbance or intensity).
    pub fn propose(&self, technique: Technique, x: &[f64], y: &[f64]) -> Proposals {
        match technique {
            Technique::Infrared => {
                let query = ir::resample(x, y, &self.infrared.grid, 0.0);
                let components = self
                    .infrared
                    .mixture(&query, &MixtureOptions::default())
                    .into_iter()
                    .map(|c| ProposedComponent {
                        substance: self.infrared_substances[c.index].clone(),
                        reference: self.infrared.references[c.index].name.clone(),
                        fraction: round(c.fraction),
                        p_value: c.p_value,
                    })
                    .collect();
                let matches = self
                    .infrared
                    .search(&query, SearchMethod::Correlation, MATCHES)
                    .into_iter()
                    .map(|h| LibraryMatch {
                        substance: self.infrared_substances[h.index].clone(),
                        reference: self.infrared.references[h.index].name.clone(),
                        score: round(h.score),
                    })
                    .collect();
                Proposals { components, matches }
            }
            Technique::Mass => {
                let peaks: Vec<(f64, f64)> = x.iter().copied().zip(y.iter().copied()).collect();
                let query = self.mass.query(&peaks, ms::Method::Composite);
                let mut scratch = ms::Scratch::default();
                let matches = self
                    .mass
                    .search(&query, ms::Mode::Identity, MATCHES, None, &mut scratch)
                    .into_iter()
                    .map(|h| LibraryMatch {
                        substance: self.mass_substances[h.index as usize].clone(),
                        reference: self.mass.entries[h.index as usize].name.clone(),
                        score: round(h.score as f64),
                    })
                    .collect();
                Proposals { components: Vec::new(), matches }
            }
        }
    }
}

fn round(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

/// The engine as the handlers see it: built lazily, with the library version it was built at, and built again
/// when the library changed (here, or on another instance sharing the database).
#[derive(Default)]
pub struct EngineCell(tokio::sync::RwLock<Option<(i64, Arc<Engine>)>>);

impl EngineCell {
    pub async fn get(&self, state: &AppState) -> Result<Arc<Engine>, ApiError> {
        let version = state.app.queries().reference_library_version().await?;
        if let Some((built, engine)) = self.0.read().await.as_ref()
            && *built == version
        {
            return Ok(engine.clone());
        }
        let mut slot = self.0.write().await;
        if let Some((built, engine)) = slot.as_ref()
            && *built == version
        {
            return Ok(engine.clone());
        }
        let references = state.app.queries().reference_spectra().await?;
        // The version the engine holds is that of what was read (a spectrum added meanwhile is picked up next time).
        let version = references.iter().map(|r| r.id).max().unwrap_or(0);
        let engine = Arc::new(
            tokio::task::spawn_blocking(move || Engine::build(&references)).await.map_err(|_| ApiError::internal())?,
        );
        *slot = Some((version, engine.clone()));
        Ok(engine)
    }

    pub async fn invalidate(&self) {
        *self.0.write().await = None;
    }
}

/// What the engine proposes, for the technician to confirm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Proposals {
    /// Infrared only: the mixture's components, largest share first, each significant given the others.
    pub components: Vec<ProposedComponent>,
    /// The library spectra most like the whole spectrum, best first.
    pub matches: Vec<LibraryMatch>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProposedComponent {
    /// Catalogue id.
    pub substance: String,
    /// The reference spectrum's name.
    pub reference: String,
    /// Estimated share of the absorbance (0–1): an estimate, not a purity.
    pub fraction: f64,
    /// The test of "this component adds nothing"; small is strong evidence.
    pub p_value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LibraryMatch {
    pub substance: String,
    pub reference: String,
    /// Correlation (infrared) or composite similarity (mass), 0–1.
    pub score: f64,
}

/// A spectrum file as uploaded: its bytes, as the `format` parameter says.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct SpectrumFile(#[allow(dead_code)] Vec<u8>);

/// File formats a spectrum may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// JCAMP-DX (.jdx, .dx): any form, the first spectrum in the file.
    Jcamp,
    /// NIST MSP: the first record.
    Msp,
    /// Two columns: x and y.
    Csv,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Jcamp, Format::Msp, Format::Csv];

    pub fn parse(text: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Jcamp => "jcamp",
            Format::Msp => "msp",
            Format::Csv => "csv",
        }
    }
}

fn unreadable(message: String) -> ApiError {
    ApiError::new(ErrorCode::UnreadableSpectrum, message).with_field("file")
}

/// Read a spectrum file into x and y: absorbance for infrared (transmittance converted), intensity for
/// mass spectra. `transmittance` says a CSV's ordinate is transmittance (JCAMP-DX files say so
/// themselves).
pub fn read(
    bytes: &[u8],
    format: Format,
    technique: Technique,
    transmittance: bool,
) -> Result<(Vec<f64>, Vec<f64>), ApiError> {
    let (x, y, ordinate) = match format {
        Format::Jcamp => {
            let blocks = varde_spectra::jcamp::parse(bytes).map_err(|e| unreadable(e.to_string()))?;
            let (block, table) = blocks
                .iter()
                .flat_map(|b| b.flatten())
                .find_map(|b| b.tables.first().map(|t| (b, t)))
                .ok_or_else(|| unreadable("the file holds no spectrum".into()))?;
            (table.x.clone(), table.y.clone(), Ordinate::from_units(block.y_units()))
        }
        Format::Msp => {
            let records = varde_spectra::msp::parse(bytes).map_err(|e| unreadable(e.to_string()))?;
            let peaks = &records[0].peaks;
            (peaks.iter().map(|p| p.0).collect(), peaks.iter().map(|p| p.1).collect(), Ordinate::Absorbance)
        }
        Format::Csv => {
            let (x, y) = varde_spectra::table::parse(bytes).map_err(|e| unreadable(e.to_string()))?;
            (x, y, if transmittance { Ordinate::Transmittance } else { Ordinate::Absorbance })
        }
    };
    if x.len() < 2 && technique == Technique::Infrared {
        return Err(unreadable("an infrared spectrum needs more than one point".into()));
    }
    if x.is_empty() {
        return Err(unreadable("the spectrum has no points".into()));
    }
    let y = match technique {
        Technique::Infrared => ir::to_absorbance(&y, ordinate),
        Technique::Mass => y,
    };
    if technique == Technique::Infrared {
        let (low, high) = x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
        let grid = Grid::STANDARD;
        if high < grid.start || low > grid.x(grid.len - 1) {
            return Err(unreadable(format!(
                "the spectrum covers {low:.0}–{high:.0}, outside the mid-infrared range {:.0}–{:.0} cm⁻¹",
                grid.start,
                grid.x(grid.len - 1)
            )));
        }
    }
    Ok((x, y))
}

/// The form fields for a spectrum file (format, transmittance, the file), ids prefixed with `id`: the
/// sample page and the admin page share them.
pub fn file_fields(lang: varde_domain::Lang, id: &str) -> maud::Markup {
    use crate::http::i18n::t;
    maud::html! {
        label for={ (id) "-format" } { (t(lang, "file_format")) }
        select id={ (id) "-format" } name="format" {
            option value="jcamp" { "JCAMP-DX (.jdx, .dx)" }
            option value="msp" { "NIST MSP (.msp)" }
            option value="csv" { "CSV" }
        }
        label for={ (id) "-transmittance" } {
            input id={ (id) "-transmittance" } name="transmittance" type="checkbox" value="1";
            " " (t(lang, "csv_transmittance"))
        }
        label for={ (id) "-file" } { (t(lang, "spectrum_file")) }
        input id={ (id) "-file" } name="file" type="file" required;
    }
}

/// Which library an analysis method's spectra belong to.
pub fn technique_of(method: Method) -> Option<Technique> {
    match method {
        Method::Ftir => Some(Technique::Infrared),
        Method::GcMs => Some(Technique::Mass),
        _ => None,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The file's format.
    #[param(inline)]
    pub format: Format,
    /// The file's name, for the record.
    #[serde(default)]
    pub filename: Option<String>,
    /// CSV only: the ordinate is transmittance (percent or fraction) rather than absorbance.
    #[serde(default)]
    pub transmittance: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachedSpectrum {
    pub id: i64,
    pub analysis_id: i64,
    pub technique: String,
    pub filename: String,
    pub format: String,
    pub points: usize,
    pub proposals: Proposals,
    #[schema(value_type = String, format = DateTime)]
    pub uploaded_at: Timestamp,
}

fn filename(params: &UploadParams, format: Format) -> Result<String, ApiError> {
    let name = params.filename.clone().unwrap_or_else(|| format!("spectrum.{}", format.as_str()));
    if name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(
            ApiError::new(ErrorCode::InvalidValue, "filename: at most 200 printable characters").with_field("filename")
        );
    }
    Ok(name)
}

/// Attach an instrument file to an analysis (FTIR or GC-MS) and get the engine's proposals.
///
/// The body is the file itself. The proposals are stored with the spectrum; nothing is added to the
/// analysis until the technician confirms components (as an amending analysis).
#[utoipa::path(
    post, path = "/api/v1/samples/{code}/analyses/{analysis}/spectra", tag = "samples",
    params(("code" = String, Path), ("analysis" = i64, Path), UploadParams),
    request_body(content = SpectrumFile, content_type = "application/octet-stream"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Stored, with proposals", body = AttachedSpectrum),
        (status = 403, description = "Another service's sample", body = ErrorBody),
        (status = 404, description = "No such sample", body = ErrorBody),
        (status = 413, description = "File over 1 MiB", body = ErrorBody),
        (status = 422, description = "Unreadable file, unknown analysis, or a method without spectra", body = ErrorBody),
    )
)]
pub async fn attach(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiPath((code, analysis_id)): ApiPath<(String, i64)>,
    ApiQuery(params): ApiQuery<UploadParams>,
    body: Bytes,
) -> Result<(StatusCode, Json<AttachedSpectrum>), ApiError> {
    let stored = crate::api::samples::workable_sample(&state, &who, &code).await?;
    let name = filename(&params, params.format)?;
    let upload = Upload { analysis_id, format: params.format, filename: name, transmittance: params.transmittance };
    let attached = attach_file(&state, &who, &stored, upload, body.to_vec()).await?;
    Ok((StatusCode::CREATED, Json(attached)))
}

/// A file to attach, as the API or the sample page received it.
pub struct Upload {
    pub analysis_id: i64,
    pub format: Format,
    pub filename: String,
    pub transmittance: bool,
}

/// Read, propose and store: the one path for the API and the sample page. The caller has checked that
/// `who` may work on the sample.
pub async fn attach_file(
    state: &AppState,
    who: &Principal,
    stored: &varde_store::StoredSample,
    upload: Upload,
    body: Vec<u8>,
) -> Result<AttachedSpectrum, ApiError> {
    let code = stored.sample.code;
    let analysis_id = upload.analysis_id;
    let analysis = stored.sample.analyses.iter().find(|a| a.id == analysis_id).ok_or_else(|| {
        ApiError::new(ErrorCode::UnknownAnalysis, format!("sample {code} has no analysis {analysis_id}"))
            .with_field("analysis")
    })?;
    let technique = technique_of(analysis.method).ok_or_else(|| {
        ApiError::new(ErrorCode::MethodWithoutSpectrum, "spectra can be attached to FTIR and GC-MS analyses")
            .with_field("analysis")
    })?;
    let (x, y) = read(&body, upload.format, technique, upload.transmittance)?;
    let engine = state.spectra.get(state).await?;
    let (proposals, x, y) = tokio::task::spawn_blocking(move || (engine.propose(technique, &x, &y), x, y))
        .await
        .map_err(|_| ApiError::internal())?;
    let points = x.len();
    let new = NewAnalysisSpectrum {
        analysis_id,
        technique,
        filename: upload.filename.clone(),
        format: upload.format.as_str().to_owned(),
        original: body,
        x,
        y,
        proposals: serde_json::to_string(&proposals).map_err(|_| ApiError::internal())?,
    };
    let now = Timestamp::now();
    let id = state.app.attach_spectrum(code, new, who, now).await?;
    Ok(AttachedSpectrum {
        id,
        analysis_id,
        technique: technique.as_str().to_owned(),
        filename: upload.filename,
        format: upload.format.as_str().to_owned(),
        points,
        proposals,
        uploaded_at: now,
    })
}

/// The spectra attached to a sample's analyses, with what was proposed for each.
#[utoipa::path(
    get, path = "/api/v1/samples/{code}/spectra", tag = "samples",
    params(("code" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<AttachedSpectrum>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<Vec<AttachedSpectrum>>, ApiError> {
    let stored = crate::api::samples::readable_sample(&state, &who, &code).await?;
    attached(&state, stored.sample.code).await.map(Json)
}

pub async fn attached(state: &AppState, code: varde_domain::SampleCode) -> Result<Vec<AttachedSpectrum>, ApiError> {
    let mut out = Vec::new();
    for s in state.app.queries().spectra_of(code).await? {
        out.push(AttachedSpectrum {
            id: s.id,
            analysis_id: s.analysis_id,
            technique: s.technique.as_str().to_owned(),
            filename: s.filename,
            format: s.format,
            points: s.points,
            proposals: serde_json::from_str(&s.proposals).map_err(|_| ApiError::internal())?,
            uploaded_at: s.uploaded_at,
        });
    }
    Ok(out)
}

/// Which library a reference spectrum belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TechniqueParam {
    /// FTIR: wavenumber (cm⁻¹) against absorbance or transmittance.
    Infrared,
    /// GC-MS, electron ionisation: m/z against intensity.
    Mass,
}

impl From<TechniqueParam> for Technique {
    fn from(t: TechniqueParam) -> Technique {
        match t {
            TechniqueParam::Infrared => Technique::Infrared,
            TechniqueParam::Mass => Technique::Mass,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReferenceParams {
    /// Catalogue id of the substance.
    pub substance: String,
    #[param(inline)]
    pub technique: TechniqueParam,
    #[param(inline)]
    pub format: Format,
    /// A name for the spectrum (defaults to the substance's English name).
    #[serde(default)]
    pub name: Option<String>,
    /// Where the spectrum comes from, with its licence.
    pub source: String,
    #[serde(default)]
    pub transmittance: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReferenceView {
    pub id: i64,
    pub substance: String,
    pub technique: String,
    pub name: String,
    pub source: String,
    pub points: usize,
    pub added_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub added_at: Timestamp,
}

/// Add a reference spectrum of a catalogue substance (admins). The body is the file.
#[utoipa::path(
    post, path = "/api/v1/reference-spectra", tag = "samples",
    params(ReferenceParams),
    request_body(content = SpectrumFile, content_type = "application/octet-stream"),
    security(("bearer" = [])),
    responses((status = 201, body = ReferenceView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn add_reference(
    State(state): State<AppState>,
    Auth(who): Auth,
    ApiQuery(params): ApiQuery<ReferenceParams>,
    body: Bytes,
) -> Result<(StatusCode, Json<ReferenceView>), ApiError> {
    crate::http::extract::require_admin(&who, "only admins manage the reference library")?;
    let view = store_reference(&state, &who, params, &body).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Validate and store a reference spectrum, then drop the engine so the next proposal uses it.
pub async fn store_reference(
    state: &AppState,
    who: &Principal,
    params: ReferenceParams,
    body: &[u8],
) -> Result<ReferenceView, ApiError> {
    let substance = state.assessor.catalogue.get(&params.substance).ok_or_else(|| {
        ApiError::new(ErrorCode::UnknownSubstance, format!("'{}' is not in the catalogue", params.substance))
            .with_field("substance")
    })?;
    let source = params.source.trim();
    if source.is_empty() || source.chars().count() > 500 {
        return Err(ApiError::new(
            ErrorCode::InvalidValue,
            "source: say where the spectrum comes from (at most 500 characters)",
        )
        .with_field("source"));
    }
    let name = params.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| substance.names.en.clone());
    let technique = Technique::from(params.technique);
    let (x, y) = read(body, params.format, technique, params.transmittance)?;
    let points = x.len();
    let new = NewReferenceSpectrum {
        substance: substance.id.clone(),
        technique,
        name: name.clone(),
        source: source.to_owned(),
        x,
        y,
    };
    let now = Timestamp::now();
    let id = state.app.add_reference_spectrum(new, who, now).await?;
    state.spectra.invalidate().await;
    Ok(ReferenceView {
        id,
        substance: substance.id.clone(),
        technique: technique.as_str().to_owned(),
        name,
        source: source.to_owned(),
        points,
        added_by: who.actor.clone(),
        added_at: now,
    })
}

/// The reference library (staff).
#[utoipa::path(
    get, path = "/api/v1/reference-spectra", tag = "samples",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<ReferenceView>))
)]
pub async fn references(State(state): State<AppState>, Auth(_who): Auth) -> Result<Json<Vec<ReferenceView>>, ApiError> {
    Ok(Json(reference_views(&state).await?))
}

pub async fn reference_views(state: &AppState) -> Result<Vec<ReferenceView>, ApiError> {
    Ok(state
        .app
        .queries()
        .reference_spectra()
        .await?
        .into_iter()
        .map(|r| ReferenceView {
            id: r.id,
            substance: r.spectrum.substance,
            technique: r.spectrum.technique.as_str().to_owned(),
            name: r.spectrum.name,
            source: r.spectrum.source,
            points: r.spectrum.x.len(),
            added_by: r.added_by,
            added_at: r.added_at,
        })
        .collect())
}
