//! Customer history over HTTP: `customer_id` on `/v1/analyze` and batch items stores the contact (on the
//! history thread, after the model has run) and adds `customer` to the analysis; `GET
//! /v1/customers/{id}` returns the state (404 for an unknown customer); `GET /v1/customers` lists customers
//! by id (`?high_risk=true` only the high-risk ones, `&limit=N`).

use super::error::{ApiError, ErrorBody};
use super::types::{CustomerListSchema, CustomerSchema};
use super::AppState;
use crate::analysis::Analysis;
use crate::risk::history::{check_id, CustomerState, HistoryError};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::Json;

impl From<HistoryError> for ApiError {
    fn from(e: HistoryError) -> Self {
        match e {
            HistoryError::BadId(_) => ApiError::InvalidRequest(format!("customer_id: {e}")),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// Checks a request's customer id before any work is done.
pub fn check(id: Option<&str>) -> Result<(), ApiError> {
    match id {
        Some(id) => check_id(id).map_err(ApiError::from),
        None => Ok(()),
    }
}

/// Stores the contact of an analysis and adds the customer's state to it.
pub async fn record(st: &AppState, id: &str, a: &mut Analysis) -> Result<(), ApiError> {
    let policy = st.engine.analyzer().policy.clone();
    let contact = a.contact(&policy, st.history.store_text);
    let state = st.history.record_async(id, contact).await?;
    a.set_customer(state, &policy);
    Ok(())
}

/// A customer's history: contacts, negative contacts in a row, high-risk flag and rolling risk score.
#[utoipa::path(get, path = "/v1/customers/{id}",
    params(("id" = String, Path, description = "Customer id (1 to 128 bytes)")),
    responses(
        (status = 200, description = "The customer's state", body = CustomerSchema),
        (status = 404, description = "No contact stored for this customer", body = ErrorBody),
        (status = 422, description = "Invalid customer id", body = ErrorBody),
    ))]
pub async fn get_customer(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<CustomerState>, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::InvalidRequest(e.body_text()))?;
    check(Some(&id))?;
    match st.history.customer_async(&id).await? {
        Some(c) => Ok(Json(c)),
        None => Err(ApiError::NotFound(format!("no customer {id}"))),
    }
}

/// The most customers one `GET /v1/customers` returns, and the default.
pub const MAX_LIST: usize = 10_000;
pub const DEFAULT_LIST: usize = 1_000;

/// The query of `GET /v1/customers`: `high_risk` (true/false/1/0) and `limit` (1 to [`MAX_LIST`]); anything
/// else is an error, so that a misspelt filter does not silently list everyone.
fn list_query(query: Option<&str>) -> Result<(bool, usize), ApiError> {
    let (mut high_risk, mut limit) = (false, DEFAULT_LIST);
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "high_risk" => {
                high_risk = match value {
                    "true" | "1" | "" => true,
                    "false" | "0" => false,
                    _ => {
                        return Err(ApiError::InvalidRequest(format!(
                            "high_risk: {value:?} is not true or false"
                        )))
                    }
                }
            }
            "limit" => {
                limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_LIST).contains(n))
                    .ok_or_else(|| {
                        ApiError::InvalidRequest(format!(
                            "limit: {value:?} is not a number from 1 to {MAX_LIST}"
                        ))
                    })?;
            }
            other => {
                return Err(ApiError::InvalidRequest(format!(
                    "unknown query parameter {other:?}; use high_risk and limit"
                )))
            }
        }
    }
    Ok((high_risk, limit))
}

/// Customers by id: every one, or with `high_risk=true` only the high-risk ones (the CLI's `customers
/// [--high-risk]`).
#[utoipa::path(get, path = "/v1/customers",
    params(
        ("high_risk" = Option<bool>, Query, description = "Only high-risk customers (default false)"),
        ("limit" = Option<usize>, Query, description = "At most this many, 1 to 10000 (default 1000)"),
    ),
    responses(
        (status = 200, description = "Customers by id", body = CustomerListSchema),
        (status = 422, description = "A query parameter that is unknown or out of range", body = ErrorBody),
    ))]
pub async fn list_customers(
    State(st): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (high_risk, limit) = list_query(query.as_deref())?;
    let mut customers = st.history.list_async(high_risk).await?;
    let truncated = customers.len() > limit;
    customers.truncate(limit);
    Ok(Json(
        serde_json::json!({ "customers": customers, "truncated": truncated }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_queries() {
        assert_eq!(list_query(None).unwrap(), (false, DEFAULT_LIST));
        assert_eq!(
            list_query(Some("high_risk=true&limit=5")).unwrap(),
            (true, 5)
        );
        assert_eq!(
            list_query(Some("high_risk=0")).unwrap(),
            (false, DEFAULT_LIST)
        );
        for bad in [
            "high_risk=maybe",
            "limit=0",
            "limit=10001",
            "limit=x",
            "highrisk=1",
        ] {
            assert!(
                matches!(list_query(Some(bad)), Err(ApiError::InvalidRequest(_))),
                "{bad}"
            );
        }
    }
}
