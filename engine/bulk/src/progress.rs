//! A progress bar on stderr, drawn only when stderr is a terminal.

use crate::Progress;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Redraws at most this often; a job reports after every batch.
const REDRAW_EVERY: Duration = Duration::from_millis(200);
const BAR_WIDTH: usize = 30;

/// A progress callback for [`crate::route_file`]: a bar with the rate and the time left on
/// stderr when stderr is a terminal, nothing otherwise (logs and pipes stay clean).
pub fn terminal_progress() -> impl FnMut(Progress) {
    let on_terminal = std::io::stderr().is_terminal();
    let started = Instant::now();
    let mut drawn: Option<Instant> = None;
    move |p: Progress| {
        if !on_terminal {
            return;
        }
        let done = p.rows_total == Some(p.rows_done);
        if !done && drawn.is_some_and(|at| at.elapsed() < REDRAW_EVERY) {
            return;
        }
        drawn = Some(Instant::now());
        let line = render(p, started.elapsed());
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}\x1b[K");
        if done {
            let _ = writeln!(err);
        }
        let _ = err.flush();
    }
}

/// `[#########.....................]  31%  3,100,000 / 10,000,000 parcels  812,345/s  9s left`
fn render(p: Progress, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    let rate = if seconds > 0.0 { p.rows_done as f64 / seconds } else { 0.0 };
    match p.rows_total {
        Some(total) if total > 0 => {
            let fraction = (p.rows_done as f64 / total as f64).min(1.0);
            let filled = (fraction * BAR_WIDTH as f64) as usize;
            let left = if rate > 0.0 { (total.saturating_sub(p.rows_done)) as f64 / rate } else { 0.0 };
            format!(
                "[{}{}] {:>3}%  {} / {} parcels  {}/s  {}s left",
                "#".repeat(filled),
                ".".repeat(BAR_WIDTH - filled),
                (fraction * 100.0) as u32,
                thousands(p.rows_done),
                thousands(total),
                thousands(rate as u64),
                left.ceil() as u64
            )
        }
        _ => format!("{} parcels  {}/s", thousands(p.rows_done), thousands(rate as u64)),
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_shows_share_rate_and_time_left() {
        let line = render(Progress { rows_done: 3_000_000, rows_total: Some(10_000_000) }, Duration::from_secs(3));
        assert_eq!(line, "[#########.....................]  30%  3,000,000 / 10,000,000 parcels  1,000,000/s  7s left");
        assert_eq!(render(Progress { rows_done: 1234, rows_total: None }, Duration::from_secs(1)), "1,234 parcels  1,234/s");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
    }
}
