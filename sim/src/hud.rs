//! The overlay drawn over the particles: numbers (frame time, per-system milliseconds, the
//! active strategies, the counters), a frame-time graph, a help panel listing the hotkeys and
//! what the active strategies do to memory, the memory layout panel (`layout.rs`) and short
//! notices.
//!
//! It needs no window: [`draw`] paints a [`HudState`] onto any RGBA frame, so tests and
//! screenshots see exactly what the window shows.

mod canvas;
mod layout;

use crate::bindings::BINDINGS;
use canvas::{Canvas, GLYPH, Rect, Rgb};
use engine::pages::PageSize;
use engine::particles::access::{self, Conditions};
use engine::sync::{Contention, LockStrategy};
use engine::timer::SystemTimes;
use engine::world::{StepAllocations, Strategy};
use std::collections::VecDeque;

/// Frames kept for the graph (about three seconds at 60 fps).
pub const HISTORY: usize = 180;

/// Frames averaged for the numbers, so they are steady enough to read (about half a second).
const AVERAGE: usize = 30;

const TEXT: Rgb = [225, 228, 235];
const DIM: Rgb = [140, 146, 160];
const VALUE: Rgb = [255, 214, 102];
const SIMULATE: Rgb = [255, 140, 60];
const RENDER: Rgb = [90, 210, 120];
const PRESENT: Rgb = [90, 150, 255];
const MARK: Rgb = [250, 250, 250];
const WARN: Rgb = [255, 110, 100];
const PANEL: Rgb = [8, 10, 20];
const PANEL_ALPHA: u8 = 200;

/// Where one frame's time went, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FrameSample {
    /// From the start of the previous frame to the start of this one (includes pacing).
    pub interval_ms: f32,
    /// Each system, summed over the frame's steps, in run order.
    pub systems: SystemTimes,
    /// Rasterising particles and drawing the HUD.
    pub render_ms: f32,
    /// Handing the frame to the GPU and presenting it.
    pub present_ms: f32,
    /// Fixed steps run in this frame.
    pub steps: u32,
}

impl FrameSample {
    /// All systems together.
    pub fn simulate_ms(&self) -> f32 {
        self.systems.total().as_secs_f32() * 1000.0
    }

    /// The field-by-field mean of `samples` (all zero for none).
    pub fn mean<'a>(samples: impl IntoIterator<Item = &'a FrameSample>) -> FrameSample {
        let mut sum = FrameSample::default();
        let mut n = 0u32;
        let mut steps = 0u64;
        for s in samples {
            sum.interval_ms += s.interval_ms;
            for (name, time) in s.systems.iter() {
                sum.systems.add(name, time);
            }
            sum.render_ms += s.render_ms;
            sum.present_ms += s.present_ms;
            steps += u64::from(s.steps);
            n += 1;
        }
        if n == 0 {
            return sum;
        }
        let k = n as f32;
        FrameSample {
            interval_ms: sum.interval_ms / k,
            systems: sum.systems.divided(n),
            render_ms: sum.render_ms / k,
            present_ms: sum.present_ms / k,
            steps: (steps / u64::from(n)) as u32,
        }
    }
}

