//! Authorisation policies, one function per decision, deny by default. A record of another
//! organisation answers 404 (its existence is not disclosed); a visible record the caller may
//! not act on answers 403.

use super::{Actor, Role};
use crate::error::{AppError, AppResult};
use crate::ids::OrganisationId;

/// Which records a list may show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    All,
    Organisation(OrganisationId),
}

const NOT_ALLOWED: &str = "Your role does not allow this.";

fn forbidden() -> AppError {
    AppError::Forbidden(NOT_ALLOWED)
}

/// Admins see every organisation; everyone else only their own.
pub fn can_see_organisation(actor: &Actor, organisation: OrganisationId) -> AppResult<()> {
    match actor.role {
        Role::Admin => Ok(()),
        Role::ProgrammeManager | Role::Supervisor | Role::PeerWorker => {
            if actor.organisation_id == Some(organisation) {
                Ok(())
            } else {
                Err(AppError::NotFound)
            }
        }
    }
}

pub fn organisation_scope(actor: &Actor) -> AppResult<Scope> {
    match actor.role {
        Role::Admin => Ok(Scope::All),
        Role::ProgrammeManager | Role::Supervisor | Role::PeerWorker => actor
            .organisation_id
            .map(Scope::Organisation)
            .ok_or_else(forbidden),
    }
}

pub fn can_manage_organisations(actor: &Actor) -> AppResult<()> {
    match actor.role {
        Role::Admin => Ok(()),
        Role::ProgrammeManager | Role::Supervisor | Role::PeerWorker => Err(forbidden()),
    }
}

/// Networks are managed by admins; members see the networks their organisation is in.
pub fn can_manage_networks(actor: &Actor) -> AppResult<()> {
    can_manage_organisations(actor)
}

/// Who may create an account of `role` in `organisation`.
pub fn can_create_user(
    actor: &Actor,
    role: Role,
    organisation: Option<OrganisationId>,
) -> AppResult<()> {
    match actor.role {
        Role::Admin => Ok(()),
        Role::ProgrammeManager => {
            if let Some(org) = organisation {
                can_see_organisation(actor, org)?;
            }
            match role {
                Role::Supervisor | Role::PeerWorker => Ok(()),
                Role::Admin | Role::ProgrammeManager => Err(AppError::Forbidden(
                    "Programme managers create supervisor and peer worker accounts only.",
                )),
            }
        }
        Role::Supervisor | Role::PeerWorker => Err(forbidden()),
    }
}

/// Who may read a user's account: themselves, an admin, a programme manager of the
/// same organisation.
pub fn can_view_user(
    actor: &Actor,
    target_id: &str,
    target_org: Option<OrganisationId>,
) -> AppResult<()> {
    if actor.user_id.to_string() == target_id {
        return Ok(());
    }
    let same_organisation = target_org.is_some() && target_org == actor.organisation_id;
    match actor.role {
        Role::Admin => Ok(()),
        Role::ProgrammeManager | Role::Supervisor | Role::PeerWorker if !same_organisation => {
            Err(AppError::NotFound)
        }
        Role::ProgrammeManager => Ok(()),
        Role::Supervisor | Role::PeerWorker => Err(forbidden()),
    }
}

pub fn can_list_users(actor: &Actor) -> AppResult<Scope> {
    match actor.role {
        Role::Admin => Ok(Scope::All),
        Role::ProgrammeManager => organisation_scope(actor),
        Role::Supervisor | Role::PeerWorker => Err(forbidden()),
    }
}

