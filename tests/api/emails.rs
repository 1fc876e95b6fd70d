//! Snapshots of every email as rendered (subject, text, HTML), with fixed values.
//! `cargo insta review` (or INSTA_UPDATE=always) accepts a deliberate change.

use peerpath::notifications::Kind;
use peerpath::notifications::templates::{Context, Templates};
use serde_json::{Value, json};

fn render(kind: Kind, values: Value) -> String {
    render_to(kind, values, Some("Sam <Peer>"))
}

/// The first word said twice in a row within a block of text, outside the markup
/// ("network network"); a paragraph, line or title ends a block.
fn repeated_word(text: &str) -> Option<String> {
    const BLOCKS: &[&str] = &[
        "p", "br", "div", "li", "title", "head", "body", "html", "h1", "h2",
    ];
    let mut plain = String::new();
    let mut tag: Option<String> = None;
    for c in text.chars() {
        match (&mut tag, c) {
            (None, '<') => tag = Some(String::new()),
            (Some(name), '>') => {
                let name = name
                    .trim_start_matches('/')
                    .split_whitespace()
                    .next()
                    .unwrap_or("");
                plain.push(if BLOCKS.contains(&name) { '\n' } else { ' ' });
                tag = None;
            }
            (Some(name), c) => name.push(c),
            (None, c) => plain.push(c),
        }
    }
    plain.split('\n').find_map(|block| {
        let words: Vec<String> = block
            .split_whitespace()
            .filter(|token| !token.contains("://"))
            .flat_map(|token| token.split(|c: char| !c.is_alphabetic()))
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        words
            .windows(2)
            .find(|pair| pair[0] == pair[1])
            .map(|pair| pair[0].clone())
    })
}

fn render_to(kind: Kind, values: Value, first_name: Option<&str>) -> String {
    let templates = Templates::load().unwrap();
    let rendered = templates
        .render(
            kind,
            &Context {
                recipient_name: "Sam <Peer> Okafor".into(),
                first_name: first_name.map(str::to_string),
                organisation_name: Some("Hepatitis C Trust & Friends".into()),
                values,
            },
        )
        .unwrap();
    for part in [&rendered.subject, &rendered.text, &rendered.html] {
        let twice = repeated_word(part);
        assert_eq!(twice, None, "a word said twice in: {part}");
    }
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
fn second_factor_reset_email() {
    insta::assert_snapshot!(render(
        Kind::SecondFactorReset,
        json!({"when": "4 December 2026 at 23:50 UTC", "link": "https://peerpath.example.org/sign-in"})
    ));
}

#[test]
fn network_joined_email() {
    insta::assert_snapshot!(render(
        Kind::NetworkJoined,
        json!({"network_words": peerpath::organisations::networks::network_words("North West HCV Peers"),
               "network_scope": "local", "link": "https://peerpath.example.org/"})
    ));
    // A name that already says network is not followed by the word again.
    let words = peerpath::organisations::networks::network_words("North West Peer Network");
    assert_eq!(words, "the North West Peer Network");
    let out = render(
        Kind::NetworkJoined,
        json!({"network_words": words, "network_scope": "local", "link": "https://x.invalid/"}),
    );
    assert!(
        out.contains("member of the North West Peer Network ("),
        "{out}"
    );
    assert_eq!(
        peerpath::organisations::networks::network_words("The Peer Network"),
        "The Peer Network"
    );
}

#[test]
fn the_word_check_finds_a_repeat() {
    assert_eq!(
        repeated_word("the <b>network</b> network"),
        Some("network".into())
    );
    assert_eq!(repeated_word("Hello Robin, Robin"), Some("robin".into()));
    assert_eq!(repeated_word("<p>in peerpath</p><p>peerpath for</p>"), None);
    assert_eq!(repeated_word("a network of peers"), None);
}

#[test]
fn people_are_greeted_by_first_name_and_an_address_without_an_account_by_none() {
    let named = render_to(
        Kind::CheckinDue,
        json!({"due_on": "8 December 2026", "link": "x"}),
        Some("Robin"),
    );
    assert!(
        named.contains("Hello Robin,") && !named.contains("Okafor"),
        "{named}"
    );
    let unnamed = render_to(
        Kind::WellbeingAlert,
        json!({"worker_name": "Robin Ashworth", "supervisor_name": null,
               "supervisor_email": null, "supervisor_was_there": false}),
        None,
    );
    assert!(unnamed.contains("Hello,"), "{unnamed}");
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
    assert!(out.contains("&lt;script&gt;") && out.contains("Sam &lt;Peer&gt;"));
    // Strict undefined: a template asking for a value nobody gave fails loudly.
    let templates = Templates::load().unwrap();
    assert!(
        templates
            .render(
                Kind::Invitation,
                &Context {
                    recipient_name: "x".into(),
                    first_name: None,
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
    for call in [true, false] {
        insta::assert_snapshot!(
            format!("contact_requested_{call}"),
            render(
                Kind::ContactRequested,
                json!({"worker_name": "Robin Ashworth", "call_requested": call,
                       "link": "https://peerpath.example.org/supervisees/1/recovery"})
            )
        );
    }
}

#[test]
fn wellbeing_alert_email() {
    for (supervisor, there) in [(true, false), (true, true), (false, false)] {
        let out = render_to(
            Kind::WellbeingAlert,
            json!({"worker_name": "Robin Ashworth",
                   "supervisor_name": supervisor.then_some("Alex Supervisor"),
                   "supervisor_email": supervisor.then_some("alex@example.org"),
                   "supervisor_was_there": there}),
            None,
        );
        assert!(
            !out.contains("http"),
            "no link the contact cannot open: {out}"
        );
        insta::assert_snapshot!(format!("wellbeing_alert_{supervisor}_{there}"), out);
    }
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
