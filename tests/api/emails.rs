//! Snapshots of every email as rendered (subject, text, HTML), with fixed values.
//! `cargo insta review` (or INSTA_UPDATE=always) accepts a deliberate change.

use peerpath::notifications::Kind;
use peerpath::notifications::templates::{Context, Templates};
use serde_json::{Value, json};

fn render(kind: Kind, values: Value) -> String {
    let templates = Templates::load().unwrap();
    let rendered = templates
        .render(
            kind,
            &Context {
                recipient_name: "Robin <Peer>".into(),
                organisation_name: Some("Hepatitis C Trust & Friends".into()),
                values,
            },
        )
        .unwrap();
    format!(
        "Subject: {}\n\n--- text ---\n{}\n--- html ---\n{}",
        rendered.subject, rendered.text, rendered.html
    )
}

const LINK: &str = "https://peerpath.example.org/account/set-password?token=TOKEN";

#[test]
fn invitation_email() {
    insta::assert_snapshot!(render(
        Kind::Invitation,
        json!({"link": LINK, "expires": "5 December 2026 at 09:00 UTC", "inviter_name": "Sam Manager"})
    ));
}

#[test]
fn password_reset_email() {
    insta::assert_snapshot!(render(
        Kind::PasswordReset,
        json!({"link": LINK, "expires": "28 November 2026 at 15:00 UTC"})
    ));
}

#[test]
fn password_changed_email() {
    insta::assert_snapshot!(render(
        Kind::PasswordChanged,
        json!({"when": "28 November 2026 at 14:00 UTC", "link": "https://peerpath.example.org/account/reset-password"})
    ));
}

#[test]
fn network_joined_email() {
    insta::assert_snapshot!(render(
        Kind::NetworkJoined,
        json!({"network_name": "North West HCV Peers", "network_scope": "local",
               "link": "https://peerpath.example.org/api/v1/networks/1"})
    ));
}

#[test]
fn digest_email() {
    insta::assert_snapshot!(render(
        Kind::Digest,
        json!({"items": ["A joined the B network", "C joined the D network"],
               "link": "https://peerpath.example.org/"})
    ));
}

#[test]
fn html_is_escaped_and_no_value_goes_missing() {
    let out = render(
        Kind::Invitation,
        json!({"link": LINK, "expires": "soon", "inviter_name": "<script>"}),
    );
    assert!(out.contains("&lt;script&gt;") && out.contains("Robin &lt;Peer&gt;"));
    // Strict undefined: a template asking for a value nobody gave fails loudly.
    let templates = Templates::load().unwrap();
    assert!(
        templates
            .render(
                Kind::Invitation,
                &Context {
                    recipient_name: "x".into(),
                    organisation_name: None,
                    values: json!({}),
                }
            )
            .is_err()
    );
}

#[test]
fn signoff_requested_email() {
    insta::assert_snapshot!(render(
        Kind::SignoffRequested,
        json!({"worker_name": "Robin", "competency_title": "Able to collect a dried blood spot sample",
               "link": "https://peerpath.example.org/api/v1/supervisor-queue"})
    ));
}

#[test]
fn signoff_decided_emails() {
    for signed_off in [true, false] {
        insta::assert_snapshot!(
            format!("signoff_decided_{signed_off}"),
            render(
                Kind::SignoffDecided,
                json!({"signed_off": signed_off, "competency_title": "Able to give harm-reduction advice",
                       "decider_name": "Sam Supervisor", "link": "https://peerpath.example.org/api/v1/signoffs/1"})
            )
        );
    }
}

#[test]
fn training_rejected_email() {
    insta::assert_snapshot!(render(
        Kind::TrainingRejected,
        json!({"module_title": "Safeguarding adults and children", "decider_name": "Sam Supervisor",
               "link": "https://peerpath.example.org/api/v1/training-records/1"})
    ));
}

#[test]
fn training_expiring_email() {
    insta::assert_snapshot!(render(
        Kind::TrainingExpiring,
        json!({"items": [{"title": "Dried blood spot testing", "expires": "8 December 2026"},
                         {"title": "FibroScan operation", "expires": "20 December 2026"}],
               "link": "https://peerpath.example.org/api/v1/workers/1/training-records"})
    ));
}

#[test]
fn signoffs_waiting_email() {
    insta::assert_snapshot!(render(
        Kind::SignoffsWaiting,
        json!({"count": 3, "days": 7, "link": "https://peerpath.example.org/api/v1/supervisor-queue"})
    ));
}

#[test]
fn progression_decided_emails() {
    for (approved, own) in [(true, true), (true, false), (false, true), (false, false)] {
        insta::assert_snapshot!(
            format!("progression_decided_{approved}_{own}"),
            render(
                Kind::ProgressionDecided,
                json!({"approved": approved, "own": own, "worker_name": "Robin <Ashworth>",
                       "stage_name": "Advanced peer support worker", "effective_on": "1 December 2026",
                       "link": "https://peerpath.example.org/api/v1/workers/1/pathway"})
            )
        );
    }
}

#[test]
fn pay_step_at_risk_emails() {
    for own in [true, false] {
        insta::assert_snapshot!(
            format!("pay_step_at_risk_{own}"),
            render(
                Kind::PayStepAtRisk,
                json!({"own": own, "worker_name": "Robin Ashworth", "due_on": "8 December 2026",
                       "missing": ["Safeguarding expires on 1 December 2026, before 8 December 2026",
                                   "No appraisal recorded: hold one on or after 8 December 2025"],
                       "link": "https://peerpath.example.org/api/v1/workers/1/pathway"})
            )
        );
    }
}

#[test]
fn contact_requested_email() {
    insta::assert_snapshot!(render(
        Kind::ContactRequested,
        json!({"worker_name": "Robin Ashworth",
               "link": "https://peerpath.example.org/api/v1/workers/1/checkins"})
    ));
}

#[test]
fn checkin_emails() {
    insta::assert_snapshot!(
        "checkin_due",
        render(
            Kind::CheckinDue,
            json!({"due_on": "8 December 2026",
                   "link": "https://peerpath.example.org/api/v1/workers/1/checkins"})
        )
    );
    insta::assert_snapshot!(
        "checkin_missed",
        render(
            Kind::CheckinMissed,
            json!({"worker_name": "Robin Ashworth", "due_on": "8 December 2026",
                   "link": "https://peerpath.example.org/api/v1/workers/1/checkins"})
        )
    );
}