/// Everything the overlay shows; the window updates it every frame.
#[derive(Clone, Debug, PartialEq)]
pub struct HudState {
    /// The numbers and the graph are drawn (F1).
    pub visible: bool,
    /// The hotkey panel is drawn (H).
    pub help: bool,
    /// The memory layout panel is drawn (I).
    pub layout: bool,
    /// Which systems that only sometimes touch the rows do now (the layout panel counts
    /// their bytes only then).
    pub conditions: Conditions,
    /// The scene's name.
    pub scene: String,
    /// Live particles.
    pub particles: usize,
    /// The particle budget.
    pub budget: u32,
    /// The strategy asked for: in effect from the next step (`pending` says whether it is yet).
    pub strategy: Strategy,
    /// A switch was requested but not applied yet (it applies at the next step).
    pub pending: bool,
    /// The simulation is paused.
    pub paused: bool,
    /// The counters' names and totals, in the simulation's order.
    pub counters: Vec<(String, u64)>,
    /// What the last step's scratch cost the global allocator.
    pub step_allocations: StepAllocations,
    /// What sharing the command buffer cost in the last step.
    pub contention: Contention,
    /// The page size of blocks of 2 MiB and more (`--pages`), or `None` while the
    /// kernel's default holds.
    pub pages: Option<PageSize>,
    /// Bytes of the process on huge pages, as the kernel last said (sampled now and then:
    /// asking walks every mapping).
    pub huge_page_bytes: Option<u64>,
    /// The frame time the window paces to, in ms (0: uncapped).
    pub target_ms: f32,
    /// The last frames, oldest first, at most [`HISTORY`].
    pub history: VecDeque<FrameSample>,
    /// A short message (a switch, an error), shown even when the HUD is hidden.
    pub notice: Option<Notice>,
}

/// A message in the notice box.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    /// The text (wrapped to the frame's width).
    pub text: String,
    /// Shown in the warning colour.
    pub error: bool,
}

impl HudState {
    /// A visible HUD with no history yet.
    pub fn new(scene: String, strategy: Strategy, target_ms: f32) -> HudState {
        HudState {
            visible: true,
            help: false,
            layout: false,
            conditions: Conditions::default(),
            scene,
            particles: 0,
            budget: 0,
            strategy,
            pending: false,
            paused: false,
            counters: Vec::new(),
            step_allocations: StepAllocations::default(),
            contention: Contention::default(),
            pages: None,
            huge_page_bytes: None,
            target_ms,
            history: VecDeque::with_capacity(HISTORY),
            notice: None,
        }
    }

    /// Appends a frame, dropping the oldest beyond [`HISTORY`].
    pub fn push(&mut self, sample: FrameSample) {
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(sample);
    }

    /// The mean of the last half second or so of frames.
    pub fn recent(&self) -> FrameSample {
        let skip = self.history.len().saturating_sub(AVERAGE);
        FrameSample::mean(self.history.iter().skip(skip))
    }
}

/// Draws `state` over `frame` (RGBA, `width * height * 4` bytes). A frame of the wrong
/// size is left alone.
pub fn draw(frame: &mut [u8], width: u32, height: u32, state: &HudState) {
    let Some(mut canvas) = Canvas::new(frame, width, height) else {
        return;
    };
    let scale = text_scale(width, height);
    if state.visible {
        stats_panel(&mut canvas, scale, state);
    }
    if state.layout {
        layout::panel(
            &mut canvas,
            scale,
            &engine::particles::particle::LAYOUT,
            state,
        );
    }
    if state.help {
        help_panel(&mut canvas, scale, &state.strategy, state.conditions);
    }
    if let Some(notice) = &state.notice {
        notice_box(&mut canvas, scale, notice);
    }
}

/// Font pixels per glyph pixel: 1x below about 1100x620, 2x up to 1440 rows (1280x720
/// and 1080p), then one more per 720 rows (HiDPI screens).
pub fn text_scale(width: u32, height: u32) -> u32 {
    if width < 1100 || height < 620 {
        1
    } else {
        (height / 720).clamp(2, 6)
    }
}

/// Lays out lines of text top to bottom.
struct Writer {
    x: i32,
    y: i32,
    scale: u32,
}

impl Writer {
    fn line_height(&self) -> i32 {
        (10 * self.scale) as i32
    }

    /// Draws coloured pieces on one line, then moves down a line.
    fn line(&mut self, canvas: &mut Canvas, pieces: &[(Rgb, &str)]) {
        let mut x = self.x;
        for (color, text) in pieces {
            x = canvas.text(x, self.y, self.scale, *color, text);
        }
        self.y += self.line_height();
    }
}

/// Columns of the stats panel (in characters).
const PANEL_COLS: u32 = 36;
/// Text lines of the stats panel.
const PANEL_LINES: u32 = 14;
/// The graph's height, in lines.
const GRAPH_LINES: u32 = 4;

