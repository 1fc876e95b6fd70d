//! What every request handler can reach: the database, identity services, settings.

use std::sync::Arc;

use crate::config::Settings;
use crate::db::Database;
use crate::identity::Identity;

pub struct AppState {
    pub db: Database,
    pub identity: Arc<Identity>,
    pub settings: Arc<Settings>,
}
