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