fn stats_panel(canvas: &mut Canvas, scale: u32, state: &HudState) {
    let pad = (4 * scale) as i32;
    let line = 10 * scale;
    let panel = Rect::new(
        8,
        8,
        PANEL_COLS * GLYPH * scale + 2 * pad as u32,
        (PANEL_LINES + GRAPH_LINES) * line + 2 * pad as u32,
    );
    canvas.blend(panel, PANEL, PANEL_ALPHA);
    let mut w = Writer {
        x: panel.x + pad,
        y: panel.y + pad,
        scale,
    };
    let recent = state.recent();
    headline(canvas, &mut w, state, &recent);
    let graph = Rect::new(
        w.x,
        w.y,
        PANEL_COLS * GLYPH * scale,
        GRAPH_LINES * line - 2 * scale,
    );
    frame_graph(canvas, graph, state);
    w.y += (GRAPH_LINES * line) as i32;
    system_table(canvas, &mut w, &recent);
    strategy_lines(canvas, &mut w, state);
    counter_lines(canvas, &mut w, &state.counters);
    w.line(canvas, &[(DIM, "F1 hide  H help  Space pause")]);
}

fn headline(canvas: &mut Canvas, w: &mut Writer, state: &HudState, recent: &FrameSample) {
    let particles = format!(
        "{} / {}",
        compact(state.particles as u64),
        compact(u64::from(state.budget))
    );
    w.line(
        canvas,
        &[
            (TEXT, &format!("{:<12.12} ", state.scene)),
            (VALUE, &particles),
        ],
    );
    let fps = if recent.interval_ms > 0.0 {
        1000.0 / recent.interval_ms
    } else {
        0.0
    };
    let status = if state.paused { "  PAUSED" } else { "" };
    w.line(
        canvas,
        &[
            (VALUE, &format!("{fps:5.1}")),
            (TEXT, " fps "),
            (VALUE, &format!("{:6.2}", recent.interval_ms)),
            (TEXT, " ms/frame"),
            (WARN, status),
        ],
    );
}

/// Per-system milliseconds, in the colours of the graph.
fn system_table(canvas: &mut Canvas, w: &mut Writer, recent: &FrameSample) {
    let cell = |name: &str, ms: f32| format!("{name:<9}{ms:6.2}  ");
    let mut rows: Vec<(Rgb, String)> = recent
        .systems
        .iter()
        .map(|(name, time)| (SIMULATE, cell(name, time.as_secs_f32() * 1000.0)))
        .collect();
    rows.push((RENDER, cell("render", recent.render_ms)));
    rows.push((PRESENT, cell("present", recent.present_ms)));
    for pair in rows.chunks(2) {
        let pieces: Vec<(Rgb, &str)> = pair.iter().map(|(c, t)| (*c, t.as_str())).collect();
        w.line(canvas, &pieces);
    }
}

fn strategy_lines(canvas: &mut Canvas, w: &mut Writer, state: &HudState) {
    let s = state.strategy;
    w.line(
        canvas,
        &[
            (DIM, "layout "),
            (VALUE, &format!("{:<4}", s.layout.name())),
            (DIM, " lock "),
            (VALUE, s.lock.name()),
        ],
    );
    let [(a, x), (b, y)] = contention_cells(s.lock, state.contention);
    w.line(
        canvas,
        &[
            (DIM, "  "),
            (VALUE, &compact(x)),
            (DIM, &format!(" {a}  ")),
            (VALUE, &compact(y)),
            (DIM, &format!(" {b} /step")),
        ],
    );
    let pending = if state.pending { " (next step)" } else { "" };
    w.line(
        canvas,
        &[
            (DIM, "padding "),
            (VALUE, s.padding.name()),
            (DIM, " threads "),
            (VALUE, &s.threads.to_string()),
            (WARN, pending),
        ],
    );
    let a = state.step_allocations;
    w.line(
        canvas,
        &[
            (DIM, "alloc "),
            (VALUE, &format!("{:<5}", s.alloc.name())),
            (VALUE, &format!("{:>5}", compact(a.count))),
            (DIM, " allocs "),
            (VALUE, &compact(a.bytes as u64)),
            (DIM, "B/step"),
        ],
    );
    let on_huge = state.huge_page_bytes.map_or("?".to_owned(), compact);
    w.line(
        canvas,
        &[
            (DIM, "pages "),
            (
                VALUE,
                &format!("{:<7}", state.pages.map_or("default", PageSize::name)),
            ),
            (VALUE, &format!("{on_huge:>5}")),
            (DIM, "B on 2 MiB pages"),
        ],
    );
}

