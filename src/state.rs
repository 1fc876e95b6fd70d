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
    /// The keys that seal recovery content (passed on by the `recovery` handlers only) and
    /// second-factor secrets (by the sign-in handlers).
    pub sealing_keys: Arc<Keyring>,
}
