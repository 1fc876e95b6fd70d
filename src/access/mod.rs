//! Who is asking and what they may do: the role, the authenticated caller, and the policy
//! every decision consults. The low kernel of identity: `audit` and `notifications` use it
//! without knowing accounts, sessions or passwords (`identity`), which use them in turn.

pub mod authz;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{OrganisationId, SessionId, UserId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    ProgrammeManager,
    Supervisor,
    PeerWorker,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::ProgrammeManager => "programme_manager",
            Self::Supervisor => "supervisor",
            Self::PeerWorker => "peer_worker",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::Admin,
            Self::ProgrammeManager,
            Self::Supervisor,
            Self::PeerWorker,
        ]
        .into_iter()
        .find(|r| r.as_str() == value)
    }
}

/// The authenticated caller of one request.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: UserId,
    pub role: Role,
    pub organisation_id: Option<OrganisationId>,
    pub session_id: SessionId,
    pub request_id: Option<String>,
}
