//! What a page needs to show names instead of ids: the organisation's module and
//! competency titles, and colleagues' names.

use std::collections::HashMap;

use crate::access::Actor;
use crate::competencies::framework::{self, Competency};
use crate::error::AppResult;
use crate::pagination::{MAX_LIMIT, Page};
use crate::state::AppState;
use crate::training::modules::{self, Module};
use crate::workers;

/// Names by id, with the words for an id it does not know.
pub struct Names {
    by_id: HashMap<String, String>,
    unknown: &'static str,
}

impl Names {
    pub fn get(&self, id: &str) -> String {
        self.by_id
            .get(id)
            .cloned()
            .unwrap_or_else(|| self.unknown.to_string())
    }
}

/// The organisation's modules (a catalogue is tens of modules: one page).
pub async fn modules(state: &AppState, actor: &Actor) -> AppResult<Vec<Module>> {
    let page = Page::from_query(Some(MAX_LIMIT), None)?;
    Ok(modules::list_modules(&state.db, actor, None, page)
        .await?
        .items)
}

/// The organisation's competency framework.
pub async fn competencies(state: &AppState, actor: &Actor) -> AppResult<Vec<Competency>> {
    let page = Page::from_query(Some(MAX_LIMIT), None)?;
    Ok(framework::list(&state.db, actor, None, page).await?.items)
}

pub fn module_titles(list: &[Module]) -> Names {
    Names {
        by_id: list
            .iter()
            .map(|m| (m.id.clone(), format!("{} {}", m.code, m.title)))
            .collect(),
        unknown: "A module no longer in the catalogue",
    }
}

/// Colleagues' names, by user id.
pub async fn people(state: &AppState, actor: &Actor, ids: Vec<String>) -> AppResult<Names> {
    Ok(Names {
        by_id: workers::names(&state.db, actor, ids).await?,
        unknown: "A former colleague",
    })
}
