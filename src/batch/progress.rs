//! The progress bar: position in input bytes (text files) or rows (xlsx), with rows, rows/s, bad rows and
//! an ETA. Hidden with `--quiet`; indicatif draws nothing when stderr is not a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::Instant;

pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    rows_at_start: u64,
}

impl Progress {
    pub fn new(show: bool, total: u64, total_is_rows: bool, rows_at_start: u64) -> Self {
        let bar = if show {
            ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        let unit = if total_is_rows {
            "{pos}/{len} rows"
        } else {
            "{bytes}/{total_bytes}"
        };
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{elapsed_precise}} [{{bar:30.cyan/blue}}] {unit} · {{msg}} · ETA {{eta}}"
            ))
            .expect("valid template")
            .progress_chars("=> "),
        );
        Self {
            bar,
            started: Instant::now(),
            rows_at_start,
        }
    }

    pub fn update(&self, position: u64, rows_done: u64, errors: u64) {
        if self.bar.position() == 0 && position > 0 {
            // A resumed run starts mid-file: measure the ETA from here.
            self.bar.set_position(position);
            self.bar.reset_eta();
        }
        self.bar.set_position(position);
        let rate = (rows_done - self.rows_at_start) as f64
            / self.started.elapsed().as_secs_f64().max(1e-9);
        self.bar.set_message(format!(
            "{rows_done} rows · {rate:.0} rows/s · {errors} bad"
        ));
    }

    pub fn finish(&self) {
        self.bar.finish();
    }
}
