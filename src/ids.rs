//! Typed identifiers, so a user id cannot be passed where an organisation id is meant.
//! They are UUIDv7 (time-ordered, so keyset pagination by id follows creation order),
//! stored as text on both backends.

use crate::error::{AppError, AppResult};

macro_rules! id_type {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = String, format = Uuid)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7())
            }
            /// Reads an id the database holds; a malformed one is a storage fault.
            pub fn from_db(value: &str) -> AppResult<Self> {
                uuid::Uuid::parse_str(value)
                    .map(Self)
                    .map_err(|_| AppError::internal(concat!("malformed ", stringify!($name), " in the database")))
            }
            pub fn to_db(self) -> String {
                self.0.to_string()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(UserId, OrganisationId, NetworkId, SessionId, AuditEventId);