/// The two contention counts that explain a lock strategy's cost: what it takes per event
/// (a lock, an atomic push) and what that costs under sharing (waits, spills, merges).
fn contention_cells(lock: LockStrategy, c: Contention) -> [(&'static str, u64); 2] {
    match lock {
        LockStrategy::Mutex | LockStrategy::RwLock => [("locks", c.locks), ("waits", c.waits)],
        LockStrategy::LockFree => [("atomic pushes", c.atomic_pushes), ("spills", c.spills)],
        LockStrategy::Sharded => [("locks", c.locks), ("merges", c.merges)],
    }
}

fn counter_lines(canvas: &mut Canvas, w: &mut Writer, totals: &[(String, u64)]) {
    let cells: Vec<String> = totals
        .iter()
        .map(|(name, n)| format!("{name} {:<7}", compact(*n)))
        .collect();
    for chunk in cells.chunks(2) {
        let text = chunk.concat();
        w.line(canvas, &[(DIM, text.trim_end())]);
    }
}

/// Stacked bars, one per frame: simulate, render, present. A light mark at each frame's
/// interval shows the frame time, which can be below the stack's top because presenting
/// overlaps the simulation. Dim lines mark multiples of the target frame time; the scale
/// grows in those steps (from two) to fit most frames, and its top is labelled.
fn frame_graph(canvas: &mut Canvas, area: Rect, state: &HudState) {
    canvas.blend(area, [0, 0, 0], 120);
    let target = if state.target_ms > 0.0 {
        state.target_ms
    } else {
        1000.0 / 60.0
    };
    let top_ms = graph_top_ms(&state.history, target);
    let px_per_ms = area.h as f32 / top_ms;
    let bottom = area.y + area.h as i32;
    let height = |ms: f32| (ms * px_per_ms).clamp(0.0, area.h as f32).round() as i32;
    let bar = (area.w / HISTORY as u32).max(1);
    let first = area.x + area.w as i32 - (state.history.len() as u32 * bar) as i32;
    for (i, s) in state.history.iter().enumerate() {
        let x = first + (i as u32 * bar) as i32;
        let mut top = bottom;
        for (color, ms) in [
            (SIMULATE, s.simulate_ms()),
            (RENDER, s.render_ms),
            (PRESENT, s.present_ms),
        ] {
            let next = (top - height(ms)).max(area.y);
            canvas.fill(Rect::new(x, next, bar, (top - next) as u32), color);
            top = next;
        }
        let mark = (bottom - height(s.interval_ms)).min(bottom - 1);
        canvas.fill(Rect::new(x, mark, bar, 2), MARK);
    }
    let lines = (top_ms / target).round() as i32;
    for k in 1..lines {
        let y = bottom - height(k as f32 * target);
        canvas.blend(Rect::new(area.x, y, area.w, 1), TEXT, 90);
    }
    let label = format!("{top_ms:.0} ms");
    let w = (label.len() as u32 + 1) * GLYPH;
    canvas.blend(Rect::new(area.x, area.y, w, GLYPH + 2), [0, 0, 0], 200);
    canvas.text(area.x + 2, area.y + 1, 1, DIM, &label);
}

/// The graph's top: the smallest multiple of `target` (at least two, at most twelve) above
/// nine frames in ten, so that rare spikes clip instead of squashing the rest.
fn graph_top_ms(history: &VecDeque<FrameSample>, target: f32) -> f32 {
    let mut tops: Vec<f32> = history
        .iter()
        .map(|s| (s.simulate_ms() + s.render_ms + s.present_ms).max(s.interval_ms))
        .collect();
    tops.sort_by(f32::total_cmp);
    let typical = tops
        .get(tops.len().saturating_sub(1) * 9 / 10)
        .copied()
        .unwrap_or(0.0);
    let multiple = (typical / target).ceil();
    // NaN (from a broken sample) fails the comparison and falls back to the minimum.
    let multiple = if multiple >= 2.0 {
        multiple.min(12.0)
    } else {
        2.0
    };
    multiple * target
}

/// The widest the help panel gets, in characters.
const HELP_COLS: usize = 76;

/// The hotkeys, two to a line where they fit, then one sentence per active strategy on
/// what it does to memory; centred.
fn help_panel(canvas: &mut Canvas, scale: u32, strategy: &Strategy, conditions: Conditions) {
    let line = 10 * scale;
    let pad = 6 * scale;
    let glyph = GLYPH * scale;
    let fit = (canvas.width().saturating_sub(2 * pad + 16) / glyph) as usize;
    let cols = fit.clamp(24, HELP_COLS);
    let keys = BINDINGS.iter().map(|b| b.keys.len()).max().unwrap_or(0) + 2;
    let cell = keys + BINDINGS.iter().map(|b| b.does.len()).max().unwrap_or(0) + 2;
    let per_line = if cols >= 2 * cell { 2 } else { 1 };
    // Each sentence wrapped, its continuation lines indented.
    let mut sentences: Vec<String> = Vec::new();
    for (_, sentence) in access::teaches(strategy, conditions) {
        for (i, l) in wrap(&sentence, cols - 2, 4).into_iter().enumerate() {
            sentences.push(if i == 0 { l } else { format!("  {l}") });
        }
    }
    // Title, gap, hotkeys, footnote, gap, heading, sentences.
    let lines = BINDINGS.len().div_ceil(per_line) + sentences.len() + 5;
    let w = cols as u32 * glyph + 2 * pad;
    let h = lines as u32 * line + 2 * pad;
    let x = (canvas.width().saturating_sub(w) / 2) as i32;
    let y = (canvas.height().saturating_sub(h) / 2) as i32;
    canvas.blend(Rect::new(x, y, w, h), PANEL, 240);
    let mut writer = Writer {
        x: x + pad as i32,
        y: y + pad as i32,
        scale,
    };
    writer.line(canvas, &[(VALUE, "Hotkeys")]);
    writer.y += line as i32;
    for row in BINDINGS.chunks(per_line) {
        let cells: Vec<(Rgb, String)> = row
            .iter()
            .flat_map(|b| {
                let does = format!("{:<w$}", b.does, w = cell - keys);
                [(VALUE, format!("{:<keys$}", b.keys)), (TEXT, does)]
            })
            .collect();
        let pieces: Vec<(Rgb, &str)> = cells.iter().map(|(c, t)| (*c, t.as_str())).collect();
        writer.line(canvas, &pieces);
    }
    writer.line(canvas, &[(DIM, "(numbers: ms per frame, 0.5 s average)")]);
    writer.y += line as i32;
    writer.line(
        canvas,
        &[(VALUE, "What the active strategies do to memory")],
    );
    for l in &sentences {
        writer.line(canvas, &[(TEXT, l)]);
    }
}

/// The notice, near the bottom, centred, wrapped to the frame (at most four lines).
fn notice_box(canvas: &mut Canvas, scale: u32, notice: &Notice) {
    let glyph = GLYPH * scale;
    let pad = 6 * scale;
    let max_cols = (canvas.width().saturating_sub(2 * pad + 16) / glyph).max(1) as usize;
    let lines = wrap(&notice.text, max_cols, 4);
    let cols = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0) as u32;
    let line = 10 * scale;
    let w = cols * glyph + 2 * pad;
    let h = lines.len() as u32 * line + 2 * pad;
    let x = (canvas.width().saturating_sub(w) / 2) as i32;
    let y = canvas.height() as i32 - h as i32 - (16 * scale) as i32;
    canvas.blend(Rect::new(x, y, w, h), PANEL, 220);
    let color = if notice.error { WARN } else { VALUE };
    let mut writer = Writer {
        x: x + pad as i32,
        y: y + pad as i32,
        scale,
    };
    for l in &lines {
        writer.line(canvas, &[(color, l)]);
    }
}

