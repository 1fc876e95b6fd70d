//! The kinds of email peerpath sends, and which of them a person may turn off.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Invitation,
    PasswordReset,
    PasswordChanged,
    SecondFactorReset,
    NetworkJoined,
    SignoffRequested,
    SignoffDecided,
    TrainingRejected,
    TrainingExpiring,
    SignoffsWaiting,
    ProgressionDecided,
    PayStepAtRisk,
    ContactRequested,
    WellbeingAlert,
    CheckinDue,
    CheckinMissed,
    Digest,
}

pub const ALL: &[Kind] = &[
    Kind::Invitation,
    Kind::PasswordReset,
    Kind::PasswordChanged,
    Kind::SecondFactorReset,
    Kind::NetworkJoined,
    Kind::SignoffRequested,
    Kind::SignoffDecided,
    Kind::TrainingRejected,
    Kind::TrainingExpiring,
    Kind::SignoffsWaiting,
    Kind::ProgressionDecided,
    Kind::PayStepAtRisk,
    Kind::ContactRequested,
    Kind::WellbeingAlert,
    Kind::CheckinDue,
    Kind::CheckinMissed,
    Kind::Digest,
];

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::PasswordReset => "password_reset",
            Self::PasswordChanged => "password_changed",
            Self::SecondFactorReset => "second_factor_reset",
            Self::NetworkJoined => "network_joined",
            Self::SignoffRequested => "signoff_requested",
            Self::SignoffDecided => "signoff_decided",
            Self::TrainingRejected => "training_rejected",
            Self::TrainingExpiring => "training_expiring",
            Self::SignoffsWaiting => "signoffs_waiting",
            Self::ProgressionDecided => "progression_decided",
            Self::PayStepAtRisk => "pay_step_at_risk",
            Self::ContactRequested => "contact_requested",
            Self::WellbeingAlert => "wellbeing_alert",
            Self::CheckinDue => "checkin_due",
            Self::CheckinMissed => "checkin_missed",
            Self::Digest => "digest",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        ALL.iter().copied().find(|k| k.as_str() == value)
    }

    /// Safety-relevant kinds (account security now; raised risk and call requests later)
    /// always go out at once: they cannot be muted or held for a digest.
    pub fn is_safety_relevant(self) -> bool {
        matches!(
            self,
            Self::Invitation
                | Self::PasswordReset
                | Self::PasswordChanged
                | Self::SecondFactorReset
                | Self::ContactRequested
                | Self::WellbeingAlert
        )
    }

    /// Routine kinds may be muted, or gathered into the daily digest.
    pub fn is_routine(self) -> bool {
        matches!(
            self,
            Self::NetworkJoined
                | Self::SignoffRequested
                | Self::SignoffDecided
                | Self::TrainingRejected
                | Self::TrainingExpiring
                | Self::SignoffsWaiting
                | Self::ProgressionDecided
                | Self::PayStepAtRisk
                | Self::CheckinDue
                | Self::CheckinMissed
        )
    }

    /// The body holds a single-use link, so it is blanked once delivered.
    pub fn carries_secret(self) -> bool {
        matches!(self, Self::Invitation | Self::PasswordReset)
    }
}