/// What an update of a user asks to change, for the policy to weigh.
pub struct UserChangeRequest {
    pub display_name: bool,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

/// Anyone may rename themselves; nobody changes their own role or active flag; an admin
/// changes anyone else; a programme manager changes the supervisors and peer workers of
/// their organisation, and may make them only supervisors or peer workers.
pub fn can_update_user(
    actor: &Actor,
    target_id: &str,
    target_role: Role,
    target_org: Option<OrganisationId>,
    change: &UserChangeRequest,
) -> AppResult<()> {
    can_view_user(actor, target_id, target_org)?;
    let is_self = actor.user_id.to_string() == target_id;
    if is_self {
        if change.role.is_some() || change.active.is_some() {
            return Err(AppError::Forbidden(
                "You cannot change your own role or active status.",
            ));
        }
        return Ok(());
    }
    match actor.role {
        Role::Admin => Ok(()),
        Role::ProgrammeManager => {
            let manageable = |r: Role| matches!(r, Role::Supervisor | Role::PeerWorker);
            if !manageable(target_role) || change.role.is_some_and(|r| !manageable(r)) {
                return Err(AppError::Forbidden(
                    "Programme managers manage supervisor and peer worker accounts only.",
                ));
            }
            Ok(())
        }
        Role::Supervisor | Role::PeerWorker => Err(forbidden()),
    }
}

pub fn can_read_audit(actor: &Actor) -> AppResult<Scope> {
    match actor.role {
        Role::Admin => Ok(Scope::All),
        Role::ProgrammeManager => organisation_scope(actor),
        Role::Supervisor | Role::PeerWorker => Err(forbidden()),
    }
}

/// The organisation of a programme manager, for actions only they take; `why` says what.
pub fn own_organisation_as_manager(actor: &Actor, why: &'static str) -> AppResult<OrganisationId> {
    match actor.role {
        Role::ProgrammeManager => actor.organisation_id.ok_or(AppError::Forbidden(why)),
        Role::Admin | Role::Supervisor | Role::PeerWorker => Err(AppError::Forbidden(why)),
    }
}

/// The caller's organisation, for reading what belongs to it (admins have none).
pub fn own_organisation(actor: &Actor) -> AppResult<OrganisationId> {
    actor.organisation_id.ok_or(AppError::Forbidden(
        "This belongs to an organisation; admins have none.",
    ))
}

/// In which capacity someone decides a progression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decider {
    ProgrammeManager,
    SecondApprover,
}

/// Who decides a progression: a programme manager of its organisation who did not propose
/// it; or, when no such manager is active (an organisation with one, who proposed it), the
/// second approver the organisation names (a supervisor of it, or an admin).
pub fn progression_decider(
    actor: &Actor,
    proposer: &str,
    second_approver: Option<&str>,
    another_manager_is_active: bool,
) -> AppResult<Decider> {
    let me = actor.user_id.to_db();
    if me == proposer {
        return Err(AppError::Forbidden(
            "You proposed this progression; someone else decides it.",
        ));
    }
    match actor.role {
        Role::ProgrammeManager => Ok(Decider::ProgrammeManager),
        Role::Supervisor | Role::Admin if second_approver == Some(me.as_str()) => {
            if another_manager_is_active {
                Err(AppError::Forbidden(
                    "Another programme manager decides this progression; the second approver \
                     decides only the proposals of an organisation's one programme manager.",
                ))
            } else {
                Ok(Decider::SecondApprover)
            }
        }
        Role::Supervisor | Role::Admin | Role::PeerWorker => Err(AppError::Forbidden(
            "Programme managers decide progressions.",
        )),
    }
}

/// Who withdraws a proposal: whoever made it, or a programme manager of its organisation.
pub fn can_withdraw_progression(actor: &Actor, proposer: &str) -> AppResult<()> {
    let refused = AppError::Forbidden("The proposer or a programme manager withdraws a proposal.");
    match actor.role {
        Role::ProgrammeManager => Ok(()),
        Role::Admin | Role::Supervisor | Role::PeerWorker if actor.user_id.to_db() == proposer => {
            Ok(())
        }
        Role::Admin | Role::Supervisor | Role::PeerWorker => Err(refused),
    }
}

/// Who has supervisees to list: supervisors (their own) and programme managers (everyone's).
pub fn can_list_supervisees(actor: &Actor) -> AppResult<()> {
    match actor.role {
        Role::Supervisor | Role::ProgrammeManager => Ok(()),
        Role::PeerWorker | Role::Admin => Err(AppError::Forbidden(
            "Supervisees are listed for supervisors and programme managers.",
        )),
    }
}

