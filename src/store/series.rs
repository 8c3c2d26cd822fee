//! What a time series over valid time reads (`query::timeline`): the changes of a few keys in
//! replay order and the date windows of pending events, in one ordered pass over the read
//! models (or, as known at an instant, over the log), never one state query per step.

use rusqlite::params;

use super::read::{broken, decode_fact};
use super::{Ctx, Ledger, StoreError};
use crate::date::Day;
use crate::projection::{Fact, Key, Pending};

/// The input of a series from `from` to `to`: each watched key's fact at `from`, every change of
/// a watched key after `from` up to `to` in replay order, and the window `[start, end]` (first
/// day, the day it counts from) of every live state-changing event whose date is not a single
/// day and that may be pending on some day of `[from, to]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeriesInput {
    /// Each watched key's fact at `from` (in the order the keys were given; `None`: no fact).
    pub initial: Vec<Option<Fact>>,
    /// `(day it counts from, index of the key, fact)`, in replay order, days in `(from, to]`.
    pub changes: Vec<(Day, usize, Fact)>,
    /// `(first day, last day)` of each window with `first ≤ to` and `last > from`.
    pub windows: Vec<(Day, Day)>,
}

impl Ledger {
    /// The series input for `keys` over `[from, to]` from the read models: one seek per key for
    /// its fact at `from`, then one range scan of `timeline` per key and one of `windows`.
    pub fn series_input(
        &self,
        keys: &[Key],
        from: Day,
        to: Day,
    ) -> Result<SeriesInput, StoreError> {
        self.require_projected()?;
        self.require_current()?;
        self.snapshot(|| {
            let mut out = SeriesInput::default();
            for k in keys {
                out.initial.push(self.fact_at(k, from)?);
            }
            let mut changes: Vec<(i64, i64, usize, Fact)> = Vec::new();
            let mut st = self
                .conn
                .prepare_cached(
                    "SELECT day, ord, fact FROM timeline WHERE key = ?1 AND day > ?2 AND day <= ?3 ORDER BY day, ord",
                )
                .ctx("reading the timeline")?;
            for (i, k) in keys.iter().enumerate() {
                let key = k.encode();
                let mut rows = st
                    .query(params![key, from.0 as i64, to.0 as i64])
                    .ctx("reading the timeline")?;
                while let Some(r) = rows.next().ctx("reading the timeline")? {
                    let day: i64 = r.get(0).ctx("reading the timeline")?;
                    let ord: i64 = r.get(1).ctx("reading the timeline")?;
                    let text = r.get_ref(2).ctx("reading the timeline")?;
                    let text = text.as_str().map_err(|e| StoreError::Damaged {
                        what: format!("the timeline row for {key}"),
                        why: format!("it is not text: {e}"),
                    })?;
                    changes.push((day, ord, i, decode_fact(text, || key.clone())?));
                }
            }
            // Each key's rows are in replay order; the merge puts them in one order (a key
            // changes at most once per position, so (day, ord, key) is a total order).
            changes.sort_by_key(|c| (c.0, c.1, c.2));
            out.changes = changes
                .into_iter()
                .map(|(d, _, i, f)| (Day(d as i32), i, f))
                .collect();
            let lo = from.0 as i64 - self.max_window()?;
            let mut st = self
                .conn
                .prepare_cached(
                    "SELECT start, day FROM windows INDEXED BY windows_by_start WHERE start <= ?1 AND start >= ?2 AND day > ?3",
                )
                .ctx("reading pending windows")?;
            let mut rows = st
                .query(params![to.0 as i64, lo, from.0 as i64])
                .ctx("reading pending windows")?;
            while let Some(r) = rows.next().ctx("reading pending windows")? {
                let start: i64 = r.get(0).ctx("reading pending windows")?;
                let day: i64 = r.get(1).ctx("reading pending windows")?;
                out.windows.push((Day(start as i32), Day(day as i32)));
            }
            Ok(out)
        })
    }

    /// The same input as [`Ledger::series_input`], as the ledger knew it when `max_seq` was its
    /// last event: one in-memory fold of the live events recorded by then, in replay order, up to
    /// `to` (plus the widest window, for pending events).
    pub fn series_input_until(
        &self,
        keys: &[Key],
        from: Day,
        to: Day,
        max_seq: u64,
    ) -> Result<SeriesInput, StoreError> {
        let horizon = to.0 as i64 + self.max_window()?;
        let mut proj = crate::projection::Projection::new();
        let mut out = SeriesInput {
            initial: vec![None; keys.len()],
            ..SeriesInput::default()
        };
        self.snapshot(|| {
            self.for_each_live_state_event(max_seq, horizon, |rday, seq, event| {
                if let (Some(_), Some((s, e))) = (Pending::of(seq, &event), event.effect_window()) {
                    if s < e && s <= to && e > from {
                        out.windows.push((s, e));
                    }
                }
                let Some(world) = event.world_event() else {
                    return Ok(());
                };
                if rday > to.0 as i64 {
                    return Ok(());
                }
                for (k, fact) in proj.apply(seq, world).map_err(|v| broken(seq, &v))? {
                    if let Some(i) = keys.iter().position(|x| *x == k) {
                        if rday <= from.0 as i64 {
                            out.initial[i] = Some(fact);
                        } else {
                            out.changes.push((Day(rday as i32), i, fact));
                        }
                    }
                }
                Ok(())
            })
        })?;
        Ok(out)
    }
}

impl Ledger {
    /// The first day `key` has a fact in the read models (`None`: never).
    pub fn first_change(&self, key: &Key) -> Result<Option<Day>, StoreError> {
        self.require_projected()?;
        let d: Option<i64> = self
            .conn
            .prepare_cached("SELECT min(day) FROM timeline WHERE key = ?1")
            .ctx("reading the timeline")?
            .query_row([key.encode()], |r| r.get(0))
            .ctx("reading the timeline")?;
        Ok(d.map(|d| Day(d as i32)))
    }

    /// The first seq naming `party` (`None`: none does).
    pub fn party_first_seq(&self, party: &crate::party::Party) -> Result<Option<u64>, StoreError> {
        self.require_projected()?;
        let s: Option<i64> = self
            .conn
            .prepare_cached("SELECT min(seq) FROM party_events WHERE party = ?1")
            .ctx("reading a party's events")?
            .query_row([party.code()], |r| r.get(0))
            .ctx("reading a party's events")?;
        Ok(s.map(|s| s as u64))
    }
}
