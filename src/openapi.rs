//! The OpenAPI document (`GET /api/v1/openapi.json`, Swagger UI at `/docs`): its paths and
//! schemas come from the one route registration (`crate::routes`, collected by
//! utoipa-actix-web); this module adds the document's info, tags and security schemes and the
//! statuses every operation of a shape answers. `tests/it/openapi.rs` snapshots the whole
//! document.
//!
//! Who writes which response:
//! - each handler's `#[utoipa::path]` documents its success response and the statuses its
//!   service answers (404, 409, 422, 429), naming their problem `code`s, and its security:
//!   `("bearer" = [roles…])` lists the roles admitted (none listed: any signed-in account),
//!   an empty requirement `()` first makes the token optional;
//! - [`FrameworkResponses`] adds the statuses that follow from an operation's shape, the same
//!   way for every operation, so they cannot drift from what the extractors and the
//!   middleware answer: 400 for parameters and bodies, 401 for a required token (every 401
//!   with its `WWW-Authenticate` challenge), 403 for a role list, 413 / 415 for bodies, 422
//!   `invalid_body` for JSON bodies and `control_character` for any request. Where a handler
//!   already documents one of these statuses with its own codes, the framework's codes are
//!   appended to its description.

use std::collections::BTreeSet;

use utoipa::openapi::header::Header;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Response};
use utoipa::{Modify, OpenApi};

use utoipa_actix_web::{AppExt, scope};

/// The document's info, tags, shared components and security schemes; the paths are added from
/// the route registration by [`document`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Provider Registry",
        description = "课后服务第三方机构备选库 — the registry of third-party institutions admitted to schools' after-school services. Errors are RFC 9457 `application/problem+json` with a stable `code`; messages are Chinese unless `Accept-Language: en`.",
    ),
    modifiers(&BearerAuth),
    components(schemas(crate::error::ProblemBody, crate::error::FieldErrorBody)),
    tags(
        (name = "accounts", description = "registration, login, the signed-in account"),
        (name = "admin", description = "accounts, schools, jobs and the test clock"),
        (name = "audit", description = "the hash-chained audit trail"),
        (name = "calendar", description = "working days: statutory holidays and make-up working days"),
        (name = "reference", description = "activity catalogue and identifier checks"),
        (name = "rounds", description = "selection rounds: application window and pool validity"),
        (name = "documents", description = "uploads, content-addressed storage, isolated PDF text"),
        (name = "institutions", description = "profile, teacher roster, annual inspections; identity numbers masked, reviewer reveal audited"),
        (name = "applications", description = "drafts, submission checks, withdrawal, history"),
        (name = "review", description = "reviewers' decisions and the dossier read before deciding"),
        (name = "notices", description = "public notices (5 working days), objections, admission to the pool"),
        (name = "exit cases", description = "exit cases: grounds, statement of defence, decision, removal"),
        (name = "sanctions", description = "bans and blacklists"),
        (name = "pool", description = "the whitelist for schools and the public: search, exports, status look-up"),
        (name = "open data", description = "signed snapshots (RFC 8785 JSON, Ed25519) and change feeds (JSON, Atom) of the pool and the bans; the public keys"),
        (name = "contracts", description = "school contracts with pool members and their evaluations"),
        (name = "ops", description = "health, readiness and metrics"),
    )
)]
pub struct ApiDoc;

/// The security scheme of the API: an account's JWT.
const BEARER: &str = "bearer";

/// The security scheme of `GET /metrics`: the operators' token (its handler documents its 401).
const METRICS_TOKEN: &str = "metrics_token";

/// The roles a security requirement may list (DESIGN.md §2).
const ALL_ROLES: [&str; 4] = ["institution", "reviewer", "school", "admin"];

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "The `access_token` of `POST /api/v1/auth/login`. An operation's scopes \
                         are the roles it admits (`institution`, `reviewer`, `school`, `admin`); \
                         no scopes: any signed-in account.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            METRICS_TOKEN,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The operators' `METRICS_TOKEN` (for `GET /metrics` only).",
                    ))
                    .build(),
            ),
        );
    }
}

/// Adds the statuses every operation of a given shape can answer (see the module docs).
struct FrameworkResponses;

impl Modify for FrameworkResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                let shape = Shape::of(operation);
                for (status, text) in shape.framework_statuses() {
                    add_problem(operation, status, &text);
                }
                // The middleware sends the RFC 6750 challenge with every 401.
                if let Some(RefOr::T(response)) = operation.responses.responses.get_mut("401") {
                    let mut header = Header::default();
                    header.description = Some(
                        "`Bearer realm=\"provider-registry\"` (RFC 6750), with \
                         `error=\"invalid_token\"` when credentials were sent"
                            .to_owned(),
                    );
                    response
                        .headers
                        .insert("WWW-Authenticate".to_owned(), RefOr::T(header));
                }
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// What an operation's declaration says about the requests it takes.
#[derive(Debug, Default)]
struct Shape {
    /// A bearer token is required (a security requirement and no empty alternative).
    token_required: bool,
    /// The roles admitted, when not every role is.
    roles: Option<Vec<String>>,
    query: bool,
    /// A path parameter that is not a string (a malformed number is a 400).
    typed_path: bool,
    /// The request body's media types.
    body: BTreeSet<String>,
}