/// Whether a person must sign in with a second factor: their role is one the deployment
/// requires it of, or they supervise in an organisation that asks it of supervisors.
pub fn second_factor_required(
    role: Role,
    required_roles: &[Role],
    organisation_asks: bool,
) -> bool {
    if required_roles.contains(&role) {
        return true;
    }
    match role {
        Role::Supervisor => organisation_asks,
        Role::Admin | Role::ProgrammeManager | Role::PeerWorker => false,
    }
}

/// Admins reset a lost second factor, never their own (someone else checks who is asking).
pub fn can_reset_second_factor(actor: &Actor, target: crate::ids::UserId) -> AppResult<()> {
    match actor.role {
        Role::Admin if actor.user_id == target => Err(AppError::Forbidden(
            "Another admin resets your own two-step verification.",
        )),
        Role::Admin => Ok(()),
        Role::ProgrammeManager | Role::Supervisor | Role::PeerWorker => Err(AppError::Forbidden(
            "Only an admin can reset two-step verification.",
        )),
    }
}

/// The supervisor's queue is a supervisor's.
pub fn can_read_supervisor_queue(actor: &Actor) -> AppResult<()> {
    match actor.role {
        Role::Supervisor => Ok(()),
        Role::Admin | Role::ProgrammeManager | Role::PeerWorker => {
            Err(AppError::Forbidden("The queue is a supervisor's."))
        }
    }
}

/// An organisation's settings are changed by its programme managers and by admins.
pub fn can_change_organisation_settings(
    actor: &Actor,
    organisation: OrganisationId,
) -> AppResult<()> {
    can_see_organisation(actor, organisation)?;
    match actor.role {
        Role::Admin | Role::ProgrammeManager => Ok(()),
        Role::Supervisor | Role::PeerWorker => Err(AppError::Forbidden(
            "Programme managers change their organisation's settings.",
        )),
    }
}

/// Which members of a network a person sees: admins all, everyone else their own
/// organisation only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkView {
    Everyone,
    OwnOrganisation,
}

pub fn network_view(actor: &Actor) -> NetworkView {
    match actor.role {
        Role::Admin => NetworkView::Everyone,
        Role::ProgrammeManager | Role::Supervisor | Role::PeerWorker => {
            NetworkView::OwnOrganisation
        }
    }
}

/// Who keeps a salary band: admins the national ones (no organisation), programme managers
/// their organisation's.
pub fn can_keep_band(actor: &Actor, band_organisation: Option<&str>) -> bool {
    match (actor.role, band_organisation) {
        (Role::Admin, None) => true,
        (Role::ProgrammeManager, Some(org)) => {
            actor.organisation_id.map(|o| o.to_db()).as_deref() == Some(org)
        }
        (Role::Admin, Some(_))
        | (Role::ProgrammeManager, None)
        | (Role::Supervisor | Role::PeerWorker, _) => false,
    }
}

/// The organisation a new band belongs to: none for an admin's (national), the programme
/// manager's own for theirs.
pub fn organisation_of_new_band(actor: &Actor) -> AppResult<Option<OrganisationId>> {
    match actor.role {
        Role::Admin => Ok(None),
        Role::ProgrammeManager => Ok(actor.organisation_id),
        Role::Supervisor | Role::PeerWorker => Err(AppError::Forbidden(
            "Programme managers define their organisation's bands.",
        )),
    }
}

/// Progressions of the whole organisation are listed for its programme managers; anyone
/// else lists one worker's (whose visibility the worker relation decides).
pub fn can_list_organisation_progressions(actor: &Actor) -> AppResult<()> {
    match actor.role {
        Role::ProgrammeManager => Ok(()),
        Role::Admin | Role::Supervisor | Role::PeerWorker => Err(AppError::Forbidden(
            "Programme managers see the organisation's progressions; others see a worker's.",
        )),
    }
}

