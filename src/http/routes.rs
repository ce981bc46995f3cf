//! Which methods each documented path accepts, so that a known path asked with another method
//! answers `405 Method Not Allowed` with an `Allow` header (RFC 9110 §15.5.6) instead of 404.
//!
//! actix routes each `#[get]`/`#[post]` handler as its own resource guarded by its method, so a
//! wrong method falls through to the default service like an unknown path; the OpenAPI
//! document is the one list of every path and method, so the table is built from it.

use actix_web::dev::HttpServiceFactory;
use actix_web::http::Method;
use utoipa::openapi::OpenApi;
use utoipa_actix_web::OpenApiFactory;
use utoipa_actix_web::service_config::ServiceConfig;

/// Where a capability registers its handlers (its `routes::configure`), each once: the app
/// serves what is registered and the OpenAPI document lists the same registration (each
/// handler's `#[utoipa::path]`, collected by utoipa-actix-web). Generic so that a test can walk
/// the registration too (the component-name check in `openapi`).
pub trait Register {
    fn service<F>(&mut self, handler: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static;
}

/// Collects each handler's OpenAPI path as it registers it (`openapi::document`).
impl Register for ServiceConfig<'_> {
    fn service<F>(&mut self, handler: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static,
    {
        ServiceConfig::service(self, handler)
    }
}

/// Registers the handler only: the app of each HTTP worker (`startup`), which serves the
/// document built once instead of collecting its own.
impl Register for actix_web::web::ServiceConfig {
    fn service<F>(&mut self, handler: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static,
    {
        actix_web::web::ServiceConfig::service(self, handler)
    }
}

/// Path templates (`/api/v1/pool/{institution_id}`) with the methods they accept.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<Segment>, Vec<Method>)>,
}

#[derive(Debug, PartialEq)]
enum Segment {
    Literal(String),
    Parameter,
}

impl RouteTable {
    pub fn from_openapi(doc: &OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let methods = [
                    (Method::GET, item.get.is_some()),
                    // Every GET also answers HEAD (the middleware routes HEAD as GET).
                    (Method::HEAD, item.get.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                ]
                .into_iter()
                .filter_map(|(method, present)| present.then_some(method))
                .collect();
                (segments(template), methods)
            })
            .collect();
        Self { routes }
    }

    /// Adds paths that are not in the OpenAPI document (the portal's pages).
    pub fn with(mut self, extra: &[(&str, &[Method])]) -> Self {
        self.routes.extend(
            extra
                .iter()
                .map(|(template, methods)| (segments(template), methods.to_vec())),
        );
        self
    }

    /// The methods a path accepts, or `None` when no documented path matches it.
    pub fn allowed(&self, path: &str) -> Option<Vec<Method>> {
        let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let mut allowed: Vec<Method> = Vec::new();
        for (template, methods) in &self.routes {
            let matches = template.len() == parts.len()
                && template.iter().zip(&parts).all(|(t, p)| match t {
                    Segment::Literal(l) => l == p,
                    Segment::Parameter => !p.is_empty(),
                });
            if matches {
                for method in methods {
                    if !allowed.contains(method) {
                        allowed.push(method.clone());
                    }
                }
            }
        }
        (!allowed.is_empty()).then_some(allowed)
    }
}

fn segments(template: &str) -> Vec<Segment> {
    template
        .trim_end_matches('/')
        .split('/')
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                Segment::Parameter
            } else {
                Segment::Literal(s.to_owned())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_path_is_known_with_its_methods() {
        let table = RouteTable::from_openapi(&crate::openapi::document());
        let get = || vec![Method::GET, Method::HEAD];
        assert_eq!(table.allowed("/api/v1/pool"), Some(get()));
        assert_eq!(
            table.allowed("/api/v1/applications/17"),
            Some(vec![Method::GET, Method::HEAD, Method::PUT])
        );
        // A literal segment and a parameter at the same place: both templates match.
        assert_eq!(table.allowed("/api/v1/pool/export.csv"), Some(get()));
        assert_eq!(table.allowed("/api/v1/nope"), None);
        assert_eq!(table.allowed("/api/v1/applications//submit"), None);
    }
}
