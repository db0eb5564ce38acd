//! xinsheng (心声): reads the voice of Chinese customers — sentiment, emotion, complaint categories, risk,
//! keywords and PII-masked text for customer-service text and conversations.

pub mod analysis;
pub mod batch;
pub mod config;
pub mod json_object;
pub mod model;
pub mod risk;
pub mod server;
pub mod text;
pub mod train;