/// The email outbox is kept by admins (all of it) and programme managers (their
/// organisation's).
pub fn can_manage_outbox(actor: &Actor) -> AppResult<Scope> {
    match actor.role {
        Role::Admin | Role::ProgrammeManager => organisation_scope(actor),
        Role::Supervisor | Role::PeerWorker => Err(forbidden()),
    }
}

/// How the caller relates to a worker; decides what they may see and do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    Itself,
    CurrentSupervisor,
    Manager,
    Admin,
}

/// The caller's relation to a worker. Another organisation's worker is 404; a colleague
/// with no business with this worker (another supervisor, another peer worker) is 403.
pub fn relation_to_worker(
    actor: &Actor,
    worker: &str,
    worker_organisation: &str,
    worker_supervisor: Option<&str>,
) -> AppResult<Relation> {
    let me = actor.user_id.to_db();
    if me == worker {
        return Ok(Relation::Itself);
    }
    let same_organisation =
        actor.organisation_id.map(|o| o.to_db()).as_deref() == Some(worker_organisation);
    let refused = || {
        AppError::Forbidden("Only the worker, their supervisor and programme managers can do this.")
    };
    match actor.role {
        Role::Admin => Ok(Relation::Admin),
        Role::ProgrammeManager | Role::Supervisor | Role::PeerWorker if !same_organisation => {
            Err(AppError::NotFound)
        }
        Role::ProgrammeManager => Ok(Relation::Manager),
        Role::Supervisor if worker_supervisor == Some(me.as_str()) => {
            Ok(Relation::CurrentSupervisor)
        }
        Role::Supervisor | Role::PeerWorker => Err(refused()),
    }
}

/// Which workers a list shows: a manager the organisation's, a supervisor their
/// supervisees, a peer worker themselves; admins have no organisation's workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkerList {
    Organisation,
    Supervisees,
    Itself,
}

pub fn worker_list_scope(actor: &Actor) -> AppResult<WorkerList> {
    match actor.role {
        Role::ProgrammeManager => Ok(WorkerList::Organisation),
        Role::Supervisor => Ok(WorkerList::Supervisees),
        Role::PeerWorker => Ok(WorkerList::Itself),
        Role::Admin => Err(AppError::Forbidden("Workers belong to organisations.")),
    }
}

/// Who assesses a worker in a competency (decides sign-offs, records observations): the
/// worker's current supervisor, or a supervisor of the organisation who holds the
/// competency at assessor level (asked only when it matters). Never the worker; another
/// organisation's worker is 404.
pub fn may_assess(
    actor: &Actor,
    worker: &str,
    worker_organisation: &str,
    worker_supervisor: Option<&str>,
    holds_assessor_level: impl FnOnce() -> AppResult<bool>,
) -> AppResult<()> {
    let me = actor.user_id.to_db();
    if me == worker {
        return Err(AppError::Forbidden("You cannot assess yourself."));
    }
    let same_organisation =
        actor.organisation_id.map(|o| o.to_db()).as_deref() == Some(worker_organisation);
    match actor.role {
        Role::Admin => Err(AppError::Forbidden(
            "Sign-offs are decided by the worker's supervisor or an assessor.",
        )),
        Role::ProgrammeManager | Role::Supervisor | Role::PeerWorker if !same_organisation => {
            Err(AppError::NotFound)
        }
        Role::Supervisor if worker_supervisor == Some(me.as_str()) || holds_assessor_level()? => {
            Ok(())
        }
        Role::Supervisor | Role::ProgrammeManager | Role::PeerWorker => Err(AppError::Forbidden(
            "Only the worker's current supervisor, or a supervisor who assesses this competency, can do this.",
        )),
    }
}

/// Whether someone refused a worker's records may still read the observations of the
/// competencies they assess: supervisors (assessors) only.
pub fn may_read_assessed_observations(actor: &Actor) -> bool {
    match actor.role {
        Role::Supervisor => true,
        Role::Admin | Role::ProgrammeManager | Role::PeerWorker => false,
    }
}

