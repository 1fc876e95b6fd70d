//! What every request handler can reach: the database, identity services, settings.

use std::sync::Arc;

use crate::config::Settings;
use crate::crypto::Keyring;
use crate::db::Database;
use crate::identity::Identity;
use crate::notifications::Notifications;

pub struct AppState {
    pub db: Database,
    pub identity: Arc<Identity>,
    pub notifications: Arc<Notifications>,
    pub settings: Arc<Settings>,
    /// The keys of recovery content; only `recovery` handlers pass it on.
    pub recovery_keys: Arc<Keyring>,
}
