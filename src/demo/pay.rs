//! The national pay tables after the one the migrations seed, up to the current year, added
//! as an admin adds a pay award: everyone on a band moves onto it from its date. 2025/26 is
//! the published award; later years are example figures, and their source says so.

use chrono::NaiveDate;

use super::uuid;
use crate::access::Actor;
use crate::error::{AppError, AppResult};
use crate::salary::{self, PointInput, TableInput};

/// Agenda for Change (England) from 1 April 2025, in pence: the 2024/25 table plus 3.6%.
const AFC_2025: &[(u8, &[i64])] = &[
    (2, &[2_446_500]),
    (3, &[2_493_700, 2_659_800]),
    (4, &[2_748_500, 3_016_200]),
    (5, &[3_104_900, 3_348_700, 3_779_600]),
    (6, &[3_868_200, 4_082_300, 4_658_000]),
];

const AFC_2025_SOURCE: &str =
    "NHS Agenda for Change pay award 2025/26 (England): 3.6% from 1 April 2025";

/// 3% on the year before, rounded to the pound.
fn example_rise(minor: i64) -> i64 {
    (minor * 103 / 100 + 50) / 100 * 100
}

/// Adds each year's table from April 2025 to the current year to every national band.
pub async fn awards(db: &crate::db::Database, admin: &Actor, today: NaiveDate) -> AppResult<()> {
    for (band, amounts) in AFC_2025 {
        let id = uuid(&salary::afc_band_id(*band))?;
        let current = salary::get_band(db, admin, id).await?;
        let years: Vec<Option<i32>> = current
            .pay_tables
            .last()
            .ok_or_else(|| AppError::internal("a national band has no pay table"))?
            .points
            .iter()
            .map(|p| p.years_to_next)
            .collect();
        let mut amounts = amounts.to_vec();
        let mut year = 2025;
        while let Some(from) = NaiveDate::from_ymd_opt(year, 4, 1).filter(|d| *d <= today) {
            let source = if year == 2025 {
                AFC_2025_SOURCE.to_string()
            } else {
                amounts = amounts.into_iter().map(example_rise).collect();
                format!(
                    "Example figures for the demo, not an official award: {}/{:02} plus 3%",
                    year - 1,
                    year % 100
                )
            };
            let points = amounts
                .iter()
                .zip(&years)
                .map(|(annual_minor, years_to_next)| PointInput {
                    annual_minor: *annual_minor,
                    years_to_next: *years_to_next,
                })
                .collect();
            salary::add_pay_table(
                db,
                admin,
                id,
                TableInput {
                    effective_from: from,
                    source: Some(source),
                    points,
                    confirm_unusual: false,
                },
            )
            .await?;
            year += 1;
        }
    }
    Ok(())
}