/// Splits `text` into lines of at most `cols` characters (at spaces where possible), keeping
/// at most `max_lines`.
fn wrap(text: &str, cols: usize, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        for piece in chunks(word, cols) {
            let needed =
                current.chars().count() + usize::from(!current.is_empty()) + piece.chars().count();
            if !current.is_empty() && needed > cols {
                lines.push(std::mem::take(&mut current));
            }
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(&piece);
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines.truncate(max_lines);
    lines
}

/// `word` cut into pieces of at most `cols` characters.
fn chunks(word: &str, cols: usize) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    chars
        .chunks(cols.max(1))
        .map(|c| c.iter().collect())
        .collect()
}

/// A count in at most five characters: as is up to 9999, then three significant digits and
/// an SI suffix (12.3k, 123k, 4.56M, ... 18.4E for `u64::MAX`). Rounds half up; a count that
/// rounds to 1000 of a unit is shown in the next one (999 950 is 1.00M, not 1000k).
pub fn compact(n: u64) -> String {
    if n < 10_000 {
        return n.to_string();
    }
    let digits = n.ilog10() + 1;
    // n ~ mantissa * 10^shift, with a three-digit mantissa (exact integer arithmetic).
    let mut shift = digits - 3;
    let scale = 10u64.pow(shift);
    let mut mantissa = n / scale + u64::from(n % scale >= scale.div_ceil(2));
    if mantissa == 1000 {
        mantissa = 100;
        shift += 1;
    }
    // The shown value has shift + 3 integer digits: 1 to 3 of them before the suffix.
    let unit = shift.div_ceil(3);
    let whole = (shift + 3 - 3 * unit) as usize;
    let suffix = ["k", "M", "G", "T", "P", "E"][unit as usize - 1];
    let m = mantissa.to_string();
    if whole == 3 {
        format!("{m}{suffix}")
    } else {
        format!("{}.{}{suffix}", &m[..whole], &m[whole..])
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const W: u32 = 1280;
    const H: u32 = 720;

    fn blank() -> Vec<u8> {
        [0u8, 0, 0, 255].repeat((W * H) as usize)
    }

    /// The preset's systems with these milliseconds.
    pub fn systems(ms: &[f32]) -> SystemTimes {
        let names = ["grid", "forces", "apply", "integrate", "age", "emit"];
        names
            .into_iter()
            .zip(ms)
            .map(|(n, ms)| (n, std::time::Duration::from_secs_f32(ms / 1000.0)))
            .collect()
    }

    fn state() -> HudState {
        let mut s = HudState::new("default".into(), Strategy::default(), 1000.0 / 60.0);
        s.particles = 123_456;
        s.budget = 1_000_000;
        for i in 0..HISTORY + 20 {
            s.push(FrameSample {
                interval_ms: 16.7,
                systems: systems(&[0.1, 0.2, 0.3, 2.0 + (i % 3) as f32, 1.0, 0.4]),
                render_ms: 3.0,
                present_ms: 9.5,
                steps: 2,
            });
        }
        s
    }

    /// Pixels in the rectangle whose colour is exactly `color`.
    fn count(frame: &[u8], rect: Rect, color: Rgb) -> usize {
        let mut n = 0;
        for y in rect.y..rect.y + rect.h as i32 {
            for x in rect.x..rect.x + rect.w as i32 {
                let i = ((y as u32 * W + x as u32) * 4) as usize;
                n += usize::from(frame[i..i + 3] == color);
            }
        }
        n
    }

    fn render(state: &HudState) -> Vec<u8> {
        let mut frame = blank();
        draw(&mut frame, W, H, state);
        frame
    }

    #[test]
    fn the_panel_shows_text_top_left_and_leaves_the_rest_alone() {
        let frame = render(&state());
        // The first line (scene name, white at 2x) starts at (8 + 8, 8 + 8).
        assert!(count(&frame, Rect::new(16, 16, 7 * 16, 16), TEXT) > 100);
        // Particle count in the value colour on the same line.
        assert!(count(&frame, Rect::new(16 + 13 * 16, 16, 6 * 16, 16), VALUE) > 50);
        // Far from the panel, nothing is touched.
        assert_eq!(
            count(&frame, Rect::new(700, 300, 500, 300), [0, 0, 0]),
            500 * 300
        );
    }

    #[test]
    fn the_graph_stacks_each_phase_in_its_colour() {
        let frame = render(&state());
        let graph = Rect::new(16, 16 + 40, 36 * 16, 78);
        for color in [SIMULATE, RENDER, PRESENT] {
            assert!(count(&frame, graph, color) > 1000, "{color:?}");
        }
    }

    #[test]
    fn the_strategy_text_changes_with_the_strategy() {
        let mut s = state();
        let before = render(&s);
        s.strategy.layout = s.strategy.layout.toggled();
        let after = render(&s);
        let changed = before
            .chunks(4)
            .zip(after.chunks(4))
            .filter(|(a, b)| a != b);
        assert!(changed.count() > 50);
    }

    #[test]
    fn hidden_hud_draws_nothing_but_help_and_notices_still_show() {
        let mut s = state();
        s.visible = false;
        assert_eq!(render(&s), blank());
        s.help = true;
        let frame = render(&s);
        let middle = Rect::new(W as i32 / 2 - 300, 150, 600, 420);
        assert!(count(&frame, middle, TEXT) > 500, "help text in the middle");
        s.help = false;
        s.notice = Some(Notice {
            text: "switch: layout -> aos".into(),
            error: false,
        });
        let frame = render(&s);
        let bottom = Rect::new(0, H as i32 - 120, W, 120);
        assert!(count(&frame, bottom, VALUE) > 200, "notice near the bottom");
    }

    /// Pixels that differ between two frames inside `rect`.
    fn changed(a: &[u8], b: &[u8], rect: Rect) -> usize {
        let mut n = 0;
        for y in rect.y..rect.y + rect.h as i32 {
            for x in rect.x..rect.x + rect.w as i32 {
                let i = ((y as u32 * W + x as u32) * 4) as usize;
                n += usize::from(a[i..i + 4] != b[i..i + 4]);
            }
        }
        n
    }

    #[test]
    fn the_layout_panel_draws_rows_and_columns_top_right() {
        let mut s = state();
        let before = render(&s);
        s.layout = true;
        let after = render(&s);
        let right = Rect::new(W as i32 - 640, 0, 640, 600);
        assert!(
            changed(&before, &after, right) > 20_000,
            "the panel is drawn"
        );
        let left = Rect::new(0, 0, 600, H);
        assert_eq!(
            changed(&before, &after, left),
            0,
            "the stats panel is left alone"
        );
        // The position field's blocks: in 5 AoS lines and its SoA line.
        let position = layout::column_color(1);
        assert!(count(&after, right, position) > 2000);
        assert_eq!(count(&before, right, position), 0);
        // The live numbers follow the layout.
        s.strategy.layout = s.strategy.layout.toggled();
        assert!(changed(&after, &render(&s), right) > 500);
    }

    #[test]
    fn the_help_says_what_the_active_strategies_do() {
        let mut s = state();
        s.help = true;
        let before = render(&s);
        s.strategy.lock = s.strategy.lock.next();
        let after = render(&s);
        assert!(
            changed(&before, &after, Rect::new(0, 0, W, H)) > 500,
            "another lock, another sentence"
        );
    }

    #[test]
    fn a_frame_of_the_wrong_size_is_left_alone() {
        let mut frame = vec![7u8; 100];
        draw(&mut frame, W, H, &state());
        assert_eq!(frame, vec![7u8; 100]);
    }

    #[test]
    fn tiny_frames_and_long_notices_do_not_panic() {
        let mut s = state();
        s.help = true;
        s.notice = Some(Notice {
            text: "x".repeat(10_000),
            error: true,
        });
        for (w, h) in [(1, 1), (3, 700), (700, 3), (64, 48)] {
            let mut frame = vec![0u8; (w * h * 4) as usize];
            draw(&mut frame, w, h, &s);
        }
    }

    #[test]
    fn history_is_bounded_and_averaged() {
        let s = state();
        assert_eq!(s.history.len(), HISTORY);
        let recent = s.recent();
        assert!((recent.interval_ms - 16.7).abs() < 1e-3);
        assert_eq!(recent.steps, 2);
        assert_eq!(FrameSample::mean([]), FrameSample::default());
    }

    #[test]
    fn wraps_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("ab cd ef", 5, 9), ["ab cd", "ef"]);
        assert_eq!(wrap("abcdefg", 3, 9), ["abc", "def", "g"]);
        assert_eq!(wrap("a b c d e", 1, 2), ["a", "b"]);
    }

    #[test]
    fn the_graph_scale_fits_most_frames_in_target_steps() {
        let target = 10.0;
        let mut h: VecDeque<FrameSample> = VecDeque::new();
        assert_eq!(graph_top_ms(&h, target), 20.0);
        for ms in [5.0, 25.0, 31.0, 35.0, 38.0, 35.0, 35.0, 35.0, 35.0, 500.0] {
            h.push_back(FrameSample {
                interval_ms: ms,
                ..FrameSample::default()
            });
        }
        assert_eq!(graph_top_ms(&h, target), 40.0, "the 500 ms spike clips");
        h.iter_mut().for_each(|s| s.interval_ms = f32::NAN);
        assert_eq!(graph_top_ms(&h, target), 20.0);
        h.iter_mut().for_each(|s| s.interval_ms = 1e9);
        assert_eq!(graph_top_ms(&h, target), 120.0);
    }

    #[test]
    fn text_grows_with_the_frame() {
        assert_eq!(text_scale(800, 500), 1);
        assert_eq!(text_scale(1280, 720), 2);
        assert_eq!(text_scale(1920, 1080), 2);
        assert_eq!(text_scale(2560, 1440), 2);
        assert_eq!(text_scale(3840, 2160), 3);
        assert_eq!(text_scale(u32::MAX, u32::MAX), 6);
    }

    #[test]
    fn counts_are_compact() {
        assert_eq!(compact(0), "0");
        assert_eq!(compact(9_999), "9999");
        assert_eq!(compact(10_000), "10.0k");
        assert_eq!(compact(12_345), "12.3k");
        assert_eq!(compact(123_456), "123k");
        assert_eq!(compact(999_499), "999k");
        assert_eq!(compact(999_500), "1.00M");
        assert_eq!(compact(4_560_000), "4.56M");
        assert_eq!(compact(999_999_999), "1.00G");
        assert_eq!(compact(7_890_000_000), "7.89G");
        assert_eq!(compact(u64::MAX), "18.4E");
        // At most five characters, and within half a unit of the last digit shown.
        let mut n = 1u64;
        while n < u64::MAX / 3 {
            for m in [n, n * 2 - 1, n * 3 - 1] {
                let s = compact(m);
                assert!(s.len() <= 5, "{m} -> {s}");
                let (num, suffix) =
                    s.split_at(s.find(|c: char| c.is_alphabetic()).unwrap_or(s.len()));
                let unit = ["", "k", "M", "G", "T", "P", "E"]
                    .iter()
                    .position(|u| *u == suffix)
                    .unwrap();
                let shown: f64 = num.parse::<f64>().unwrap() * 1e3f64.powi(unit as i32);
                assert!((shown - m as f64).abs() <= m as f64 * 5e-3, "{m} -> {s}");
            }
            n = n * 10 + 7;
        }
    }
}
