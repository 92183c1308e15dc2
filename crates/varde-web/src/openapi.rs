//! The OpenAPI document's edge responses. Handlers declare what their domain answers (200, 404 for an unknown id,
//! 422 for a value that makes no sense); what the HTTP edge answers for every route of a kind is added here from the
//! operation's shape, so it cannot be forgotten on one route: 401 where a token is needed, 400/413/415 where a JSON
//! body is read, 400 where a query is parsed, 404 where a path names something, 503 where the database is used.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

fn error(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
            .build(),
    )
}

fn add(op: &mut Operation, status: &str, description: &str) {
    op.responses.responses.entry(status.to_owned()).or_insert_with(|| error(description));
}

/// Makes every operationId unique, as OpenAPI requires (client generators name functions after them): utoipa
/// takes the handler's name, and several modules have a `list`, `get` or `create`. A name used more than once gets
/// its path added ("list" on /api/v1/alerts becomes "list_alerts"); a unique name stays as it is.
pub fn unique_operation_ids(doc: &mut OpenApi) {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for item in doc.paths.paths.values() {
        let ops = [&item.get, &item.post, &item.put, &item.patch, &item.delete];
        for id in ops.into_iter().flatten().filter_map(|op| op.operation_id.clone()) {
            *seen.entry(id).or_insert(0) += 1;
        }
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let slug: String = path
            .trim_start_matches("/api/v1/")
            .trim_start_matches('/')
            .replace(['{', '}'], "")
            .replace(['/', '-', '.'], "_");
        let ops = [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
        for op in ops.into_iter().flatten() {
            if let Some(id) = op.operation_id.as_mut().filter(|id| seen.get(*id).is_some_and(|n| *n > 1)) {
                *id = format!("{id}_{slug}");
            }
        }
    }
}

/// Adds the edge's responses to every operation of `doc`.
pub fn document_edge_responses(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
        for op in ops.into_iter().flatten() {
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let params = op.parameters.as_deref().unwrap_or_default();
            let in_path = params.iter().any(|p| matches!(p.parameter_in, ParameterIn::Path));
            let in_query = params.iter().any(|p| matches!(p.parameter_in, ParameterIn::Query));
            let json_body = op.request_body.as_ref().is_some_and(|b| b.content.contains_key("application/json"));
            let body = op.request_body.is_some();
            if secured {
                add(op, "401", "missing_token or invalid_token: no valid `Authorization: Bearer` token");
            }
            if json_body {
                add(op, "400", "malformed_json, invalid_field or unknown_field");
                add(op, "415", "unsupported_media_type: the body is not application/json");
            }
            if body {
                add(op, "413", "payload_too_large");
            }
            if in_query {
                add(op, "400", "invalid_field: a query parameter that does not parse");
            }
            if in_path {
                add(op, "404", "not_found: the path names nothing (an unknown or malformed id or code)");
            }
            if path != "/metrics" {
                add(op, "503", "storage_unavailable: the database cannot answer or take writes now");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// The document the server serves has one operation per operationId.
    #[test]
    fn every_operation_id_is_unique() {
        let (_, mut doc) = crate::api::routes(utoipa_axum::router::OpenApiRouter::with_openapi(
            <crate::ApiDoc as utoipa::OpenApi>::openapi(),
        ))
        .split_for_parts();
        super::unique_operation_ids(&mut doc);
        let mut ids = Vec::new();
        for item in doc.paths.paths.values() {
            let ops = [&item.get, &item.post, &item.put, &item.patch, &item.delete];
            ids.extend(ops.into_iter().flatten().map(|op| op.operation_id.clone().expect("every operation is named")));
        }
        let all = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all, "{ids:?}");
        assert!(ids.contains(&"list_alerts".to_owned()), "{ids:?}");
    }
}
