//! Where each email sends its reader: the page of the web face where they act on it. A
//! reader who is not signed in signs in first and then lands there.

pub fn queue() -> String {
    "/queue".into()
}

pub fn signoff_decision(signoff: &str) -> String {
    format!("/queue/signoffs/{signoff}")
}

pub fn competency(competency: &str) -> String {
    format!("/competencies/{competency}")
}

pub fn training_record(record: &str) -> String {
    format!("/training/{record}")
}

pub fn training() -> String {
    "/training".into()
}

/// The worker's own pathway, or for anyone else the worker's page.
pub fn pathway_of(worker: &str, reader_is_worker: bool) -> String {
    if reader_is_worker {
        "/".into()
    } else {
        format!("/supervisees/{worker}")
    }
}

pub fn new_checkin() -> String {
    "/recovery/checkins/new".into()
}

pub fn supervisee_recovery(worker: &str) -> String {
    format!("/supervisees/{worker}/recovery")
}

pub fn home() -> String {
    "/".into()
}
