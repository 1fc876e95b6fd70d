//! Keyset pagination: `limit` (default 50, at most 200) and an opaque cursor that
//! encodes the last id of the previous page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{AppError, AppResult};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page: 1 to 200, default 50.
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of a catalogue, optionally only its active (or retired) entries.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ActivePageQuery {
    /// `true`: in use; `false`: retired.
    pub active: Option<bool>,
    /// Items per page: 1 to 200, default 50.
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A validated page request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    /// Items strictly after this id.
    pub after: Option<String>,
}

impl Page {
    pub fn from_query(limit: Option<i64>, cursor: Option<&str>) -> AppResult<Self> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::bad_request(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        let after = cursor.map(decode_cursor).transpose()?;
        Ok(Self { limit, after })
    }

    /// Rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Pages a list read whole, in its own order (one worker's history: tens of rows). The
    /// cursor names the last item of the previous page; one no longer in the list is refused.
    pub fn slice<T>(&self, items: Vec<T>, id_of: impl Fn(&T) -> String) -> AppResult<Paginated<T>> {
        let start = match &self.after {
            None => 0,
            Some(after) => {
                items
                    .iter()
                    .position(|i| id_of(i) == *after)
                    .ok_or_else(|| {
                        AppError::bad_request("cursor names an item no longer in this list")
                    })?
                    + 1
            }
        };
        let rows = items
            .into_iter()
            .skip(start)
            .take(usize::try_from(self.fetch()).unwrap_or(usize::MAX))
            .collect();
        Ok(self.finish(rows, id_of))
    }

    /// Cuts the extra row off and makes the cursor from the last item kept.
    pub fn finish<T>(&self, mut rows: Vec<T>, id_of: impl Fn(&T) -> String) -> Paginated<T> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| encode_cursor(&id_of(r)))
        } else {
            None
        };
        Paginated {
            items: rows,
            next_cursor,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Paginated<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Paginated<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paginated<U> {
        Paginated {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }

    pub fn try_map<U>(self, f: impl FnMut(T) -> AppResult<U>) -> AppResult<Paginated<U>> {
        Ok(Paginated {
            items: self.items.into_iter().map(f).collect::<AppResult<_>>()?,
            next_cursor: self.next_cursor,
        })
    }
}

fn encode_cursor(id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("id:{id}"))
}

fn decode_cursor(cursor: &str) -> AppResult<String> {
    let bad = || AppError::bad_request("cursor is not one this service issued");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let id = text.strip_prefix("id:").ok_or_else(bad)?;
    uuid::Uuid::parse_str(id).map_err(|_| bad())?;
    Ok(id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_refuses_forgeries() {
        let id = uuid::Uuid::now_v7().to_string();
        let page = Page::from_query(Some(1), None).expect("page");
        let out = page.finish(vec![id.clone(), "x".into()], Clone::clone);
        let cursor = out.next_cursor.expect("a next page");
        assert_eq!(decode_cursor(&cursor).expect("decodes"), id);
        assert!(decode_cursor("not-a-cursor").is_err());
        assert!(Page::from_query(Some(0), None).is_err());
        assert!(Page::from_query(Some(201), None).is_err());
    }

    #[test]
    fn a_list_read_whole_is_paged_by_its_ids() {
        let ids: Vec<String> = (0..5).map(|_| uuid::Uuid::now_v7().to_string()).collect();
        let first = Page::from_query(Some(2), None)
            .expect("a page")
            .slice(ids.clone(), Clone::clone)
            .expect("a page");
        assert_eq!(first.items, ids[..2]);
        let cursor = first.next_cursor.expect("more");
        let second = Page::from_query(Some(2), Some(&cursor))
            .expect("a page")
            .slice(ids.clone(), Clone::clone)
            .expect("a page");
        assert_eq!(second.items, ids[2..4]);
        let last = Page::from_query(Some(2), second.next_cursor.as_deref())
            .expect("a page")
            .slice(ids.clone(), Clone::clone)
            .expect("a page");
        assert_eq!(last.items, ids[4..]);
        assert!(last.next_cursor.is_none());
        let gone = Page::from_query(Some(2), Some(&cursor))
            .expect("a page")
            .slice(ids[3..].to_vec(), Clone::clone);
        assert!(gone.is_err());
    }
}