/// A part a person may be named to by someone else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Holds a competency at assessor level.
    Assessor,
    /// Holds an appraisal.
    Appraiser,
    /// Supervises a worker.
    Supervisor,
    /// Has a peer worker's profile.
    PeerWorkerProfile,
    /// Decides the proposals of an organisation's only programme manager.
    SecondApprover,
}

/// Whether an account of `role` (as stored) may be named to `part`; `same_organisation`
/// says whether it belongs to the organisation concerned (an admin belongs to none).
pub fn may_take_part(role: &str, part: Part, same_organisation: bool) -> bool {
    let Some(role) = Role::parse(role) else {
        return false;
    };
    match part {
        Part::Assessor | Part::Supervisor => match role {
            Role::Supervisor => same_organisation,
            Role::Admin | Role::ProgrammeManager | Role::PeerWorker => false,
        },
        Part::Appraiser => match role {
            Role::Supervisor | Role::ProgrammeManager => same_organisation,
            Role::Admin | Role::PeerWorker => false,
        },
        Part::PeerWorkerProfile => match role {
            Role::PeerWorker => same_organisation,
            Role::Admin | Role::ProgrammeManager | Role::Supervisor => false,
        },
        Part::SecondApprover => match role {
            Role::Admin => true,
            Role::Supervisor => same_organisation,
            Role::ProgrammeManager | Role::PeerWorker => false,
        },
    }
}

/// Whether someone outside an organisation reaches its progression: only an admin it names
/// as its second approver.
pub fn reaches_progression_as_second_approver(actor: &Actor, named: bool) -> bool {
    match actor.role {
        Role::Admin => named,
        Role::ProgrammeManager | Role::Supervisor | Role::PeerWorker => false,
    }
}

/// Every account but an admin's belongs to one organisation.
pub fn belongs_to_an_organisation(role: Role) -> bool {
    match role {
        Role::Admin => false,
        Role::ProgrammeManager | Role::Supervisor | Role::PeerWorker => true,
    }
}

/// The organisation of an account about to be made: a programme manager's own when they
/// name none; as asked otherwise.
pub fn organisation_of_new_account(
    actor: &Actor,
    asked: Option<OrganisationId>,
) -> Option<OrganisationId> {
    match actor.role {
        Role::ProgrammeManager => asked.or(actor.organisation_id),
        Role::Admin | Role::Supervisor | Role::PeerWorker => asked,
    }
}

/// Whose own recovery data there can be (to download, erase, see who read it): peer workers.
pub fn keeps_recovery_data(role: Role) -> bool {
    match role {
        Role::PeerWorker => true,
        Role::Admin | Role::ProgrammeManager | Role::Supervisor => false,
    }
}

/// Whether the person who entered a pay table still keeps it beside `actor` (active, of the
/// same role and organisation): then they, not `actor`, correct it.
pub fn author_still_keeps(
    actor: &Actor,
    author_role: &str,
    author_organisation: Option<&str>,
    author_active: bool,
) -> bool {
    let same_organisation =
        author_organisation == actor.organisation_id.map(|o| o.to_db()).as_deref();
    author_active && same_organisation && Role::parse(author_role) == Some(actor.role)
}

#[cfg(test)]
mod tests {
    /// Every decision here names every role, so that a new role does not compile until
    /// each decision says what it may do: no wildcard arm.
    #[test]
    fn no_decision_has_a_wildcard_arm() {
        let source = include_str!("authz.rs");
        let code = source.split("#[cfg(test)]").next().unwrap_or_default();
        for (n, line) in code.lines().enumerate() {
            let line = line.trim_start();
            assert!(
                !(line.starts_with("_ =>") || line.starts_with("_ if") || line.starts_with("(_,")),
                "authz.rs line {}: a wildcard arm: {line}",
                n + 1
            );
        }
    }
}