impl Shape {
    fn of(operation: &Operation) -> Self {
        let mut shape = Shape::default();
        if let Some(requirements) = &operation.security {
            let requirements: Vec<serde_json::Value> = requirements
                .iter()
                .filter_map(|r| serde_json::to_value(r).ok())
                .collect();
            let optional = requirements
                .iter()
                .any(|r| r.as_object().is_some_and(|o| o.is_empty()));
            let bearer = requirements.iter().any(|r| r.get(BEARER).is_some());
            shape.token_required = bearer && !optional;
            let roles: Vec<String> = requirements
                .iter()
                .filter_map(|r| r.get(BEARER)?.as_array().cloned())
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect();
            if shape.token_required && !roles.is_empty() && roles.len() < ALL_ROLES.len() {
                shape.roles = Some(roles);
            }
        }
        for parameter in operation.parameters.iter().flatten() {
            let RefOr::T(parameter) = parameter else {
                continue;
            };
            match parameter.parameter_in {
                ParameterIn::Query => shape.query = true,
                ParameterIn::Path => {
                    let schema = serde_json::to_value(&parameter.schema).unwrap_or_default();
                    if schema["type"] != "string" {
                        shape.typed_path = true;
                    }
                }
                _ => {}
            }
        }
        if let Some(RefOr::T(body)) = &operation.request_body {
            shape.body = body.content.keys().cloned().collect();
        }
        shape
    }

    fn json_body(&self) -> bool {
        self.body.contains("application/json")
    }

