//! Customer history over HTTP: `customer_id` on `/v1/analyze` and batch items stores the contact (on the
//! history thread, after the model has run) and adds `customer` to the analysis; `GET
//! /v1/customers/{id}` returns the state (404 for an unknown customer).

use super::error::{ApiError, ErrorBody};
use super::types::CustomerSchema;
use super::AppState;
use crate::analysis::Analysis;
use crate::risk::history::{check_id, CustomerState, HistoryError};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
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
