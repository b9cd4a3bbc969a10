//! A progress bar on stderr, drawn only when stderr is a terminal (indicatif).

use crate::Progress;
use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::io::IsTerminal;

/// Redraws at most this often per second; a job reports after every batch.
const REDRAWS_PER_SECOND: u8 = 5;

/// With the row count known (Parquet):
/// `[#########.....................]  31%  3,100,000 / 10,000,000 parcels  812,345/s  9s left`
const BAR: &str = "[{bar:30}] {percent:>3}%  {human_pos} / {human_len} parcels  {rate}  {eta} left";
/// Without it (CSV): `3,100,000 parcels  812,345/s  4s`
const COUNT: &str = "{human_pos} parcels  {rate}  {elapsed}";

/// A progress callback for [`crate::route_file`]: a bar with the rate and the time left on
/// stderr when stderr is a terminal, nothing otherwise (logs and pipes stay clean).
pub fn terminal_progress() -> impl FnMut(Progress) {
    // Created now, so the rate and the time left count from the start of the job, not from
    // its first report (which comes after the first batch).
    let bar = std::io::stderr().is_terminal().then(|| {
        let target = ProgressDrawTarget::stderr_with_hz(REDRAWS_PER_SECOND);
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(style(None));
        bar
    });
    let mut length_known = false;
    move |p: Progress| {
        let Some(bar) = &bar else { return };
        if let (Some(total), false) = (p.rows_total, length_known) {
            bar.set_length(total);
            bar.set_style(style(Some(total)));
            length_known = true;
        }
        bar.set_position(p.rows_done);
        if p.rows_total == Some(p.rows_done) {
            bar.finish();
        }
    }
}

/// The bar when the total is known, a count otherwise.
fn style(total: Option<u64>) -> ProgressStyle {
    let template = if total.is_some() { BAR } else { COUNT };
    // The templates are constants, checked by a test; a bad one would draw the default bar.
    ProgressStyle::with_template(template).map_or_else(|_| ProgressStyle::default_bar(), |s| s.progress_chars("#.").with_key("rate", rate))
}

/// Parcels per second, in whole parcels with thousands separators (`812,345/s`); indicatif's
/// own `{per_sec}` writes four decimals.
fn rate(state: &ProgressState, out: &mut dyn std::fmt::Write) {
    let _ = write!(out, "{}/s", HumanCount(state.per_sec() as u64));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_parse() {
        for template in [BAR, COUNT] {
            assert!(ProgressStyle::with_template(template).is_ok(), "{template}");
        }
    }
}