    /// `(status, text)` for every status that follows from the shape.
    fn framework_statuses(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let mut malformed = Vec::new();
        if self.query {
            malformed.push("`invalid_query` (a query parameter is missing or malformed)");
        }
        if self.typed_path {
            malformed.push("`invalid_path` (a path parameter is malformed)");
        }
        if self.json_body() {
            malformed.push("`malformed_json` (the body is not JSON)");
        }
        if !malformed.is_empty() {
            out.push(("400", malformed.join(", ")));
        }
        if self.token_required {
            out.push((
                "401",
                "`unauthenticated` (no bearer token), `invalid_token`, `token_expired` or \
                 `account_disabled`"
                    .to_owned(),
            ));
        }
        if let Some(roles) = &self.roles {
            out.push((
                "403",
                format!(
                    "`forbidden`: only for {}",
                    roles
                        .iter()
                        .map(|r| format!("`{r}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if self.body.iter().any(|t| t != "multipart/form-data") {
            // JSON and CSV bodies are read whole, with a size limit; multipart uploads stream
            // to disk and name their own limit (`file_too_large`).
            out.push((
                "413",
                "`payload_too_large` (the body is larger than the service accepts)".to_owned(),
            ));
        }
        if !self.body.is_empty() {
            out.push((
                "415",
                format!(
                    "`unsupported_media_type` (the body is not {})",
                    self.body
                        .iter()
                        .map(|t| format!("`{t}`"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            ));
        }
        if self.json_body() {
            out.push((
                "422",
                "`invalid_body` (the JSON does not have the expected shape; `errors` names the \
                 field)"
                    .to_owned(),
            ));
        }
        // Every request's query string and path segments, and every text field, are refused
        // with control characters (`http::input`), whatever the operation declares.
        out.push((
            "422",
            "`control_character` (a control character in the query string, a path segment or \
             a text field; `errors` names it)"
                .to_owned(),
        ));
        out
    }
}

/// Documents `status` as a problem with `text`, or appends `text` to the handler's own
/// description of that status unless it already names the first code in `text`.
fn add_problem(operation: &mut Operation, status: &str, text: &str) {
    match operation.responses.responses.get_mut(status) {
        Some(RefOr::T(response)) => {
            let first_code = text.split('`').nth(1).unwrap_or_default();
            if !response.description.contains(&format!("`{first_code}`")) {
                response.description = if response.description.is_empty() {
                    text.to_owned()
                } else {
                    format!("{}; {text}", response.description)
                };
            }
            response
                .content
                .entry("application/problem+json".to_owned())
                .or_insert_with(problem_content);
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            let mut response = Response::new(text);
            response
                .content
                .insert("application/problem+json".to_owned(), problem_content());
            operation
                .responses
                .responses
                .insert(status.to_owned(), RefOr::T(response));
        }
    }
}

fn problem_content() -> RefOr<Content> {
    RefOr::T(Content::new(Some(Ref::from_schema_name("ProblemBody"))))
}

/// The document as served.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(|cfg| crate::routes::root(cfg))
        .service(scope("/api/v1").configure(|cfg| crate::routes::api_v1(cfg, true)))
        .split_for_parts();
    // After the paths are in: the statuses follow from each operation's shape.
    FrameworkResponses.modify(&mut doc);
    doc
}

/// Where the document is served (and where the Swagger UI at `/docs` reads it).
pub const DOCUMENT_PATH: &str = "/api/v1/openapi.json";

/// The document serialised once at start-up, shared by every worker.
pub struct Served(actix_web::web::Bytes);

impl Served {
    pub fn new(document: &utoipa::openapi::OpenApi) -> serde_json::Result<Self> {
        Ok(Self(serde_json::to_vec(document)?.into()))
    }
}

/// `GET /api/v1/openapi.json`: the OpenAPI document.
#[actix_web::get("/api/v1/openapi.json")]
pub async fn serve(served: actix_web::web::Data<Served>) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(served.0.clone())
}

#[cfg(test)]
mod tests {
    //! Component names. utoipa names a schema after its Rust type's last path segment (or its
    //! `#[schema(as = …)]`), and the document keeps one schema per name: two types with one
    //! name silently become one component, and every `$ref` to the name then describes
    //! whichever type utoipa collected last (that is how `POST /applications/{id}/decisions`
    //! came to be documented with the exit-case decision body).
    //!
    //! The registration collects, for every handler, `(T::name(), T::schema())` of each type its
    //! bodies use and, recursively, of every type those reach (`ToSchema::schemas`), then
    //! de-duplicates by name. [`all_references`] walks the same registration (`crate::routes`)
    //! with a [`Register`] that keeps the duplicates, so a name that arrives with two different schemas is two
    //! Rust types behind one component. (Two types whose schemas are identical, description
    //! included, would pass: they describe one contract.) Query parameters refer to components
    //! by name only and contribute no schema; `tests/it/openapi.rs` checks that every such name
    //! resolves, so a parameter type must also be a component reached from a body.

    use std::collections::BTreeMap;

    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::Schema;
    use utoipa::{PartialSchema, ToSchema};

    use actix_web::dev::HttpServiceFactory;
    use utoipa_actix_web::OpenApiFactory;

    use crate::http::routes::Register;

    type References = Vec<(String, RefOr<Schema>)>;

    /// Walks a registration, keeping every schema reference of every handler.
    struct Collector(References);

    impl Register for Collector {
        fn service<F>(&mut self, handler: F) -> &mut Self
        where
            F: HttpServiceFactory + OpenApiFactory + 'static,
        {
            handler.schemas(&mut self.0);
            self
        }
    }

    fn all_references() -> References {
        let mut collector = Collector(Vec::new());
        crate::routes::root(&mut collector);
        crate::routes::api_v1(&mut collector, true);
        let mut out = collector.0;
        // The components listed by name in `ApiDoc`.
        for (name, schema) in [
            (
                crate::error::ProblemBody::name(),
                crate::error::ProblemBody::schema(),
            ),
            (
                crate::error::FieldErrorBody::name(),
                crate::error::FieldErrorBody::schema(),
            ),
        ] {
            out.push((name.into_owned(), schema));
        }
        crate::error::ProblemBody::schemas(&mut out);
        out
    }

    /// The names that arrive with more than one distinct schema.
    fn clashes(references: &References) -> BTreeMap<String, usize> {
        let mut seen: BTreeMap<&str, Vec<serde_json::Value>> = BTreeMap::new();
        for (name, schema) in references {
            let json = serde_json::to_value(schema).unwrap_or_default();
            let variants = seen.entry(name).or_default();
            if !variants.contains(&json) {
                variants.push(json);
            }
        }
        seen.into_iter()
            .filter(|(_, variants)| variants.len() > 1)
            .map(|(name, variants)| (name.to_owned(), variants.len()))
            .collect()
    }

    #[test]
    fn every_component_name_belongs_to_one_rust_type() {
        let references = all_references();
        let clashes = clashes(&references);
        assert!(
            clashes.is_empty(),
            "several Rust types share these component names (name → number of different \
             schemas); give each its own with #[schema(as = …)]: {clashes:?}"
        );
        // The collection is the document's: no component comes from anywhere else.
        let collected: std::collections::BTreeSet<&str> =
            references.iter().map(|(n, _)| n.as_str()).collect();
        let document = super::document();
        let components = document.components.as_ref().map(|c| &c.schemas);
        let documented: std::collections::BTreeSet<&str> = components
            .into_iter()
            .flat_map(|s| s.keys().map(String::as_str))
            .collect();
        assert_eq!(collected, documented);
    }

    /// Two distinct types with one name (here through `as`, as two modules' `Status` enums
    /// would by their type names) are caught.
    #[test]
    fn two_types_with_one_name_are_a_clash() {
        #[derive(utoipa::ToSchema)]
        #[schema(as = Twin)]
        #[allow(dead_code)]
        enum First {
            Open,
            Closed,
        }
        #[derive(utoipa::ToSchema)]
        #[schema(as = Twin)]
        #[allow(dead_code)]
        struct Second {
            findings: Vec<String>,
        }
        let mut references = all_references();
        references.push((First::name().into_owned(), First::schema()));
        assert!(clashes(&references).is_empty());
        references.push((Second::name().into_owned(), Second::schema()));
        assert_eq!(clashes(&references).get("Twin"), Some(&2));
    }
}
